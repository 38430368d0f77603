#!/usr/bin/env python3
"""Checks a junit.xml that coldsec wrote (src/junit.c).

1. xmllint validates it against schemas/junit.xsd (well-formed XML 1.0, only
   the elements and attributes Jenkins and GitLab read, see the schema);
2. xml.etree.ElementTree parses it, and the counts must add up: a suite's
   tests = its test cases, failures / errors / skipped = its test cases with
   that element; the root's counts are the sums over the suites; times add
   up to rounding.

Prints one JSON line:
  {"tests":N,"failures":N,"errors":N,"skipped":N,"suites":N,
   "cases":[{"suite":..,"name":..,"failure":bool,"error":bool}]}
and exits 0; on any problem prints "check_junit: FILE: why" to stderr and
exits 1 (2 for a usage error).

Usage: tests/tools/check_junit.py FILE
"""
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "schemas", "junit.xsd")
COUNTS = ("tests", "failures", "errors", "skipped")


class Problem(Exception):
    pass


def count_attr(el, name, where):
    value = el.get(name)
    if value is None or not value.isdigit():
        raise Problem(f"{where}: {name}={value!r} is not a count")
    return int(value)


def seconds(el, where):
    try:
        return float(el.get("time"))
    except (TypeError, ValueError):
        raise Problem(f"{where}: time={el.get('time')!r} is not a number") from None


def close(a, b, terms):
    # each written time is rounded to the millisecond
    return abs(a - b) <= 0.0005 * (terms + 1) + 1e-9


def validate(path):
    if shutil.which("xmllint") is None:
        raise Problem("xmllint is missing (apt-get install libxml2-utils)")
    run = subprocess.run(["xmllint", "--noout", "--nonet", "--schema", SCHEMA, path],
                         capture_output=True, text=True, errors="replace", check=False)
    if run.returncode != 0:
        lines = [line for line in run.stderr.splitlines() if line.strip()]
        raise Problem("does not validate against schemas/junit.xsd:\n  " + "\n  ".join(lines[:20]))


def check(path):
    with open(path, "rb") as f:
        data = f.read()
    # A DTD could define entities; coldsec never writes one.
    if b"<!DOCTYPE" in data:
        raise Problem("has a DOCTYPE")
    validate(path)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise Problem(f"not well-formed: {e}") from None
    if root.tag != "testsuites":
        raise Problem(f"the root is <{root.tag}>, not <testsuites>")

    totals = dict.fromkeys(COUNTS, 0)
    suite_time = 0.0
    cases = []
    suites = root.findall("testsuite")
    for si, suite in enumerate(suites):
        name = suite.get("name")
        where = f"testsuite {si + 1} ({name})"
        seen = dict.fromkeys(COUNTS, 0)
        case_time = 0.0
        testcases = suite.findall("testcase")
        for case in testcases:
            kinds = [k for k in ("failure", "error", "skipped") if case.find(k) is not None]
            if len(kinds) > 1 or any(len(case.findall(k)) > 1 for k in kinds):
                raise Problem(f"{where}: test case {case.get('name')!r} has more than one of {kinds}")
            seen["tests"] += 1
            seen["failures"] += "failure" in kinds
            seen["errors"] += "error" in kinds
            seen["skipped"] += "skipped" in kinds
            case_time += seconds(case, f"{where}, test case {case.get('name')!r}")
            cases.append({"suite": name, "name": case.get("name"),
                          "failure": "failure" in kinds, "error": "error" in kinds})
        for k in COUNTS:
            said = count_attr(suite, k, where)
            if said != seen[k]:
                raise Problem(f"{where}: {k}={said} but its test cases give {seen[k]}")
            totals[k] += said
        t = seconds(suite, where)
        if not close(t, case_time, len(testcases)):
            raise Problem(f"{where}: time={t} but its test cases add up to {case_time:.3f}")
        suite_time += t

    for k in COUNTS:
        said = count_attr(root, k, "testsuites")
        if said != totals[k]:
            raise Problem(f"testsuites: {k}={said} but its suites add up to {totals[k]}")
    t = seconds(root, "testsuites")
    if not close(t, suite_time, len(suites)):
        raise Problem(f"testsuites: time={t} but its suites add up to {suite_time:.3f}")
    return {**totals, "suites": len(suites), "cases": cases}


def main(argv):
    if len(argv) != 2:
        print("usage: check_junit.py FILE", file=sys.stderr)
        return 2
    path = argv[1]
    try:
        result = check(path)
    except (Problem, OSError) as e:
        print(f"check_junit: {path}: {e}", file=sys.stderr)
        return 1
    print(json.dumps(result, separators=(",", ":"), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
