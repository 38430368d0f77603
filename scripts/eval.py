#!/usr/bin/env python3
"""coldsec's evaluation on code it was not written for (`make eval`).

Runs every function of eval/corpus/ and every sample of the default suite
through `coldsec run` with all six code scenarios, several times (each run
with its own seed and --jobs), and scores the findings against what each
function is known to be (eval/README.md): per class, recall (a weakness counts as found only
when every run found it at medium or above) and false positives (a finding
at medium or above in a class the function neither expects nor allows, in
any run). Prints the table, writes it to OUT/eval.md and exits 0 only with
full recall and no false positive.

Usage: scripts/eval.py [--quick] [--runs SEED:JOBS,...] [--only NAME]... [--no-samples]
                       [--build build] [--out build/eval]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CODE_SCENARIOS = ["cross-user-leak", "injection-persistence", "tmp-residue", "memory-growth",
                  "secret-exposure", "concurrent-state"]
# Needs several requests at once in one environment (Managed Instances):
# "not applicable" elsewhere, and must say so (never "passed").
CONCURRENT = "concurrent-state"
SEVERITIES = ["info", "low", "medium", "high", "critical"]
GATE = "medium"
# --jobs 1 once (no load) and --jobs 4 with three seeds (the load under which
# verdicts used to flip): a verdict must change with neither.
DEFAULT_RUNS = "1:1,1:4,2:4,3:4"
EVAL_KEYS = {"runtime", "handler", "memory_mb", "timeout_s", "ephemeral_storage_mb", "environment",
             "max_concurrency", "envelope", "baseline", "expect", "allow", "style", "why"}
# Lambda's default /tmp is 512 MB; the /tmp fill sends 1.25 times the size, so
# the corpus gets 64 MB unless it asks: the proof does not depend on the size.
EPHEMERAL_MB = 64


class EvalError(Exception):
    pass


def load_corpus(corpus_dir):
    """The corpus' functions: [{name, lab, target, expect, allow, why}]."""
    out = []
    for name in sorted(os.listdir(corpus_dir)):
        path = os.path.join(corpus_dir, name, "eval.json")
        if not os.path.isfile(path):
            continue
        try:
            with open(path, encoding="utf-8") as f:
                e = json.load(f)
        except json.JSONDecodeError as ex:
            raise EvalError(f"{path}:{ex.lineno}:{ex.colno}: {ex.msg}") from ex
        unknown = sorted(set(e) - EVAL_KEYS)
        if unknown:
            raise EvalError(f"{path}: unknown key {unknown[0]!r} (known: {', '.join(sorted(EVAL_KEYS))})")
        for k in ("runtime", "handler", "baseline", "expect"):
            if k not in e:
                raise EvalError(f"{path}: missing {k!r}")
        for k in ("expect", "allow"):
            bad = [c for c in e.get(k, []) if c not in CODE_SCENARIOS]
            if bad:
                raise EvalError(f"{path}: {k}: {bad[0]!r} is not one of {', '.join(CODE_SCENARIOS)}")
        lab = {"name": name, "runtime": e["runtime"], "handler": e["handler"],
               "code": os.path.join(corpus_dir, name), "memory_mb": e.get("memory_mb", 128),
               "timeout_s": e.get("timeout_s", 3),
               "ephemeral_storage_mb": e.get("ephemeral_storage_mb", EPHEMERAL_MB)}
        if e.get("environment"):
            lab["environment"] = e["environment"]
        if "max_concurrency" in e:
            lab["max_concurrency"] = e["max_concurrency"]
        target = {"function": name, "baseline": e["baseline"], "scenarios": CODE_SCENARIOS}
        if e.get("envelope", "raw") != "raw":
            target["envelope"] = e["envelope"]
        out.append({"name": name, "lab": lab, "target": target, "expect": list(e["expect"]),
                    "allow": list(e.get("allow", [])), "why": e.get("why", ""), "kind": "corpus",
                    "concurrency": e.get("max_concurrency", 1)})
    return out


def load_samples(suite_path, lab_path):
    """The default suite's code samples with all six code scenarios. A
    sample's class is the scenario its name begins with; a hardened twin
    expects nothing."""
    with open(suite_path, encoding="utf-8") as f:
        suite = yaml.safe_load(f)
    with open(lab_path, encoding="utf-8") as f:
        lab = yaml.safe_load(f)
    lab_dir = os.path.dirname(os.path.abspath(lab_path))
    by_name = {f["name"]: f for f in lab["functions"]}
    out = []
    for t in suite["targets"]:
        name = t["function"]
        cls = next((c for c in CODE_SCENARIOS if name.startswith(c + "-")), None)
        if cls is None:  # the config samples have no code weakness to score
            continue
        f = dict(by_name[name])
        f["code"] = os.path.normpath(os.path.join(lab_dir, f["code"]))
        target = {k: v for k, v in t.items() if k in ("function", "envelope", "baseline")}
        target["scenarios"] = CODE_SCENARIOS
        # CLASS-LANG-KIND or CLASS-LANG-KIND-VARIANT (scripts/matrix.py)
        vulnerable = re.search(r"-vulnerable(-[a-z0-9]+)?$", name) is not None
        # the /tmp samples show earlier callers' rows to later callers, and
        # the concurrent-state ones one caller's data to a caller in flight
        # at the same time: a cross-user leak as much as their own class
        allow = ["cross-user-leak"] if vulnerable and cls in ("tmp-residue", CONCURRENT) else []
        out.append({"name": name, "lab": f, "target": target,
                    "expect": [cls] if vulnerable else [], "allow": allow,
                    "why": "sample", "kind": "sample", "concurrency": f.get("max_concurrency", 1)})
    return out


def write_suite(functions, out_dir, lab_meta):
    os.makedirs(out_dir, exist_ok=True)
    lab = {"region": lab_meta.get("region", "us-east-1"),
           "account_id": str(lab_meta.get("account_id", "000000000000")),
           "functions": [f["lab"] for f in functions]}
    lab_path = os.path.join(out_dir, "functions.yaml")
    with open(lab_path, "w", encoding="utf-8") as f:
        f.write("# written by scripts/eval.py: the corpus and the samples\n")
        yaml.safe_dump(lab, f, sort_keys=False, width=120)
    # The default protect pattern (*prod*) refuses "product-..." too: here
    # "prod" must be a whole part of the name.
    suite = {"version": 1, "seed": 1, "fail_on": GATE, "lab": {"config": "functions.yaml"},
             "protect": ["prod", "prod-*", "*-prod", "*-prod-*", "*production*"],
             "targets": [f["target"] for f in functions]}
    suite_path = os.path.join(out_dir, "suite.yaml")
    with open(suite_path, "w", encoding="utf-8") as f:
        f.write("# written by scripts/eval.py: every function with the six code scenarios\n")
        yaml.safe_dump(suite, f, sort_keys=False, width=120)
    return suite_path


def at_or_above_gate(sev):
    return SEVERITIES.index(sev) >= SEVERITIES.index(GATE)


def run_summary(report):
    """{target: {"classes": {class: [assertion, ...]}, "untested": [scenario: detail]}} of one
    report.json: the classes found at medium or above, and what could not be tested."""
    out = {}
    for r in report.get("results", []):
        t = out.setdefault(r["target"], {"classes": {}, "untested": [], "statuses": {}})
        t["statuses"][r["scenario"]] = r["status"]
        if r["status"] not in ("passed", "findings", "not_applicable"):
            t["untested"].append(f"{r['scenario']}: {r['status']} {r.get('detail', '')}".strip())
    for fd in report.get("findings", []):
        if not at_or_above_gate(fd["severity"]):
            continue
        t = out.setdefault(fd["target"], {"classes": {}, "untested": [], "statuses": {}})
        t["classes"].setdefault(fd["class"], []).append(f"{fd['scenario']}/{fd['assertion']} {fd['severity']}")
    return out


def score(functions, reports):
    """Scores the runs: reports is [(label, report.json dict)]. Returns
    {"classes": {class: {"expected": [...], "found": [...], "missed": {name: why}}},
     "false_positives": {name: [label: class via assertion]}, "untested": {name: [...]}}."""
    runs = [(label, run_summary(rep)) for label, rep in reports]
    classes = {c: {"expected": [], "found": [], "missed": {}} for c in CODE_SCENARIOS}
    fps, untested = {}, {}
    for fn in functions:
        name = fn["name"]
        for label, summ in runs:
            got = summ.get(name)
            if got is None:
                untested.setdefault(name, []).append(f"{label}: not in the report")
                continue
            for u in got["untested"]:
                untested.setdefault(name, []).append(f"{label}: {u}")
            # concurrent-state applies exactly where one environment serves
            # several requests at once; anything else is a wrong verdict
            applicable = fn.get("concurrency", 1) > 1
            for sc, st in got["statuses"].items():
                if (st == "not_applicable") == (applicable if sc == CONCURRENT else True):
                    untested.setdefault(name, []).append(
                        f"{label}: {sc}: {st} on a function with max concurrency {fn.get('concurrency', 1)}")
            for cls, why in sorted(got["classes"].items()):
                if cls not in fn["expect"] and cls not in fn["allow"]:
                    fps.setdefault(name, []).append(f"{label}: {cls} ({'; '.join(why)})")
        for cls in fn["expect"]:
            c = classes[cls]
            c["expected"].append(name)
            missing = [label for label, summ in runs if cls not in summ.get(name, {"classes": {}})["classes"]]
            if missing:
                c["missed"][name] = f"missed in {len(missing)} of {len(runs)} runs ({', '.join(missing)})"
            else:
                c["found"].append(name)
    return {"classes": classes, "false_positives": fps, "untested": untested}


def passed(result):
    return (not result["false_positives"] and not result["untested"]
            and all(not c["missed"] for c in result["classes"].values()))


def render(result, functions, command, timings):
    """The evaluation as Markdown."""
    controls = [f["name"] for f in functions if not f["expect"]]
    corpus = [f for f in functions if f["kind"] == "corpus"]
    lines = [f"Command: `{command}`", "",
             f"{len(functions)} functions ({len(corpus)} corpus, {len(functions) - len(corpus)} samples), "
             f"{len(controls)} of them controls; runs: "
             + ", ".join(f"{label} {secs:.0f} s" for label, secs in timings) + ".", "",
             "| class | weaknesses | found in every run | recall | missed |",
             "|---|---|---|---|---|"]
    for cls in CODE_SCENARIOS:
        c = result["classes"][cls]
        n, k = len(c["expected"]), len(c["found"])
        recall = f"{100 * k / n:.0f} %" if n else "-"
        missed = "; ".join(f"{name} ({why})" for name, why in sorted(c["missed"].items())) or "none"
        lines.append(f"| {cls} | {n} | {k} | {recall} | {missed} |")
    fp = result["false_positives"]
    lines += ["", f"False positives (medium or above, a class the function neither expects nor allows): "
              f"{len(fp)} of {len(functions)} functions"
              + (f", {len([n for n in fp if n in controls])} of {len(controls)} controls" if controls else "")]
    for name in sorted(fp):
        lines.append(f"- {name}: " + "; ".join(fp[name]))
    if result["untested"]:
        lines += ["", "Not tested:"]
        for name in sorted(result["untested"]):
            lines.append(f"- {name}: " + "; ".join(result["untested"][name]))
    return "\n".join(lines) + "\n"


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="one run: seed 1, --jobs 4")
    ap.add_argument("--runs", default=DEFAULT_RUNS, help=f"seed:jobs pairs (default {DEFAULT_RUNS})")
    ap.add_argument("--only", action="append", default=[], help="only this function (repeatable)")
    ap.add_argument("--no-samples", action="store_true", help="the corpus only")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "eval"))
    a = ap.parse_args(argv)
    try:
        plan = [tuple(int(x) for x in p.split(":")) for p in ("1:4" if a.quick else a.runs).split(",")]
        if any(len(p) != 2 or p[1] < 1 for p in plan):
            raise ValueError
    except ValueError:
        print(f"eval: --runs {a.runs}: expected SEED:JOBS pairs such as 1:1,2:4", file=sys.stderr)
        return 2
    try:
        functions = load_corpus(os.path.join(ROOT, "eval", "corpus"))
        if not a.no_samples:
            functions += load_samples(os.path.join(ROOT, "scenarios.yaml"),
                                      os.path.join(ROOT, "harness", "functions.yaml"))
    except EvalError as ex:
        print(f"eval: {ex}", file=sys.stderr)
        return 2
    if a.only:
        unknown = sorted(set(a.only) - {f["name"] for f in functions})
        if unknown:
            print(f"eval: --only {unknown[0]}: no such function", file=sys.stderr)
            return 2
        functions = [f for f in functions if f["name"] in a.only]
    with open(os.path.join(ROOT, "harness", "functions.yaml"), encoding="utf-8") as f:
        lab_meta = yaml.safe_load(f)
    suite = write_suite(functions, a.out, lab_meta)
    coldsec = os.path.join(a.build, "coldsec")
    reports, timings = [], []
    for seed, j in plan:
        label = f"seed {seed} jobs {j}"
        out = os.path.join(a.out, "runs", f"seed{seed}-jobs{j}")
        shutil.rmtree(out, ignore_errors=True)
        cmd = [coldsec, "run", suite, "--scenario-dir", os.path.join(ROOT, "scenarios"),
               "--seed", str(seed), "--jobs", str(j), "--out", out, "--quiet", "--format", "json"]
        print(f"eval: {label}: {len(functions)} functions x {len(CODE_SCENARIOS)} scenarios",
              file=sys.stderr, flush=True)
        # the lab's state folders (log streams) go to a TMPDIR of the run's
        # own, removed after: an evaluation leaves nothing in /tmp
        tmp = os.path.join(out, "tmp")
        os.makedirs(tmp)
        t0 = time.monotonic()
        rc = subprocess.run(cmd, stdout=subprocess.DEVNULL, check=False,
                            env=dict(os.environ, TMPDIR=tmp)).returncode
        shutil.rmtree(tmp, ignore_errors=True)
        timings.append((label, time.monotonic() - t0))
        runs = os.listdir(out)
        if rc not in (0, 1) or len(runs) != 1:
            print(f"eval: {label}: coldsec run exited {rc} ({' '.join(cmd)})", file=sys.stderr)
        if len(runs) != 1:
            return 3
        # a partial run still wrote its report: it is scored, what it missed marked untested
        with open(os.path.join(out, runs[0], "report.json"), encoding="utf-8") as f:
            reports.append((label, json.load(f)))
    result = score(functions, reports)
    command = "make eval" if not argv else "scripts/eval.py " + " ".join(argv)
    text = render(result, functions, command, timings)
    with open(os.path.join(a.out, "eval.md"), "w", encoding="utf-8") as f:
        f.write(text)
    with open(os.path.join(a.out, "eval.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1, sort_keys=True)
    print(text, end="")
    return 0 if passed(result) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
