#!/usr/bin/env python3
"""Prints the vulnerable/hardened matrix of a coldsec report of the default
suite and checks it: every -vulnerable sample has a finding of its own
class at medium or above, no -hardened twin has any finding at medium or
above. Exit 0 when that holds, 1 when not.

usage: scripts/matrix.py reports/RUN/report.json
"""
import json
import re
import sys

SEVERITY = ["info", "low", "medium", "high", "critical"]


def main(path):
    report = json.load(open(path))
    worst = {}      # (class, lang, kind) -> worst severity of the sample's own class
    loud = {}       # target -> findings at medium or above, any class
    targets = {r["target"] for r in report["results"]}
    for f in report["findings"]:
        m = re.match(r"(.+)-(python|node)-(vulnerable|hardened)$", f["target"])
        if not m:
            continue
        rank = SEVERITY.index(f["severity"])
        if f["class"] == m.group(1):
            key = m.groups()
            worst[key] = max(worst.get(key, -1), rank)
        if rank >= 2:
            loud.setdefault(f["target"], []).append(f["class"])
    ok = True
    print(f"\n{'class':24}{'python vulnerable':20}{'python hardened':18}{'node vulnerable':18}{'node hardened':16}")
    for cls in ("injection-persistence", "cross-user-leak", "tmp-residue", "memory-growth", "secret-exposure",
                "config"):
        row = f"{cls:24}"
        for lang in ("python", "node"):
            for kind, width in (("vulnerable", 20 if lang == "python" else 18), ("hardened", 18 if lang == "python" else 16)):
                name = f"{cls}-{lang}-{kind}"
                if name not in targets:
                    row += f"{'-':{width}}"
                    continue
                if kind == "vulnerable":
                    rank = worst.get((cls, lang, kind), -1)
                    good = rank >= 2
                    cell = SEVERITY[rank] if rank >= 0 else "NOT FOUND"
                else:
                    good = name not in loud
                    cell = "clean" if good else "FINDING " + ",".join(loud[name])
                ok &= good
                row += f"{cell:{width}}"
        print(row)
    print("\nmatrix:", "as expected" if ok else "NOT AS EXPECTED", f"({path})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
