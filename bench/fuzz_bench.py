#!/usr/bin/env python3
"""bench/fuzz_bench.py — what `coldsec fuzz` costs and what coverage buys (issue 6).

1. exec/s: `coldsec fuzz` on hello-python (harness/functions.yaml) for
   --exec-seconds, coverage on (the aim: >= 1,000 inputs/s warm). An input is
   one Invoke of the mutated event plus one of the state-pollution probe.
2. Node with and without coverage: fuzz-nested-node for --exec-seconds,
   coverage on and off interleaved, --node-rounds rounds (issue 13: the aim is
   >= 1,000 inputs/s with coverage); a round that finds the bug ends early and
   still counts its rate.
3. time to bug: fuzz-nested-python and fuzz-nested-node (harness/fuzz-functions.yaml:
   a crash behind four nested conditions) with and without coverage feedback,
   the same seeds, dictionary (bench/jazzer/fuzz-nested.dict) and time budget
   (--seconds); --nested picks the runtimes.
4. the peer: Jazzer.js in-process on fuzz-nested-node (bench/jazzer/run.sh),
   the same seeds, dictionary and budget.

Prints a markdown table; --json-out keeps the raw numbers. Only 127.0.0.1 is
contacted (coldsec starts its own coldsec-lab for every run).

usage: bench/fuzz_bench.py [--build build] [--seconds 150] [--seeds 1,2] [--exec-seconds 30] [--no-jazzer]
                           [--nested python,node] [--modes coverage,no-coverage] [--node-rounds 3]
"""
import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NESTED_DICT = os.path.join(ROOT, "bench", "jazzer", "fuzz-nested.dict")


def coldsec_fuzz(build, target, lab_config, event, seconds, seed, *extra):
    out = tempfile.mkdtemp(prefix="coldsec-bench-fuzz-")
    subprocess.run([os.path.join(build, "coldsec"), "fuzz", "--target", target, "--lab-config", lab_config,
                    "--event", event, "--time", f"{seconds}s", "--seed", str(seed), "--out", out, *extra],
                   cwd=ROOT, capture_output=True, timeout=seconds + 300)
    folder = os.path.join(out, target)
    # stats-RUN.json sums the run's processes (stats-RUN-PID.json each).
    stats = [json.load(open(p)) for p in glob.glob(os.path.join(folder, "stats-*.json"))
             if re.fullmatch(r"stats-\d{8}T\d{6}Z-[0-9a-f]{6}\.json", os.path.basename(p))]
    findings = [json.load(open(p)) for p in glob.glob(os.path.join(folder, "finding-*.json"))]
    shutil.rmtree(out, ignore_errors=True)
    return (stats[0] if stats else {}), findings


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", type=int, default=150)
    ap.add_argument("--seeds", default="1,2")
    ap.add_argument("--exec-seconds", type=int, default=30)
    ap.add_argument("--no-jazzer", action="store_true")
    ap.add_argument("--nested", default="python,node")
    ap.add_argument("--modes", default="coverage,no-coverage")
    ap.add_argument("--exec", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--node-rounds", type=int, default=3)
    ap.add_argument("--json-out")
    a = ap.parse_args()
    build = a.build if os.path.isabs(a.build) else os.path.join(ROOT, a.build)
    seeds = [int(s) for s in a.seeds.split(",")]
    raw = {"exec": {}, "node_rounds": [], "nested": []}

    scratch = tempfile.mkdtemp(prefix="coldsec-bench-")
    hello_event = os.path.join(scratch, "event.json")
    with open(hello_event, "w") as f:
        json.dump({"name": "bench"}, f)
    fuzz_cfg = os.path.join(ROOT, "harness", "fuzz-functions.yaml")
    baseline = os.path.join(ROOT, "harness", "functions", "fuzz-baseline.json")
    if a.exec:
        stats, _ = coldsec_fuzz(build, "hello-python", os.path.join(ROOT, "harness", "functions.yaml"),
                                hello_event, a.exec_seconds, 1)
        raw["exec"] = stats
        print(f"bench: hello-python {stats.get('exec_per_s')} inputs/s", file=sys.stderr)
        for rnd in range(1, a.node_rounds + 1):
            # Interleaved, so that load from elsewhere falls on both modes alike.
            row = {"round": rnd}
            for mode, extra in (("coverage", []), ("no-coverage", ["--no-coverage"])):
                stats, findings = coldsec_fuzz(build, "fuzz-nested-node", fuzz_cfg, baseline, a.exec_seconds, rnd,
                                               *extra, "--", f"-dict={NESTED_DICT}")
                row[mode] = stats.get("exec_per_s")
                row[mode + "_bug"] = any(f["kind"] == "crash" for f in findings)
            raw["node_rounds"].append(row)
            print(f"bench: fuzz-nested-node {row}", file=sys.stderr)
    shutil.rmtree(scratch, ignore_errors=True)
    for seed in seeds:
        for runtime, mode in [(r, m) for r in a.nested.split(",") if r for m in a.modes.split(",") if m]:
            extra = ["--no-coverage"] if mode == "no-coverage" else []
            stats, findings = coldsec_fuzz(build, f"fuzz-nested-{runtime}", fuzz_cfg, baseline, a.seconds, seed,
                                           *extra, "--", f"-dict={NESTED_DICT}")
            crash = [f for f in findings if f["kind"] == "crash"]
            row = {"tool": f"coldsec fuzz ({runtime})", "mode": mode, "seed": seed,
                   "exec_per_s": stats.get("exec_per_s"),
                   "executions": stats.get("executions"),
                   "time_to_bug_s": round(crash[0]["after_seconds"], 1) if crash else None,
                   "other_findings": sorted({f["kind"] for f in findings if f["kind"] != "crash"})}
            raw["nested"].append(row)
            print(f"bench: {row}", file=sys.stderr)
        if not a.no_jazzer:
            r = subprocess.run([os.path.join(ROOT, "bench", "jazzer", "run.sh"), str(a.seconds), str(seed)],
                               cwd=ROOT, capture_output=True, text=True, timeout=a.seconds + 300)
            try:
                j = json.loads(r.stdout.strip().splitlines()[-1])
                ttb = j.get("time_to_bug_s")
                row = {"tool": "Jazzer.js (node)", "mode": "in-process", "seed": seed, "exec_per_s": j.get("exec_per_s"),
                       "executions": j.get("executions"),
                       "time_to_bug_s": ttb if isinstance(ttb, (int, float)) else None, "other_findings": []}
            except (ValueError, IndexError):
                row = {"tool": "Jazzer.js (node)", "mode": "in-process", "seed": seed, "exec_per_s": None,
                       "executions": None, "time_to_bug_s": None, "other_findings": [],
                       "error": (r.stderr or r.stdout)[-300:]}
            raw["nested"].append(row)
            print(f"bench: {row}", file=sys.stderr)

    if a.exec:
        print(f"hello-python, coverage on, {a.exec_seconds} s: **{raw['exec'].get('exec_per_s')} inputs/s** "
              f"({raw['exec'].get('executions')} inputs; each = the event + the state-pollution probe); "
              "aim >= 1,000\n")
    if raw["node_rounds"]:
        print(f"fuzz-nested-node, {a.exec_seconds} s per run, coverage on and off interleaved (seed = round); "
              "aim >= 1,000 inputs/s with coverage\n")
        print("| round | coverage on, inputs/s | off, inputs/s | on / off |")
        print("| --- | --- | --- | --- |")
        for r in raw["node_rounds"]:
            on, off = r["coverage"], r["no-coverage"]
            ratio = f"{on / off:.2f}" if on and off else "-"
            bug = " (bug found)" if r["coverage_bug"] else ""
            print(f"| {r['round']} | {on}{bug} | {off} | {ratio} |")
        print()
    print(f"fuzz-nested: a crash behind four nested conditions, {a.seconds} s budget per run\n")
    print("| tool | feedback | seed | exec/s | executions | time to bug (s) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in raw["nested"]:
        ttb = r["time_to_bug_s"] if r["time_to_bug_s"] is not None else f"not found in {a.seconds}"
        print(f"| {r['tool']} | {r['mode']} | {r['seed']} | {r['exec_per_s']} | {r['executions']} | {ttb} |")
    if a.json_out:
        json.dump(raw, open(a.json_out, "w"), indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
