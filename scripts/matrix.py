#!/usr/bin/env python3
"""Prints the vulnerable/hardened matrix of a coldsec report of the default
suite and checks it: every -vulnerable sample has a finding of its own
class at medium or above, no -hardened twin has any finding at medium or
above. Exit 0 when that holds, 1 when not.

A sample's name is CLASS-LANG-KIND, optionally followed by -VARIANT
(concurrent-state-node-vulnerable-buffer): every variant counts in the
CLASS/LANG/KIND cell, which is good only when each of them is (a
vulnerable cell shows the least severity among its variants, a NOT FOUND
cell names the variants without a finding; "base" is the variant without a
suffix).

usage: scripts/matrix.py reports/RUN/report.json
"""
import json
import re
import sys

SEVERITY = ["info", "low", "medium", "high", "critical"]
CLASSES = ("injection-persistence", "cross-user-leak", "tmp-residue", "memory-growth", "secret-exposure",
           "concurrent-state", "config")
SAMPLE_RE = re.compile(r"(.+)-(python|node)-(vulnerable|hardened)(?:-([a-z0-9]+))?$")
# (lang, kind, column width), in print order
COLUMNS = (("python", "vulnerable", 20), ("python", "hardened", 18), ("node", "vulnerable", 18),
           ("node", "hardened", 16))


def parse(target):
    """(class, lang, kind, variant) of a sample name, variant "" when it has
    no suffix; None for a target that is not a sample."""
    m = SAMPLE_RE.match(target)
    if not m:
        return None
    cls, lang, kind, variant = m.groups()
    return cls, lang, kind, variant or ""


def cell(kind, variants, worst, loud):
    """(text, good) of one cell: variants are the sample names in it."""
    if kind == "vulnerable":
        missing = [v for v in variants if worst.get(v, -1) < 2]
        if missing:
            labels = [parse(v)[3] or "base" for v in missing]
            text = "NOT FOUND" if len(variants) == 1 else "NOT FOUND " + ",".join(labels)
            return text, False
        return SEVERITY[min(worst[v] for v in variants)], True
    noisy = [c for v in variants for c in loud.get(v, [])]
    if noisy:
        return "FINDING " + ",".join(noisy), False
    return "clean", True


def matrix(report):
    """(lines, ok): the matrix of a report (parsed report.json) and whether
    it is as expected."""
    worst = {}      # target -> worst severity of a finding of the sample's own class
    loud = {}       # target -> classes of its findings at medium or above
    cells = {}      # (class, lang, kind) -> sample names in that cell, in suite order
    for r in report["results"]:
        p = parse(r["target"])
        if p:
            names = cells.setdefault(p[:3], [])
            if r["target"] not in names:
                names.append(r["target"])
    for f in report["findings"]:
        p = parse(f["target"])
        if not p:
            continue
        rank = SEVERITY.index(f["severity"])
        if f["class"] == p[0]:
            worst[f["target"]] = max(worst.get(f["target"], -1), rank)
        if rank >= 2:
            loud.setdefault(f["target"], []).append(f["class"])
    ok = True
    lines = [f"{'class':24}{'python vulnerable':20}{'python hardened':18}{'node vulnerable':18}{'node hardened':16}"]
    for cls in CLASSES:
        row = f"{cls:24}"
        for lang, kind, width in COLUMNS:
            variants = cells.get((cls, lang, kind))
            if not variants:
                row += f"{'-':{width}}"
                continue
            text, good = cell(kind, variants, worst, loud)
            ok &= good
            row += f"{text:{width}}"
        lines.append(row)
    return lines, ok


def main(path):
    with open(path) as f:
        lines, ok = matrix(json.load(f))
    print("\n" + "\n".join(lines))
    print("\nmatrix:", "as expected" if ok else "NOT AS EXPECTED", f"({path})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
