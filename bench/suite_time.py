#!/usr/bin/env python3
"""bench/suite_time.py — wall time of the whole default suite against the lab
(issue 4's aim: under 60 s on this 2-core machine).

Runs `BUILD/coldsec run scenarios.yaml --quiet` ROUNDS times (coldsec starts
its own coldsec-lab on 127.0.0.1 each time), checks each run gave the
expected matrix (scripts/matrix.py), and prints a markdown table: wall time
per round, median, and the slowest target × scenario runs of the median
round (from report.json's per-result ms). Then, from the last round's
report.json, what the reports cost (issue 5): `coldsec report` rendering all
four formats again, RENDERS times, and each file's size.

usage: bench/suite_time.py [--build build] [--rounds 3] [--json-out FILE]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def one_round(build, out):
    t0 = time.monotonic()
    r = subprocess.run([os.path.join(build, "coldsec"), "run", "scenarios.yaml", "--quiet", "--out", out],
                       cwd=ROOT, capture_output=True)
    wall = time.monotonic() - t0
    runs = sorted(d for d in os.listdir(out) if os.path.isdir(os.path.join(out, d)))
    report_path = os.path.join(out, runs[-1], "report.json")
    matrix = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "matrix.py"), report_path],
                            capture_output=True)
    report = json.load(open(report_path))
    return {"wall_s": round(wall, 2), "exit": r.returncode, "matrix_ok": matrix.returncode == 0,
            "report": report_path,
            "invocations": sum(x["invocations"] for x in report["results"]),
            "slowest": sorted(((x["ms"], x["target"], x["scenario"]) for x in report["results"]), reverse=True)[:5]}


def render_cost(build, report_path, out, times=5):
    """Wall time of `coldsec report REPORT` (load, decide, write all four formats) and the files' sizes."""
    walls = []
    for _ in range(times):
        t0 = time.monotonic()
        r = subprocess.run([os.path.join(build, "coldsec"), "report", report_path, "--quiet", "--out",
                            os.path.join(out, "render")], cwd=ROOT, capture_output=True)
        walls.append((time.monotonic() - t0) * 1000)
        if r.returncode not in (0, 1):
            raise SystemExit(f"bench: coldsec report failed: {r.stderr.decode()[-500:]}")
    folder = os.path.dirname(report_path)
    sizes = {n: os.path.getsize(os.path.join(folder, n))
             for n in ("report.json", "junit.xml", "results.sarif", "report.html")}
    return {"walls_ms": [round(w, 1) for w in walls], "walls": walls, "median_ms": statistics.median(walls),
            "sizes": sizes}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json-out")
    a = ap.parse_args()
    build = os.path.join(ROOT, a.build) if not os.path.isabs(a.build) else a.build
    rounds = []
    with tempfile.TemporaryDirectory(prefix="coldsec-bench-suite-") as out:
        for i in range(a.rounds):
            r = one_round(build, out)
            print(f"bench: suite round {i + 1}: {r['wall_s']} s, exit {r['exit']}, matrix "
                  f"{'ok' if r['matrix_ok'] else 'NOT AS EXPECTED'}", file=sys.stderr)
            rounds.append(r)
        render = render_cost(build, rounds[-1]["report"], out)
    walls = [r["wall_s"] for r in rounds]
    med = statistics.median(walls)
    print("| round | wall (s) | invocations | exit | matrix |")
    print("| --- | --- | --- | --- | --- |")
    for i, r in enumerate(rounds, 1):
        print(f"| {i} | {r['wall_s']} | {r['invocations']} | {r['exit']} | {'as expected' if r['matrix_ok'] else 'NOT'} |")
    print(f"| median | {med} | | | aim: < 60 s |")
    mid = min(rounds, key=lambda r: abs(r["wall_s"] - med))
    print("\nslowest target × scenario runs in the median round (they overlap: 4 targets at a time):\n")
    print("| target | scenario | s |")
    print("| --- | --- | --- |")
    for ms, target, scenario in mid["slowest"]:
        print(f"| {target} | {scenario} | {ms / 1000:.1f} |")
    print(f"\nrendering the last round's reports again (`coldsec report`, {len(render['walls'])} times): "
          f"median {render['median_ms']:.0f} ms\n")
    print("| file | bytes |")
    print("| --- | --- |")
    for name, size in render["sizes"].items():
        print(f"| {name} | {size} |")
    if a.json_out:
        json.dump({"rounds": rounds, "median_wall_s": med, "render": render}, open(a.json_out, "w"), indent=1)
    return 0 if all(r["matrix_ok"] and r["exit"] == 1 for r in rounds) else 1


if __name__ == "__main__":
    sys.exit(main())
