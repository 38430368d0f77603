#!/usr/bin/env python3
"""bench/lab_scale.py — coldsec-lab at an attacker's scale: N invocations in
flight at once against the lab itself (BENCHMARKS.md, "1,000 in flight
against the lab").

Per round: a fresh coldsec-lab with bench/functions/sleep-sh (a POSIX sh +
curl `provided` function that sleeps SLEEP_MS per invocation) and
`account_concurrency` at Lambda's default of 1,000; then
`coldsec fanout sleep-sh --count N --parallel N` (every invocation in flight
at once, so every one needs its own environment). Recorded: answered,
failed, function errors, throttles and retries (coldsec's summary and its
invocations.jsonl), the fan-out's wall time, the lab's environments at the
peak (its direct children: one per environment), and memory at that peak:
the lab's RSS plus every environment process's RSS (and PSS, which shares
the binaries' pages out fairly) divided by the environments, read once the
fan-out is over (the environments stay, frozen), the lab's threads and
descriptors, the cold invocations' Init Duration, and the lab-made errors
(Sandbox.Timedout, Runtime.ExitError) counted in the log streams. The machine is watched: the lab is stopped when
less than 3 GB is available.

    python3 bench/lab_scale.py [--build build] [--rounds 1] [--count 1000]
        [--sleep-ms 2000] [--lab BIN] [--json-out FILE]

bench/run.sh runs it as part of `make bench` (BENCH_SCALE=0 skips it,
BENCH_SCALE=only runs nothing else); `bench/summarise.py --scale FILE`
renders the table. Only 127.0.0.1 is contacted.
"""
import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fanout_vs_boto3 as fo  # noqa: E402  (the shared lab/client/proc helpers)

PAGE = os.sysconf("SC_PAGE_SIZE")
MIN_AVAILABLE_MB = 3072


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def proc_table():
    """pid -> ppid for every process."""
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            v = fo.proc_cpu_ticks(d)
            if v is not None:
                out[int(d)] = v[1]
    return out


def descendants(pid, ppid_of):
    kids = {}
    for p, pp in ppid_of.items():
        kids.setdefault(pp, []).append(p)
    direct = list(kids.get(pid, []))
    desc, todo = [], [pid]
    while todo:
        for c in kids.get(todo.pop(), []):
            desc.append(c)
            todo.append(c)
    return direct, desc


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * PAGE // 1024
    except (OSError, IndexError, ValueError):
        return 0


def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def lab_threads_fds(pid):
    threads = 0
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Threads:"):
                    threads = int(line.split()[1])
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        fds = 0
    return threads, fds


def init_stats(out_dir):
    """Init Duration of the cold invocations, from coldsec's invocations.jsonl."""
    inits = []
    for d, _, files in os.walk(out_dir):
        if "invocations.jsonl" in files:
            with open(os.path.join(d, "invocations.jsonl"), "rb") as f:
                for line in f:
                    try:
                        o = json.loads(line)
                    except ValueError:
                        continue
                    v = (o.get("report") or {}).get("init_ms")
                    if v is not None:
                        inits.append(v)
    inits.sort()
    if not inits:
        return {}
    return {"init_ms_median": inits[len(inits) // 2], "init_ms_p99": inits[min(len(inits) - 1, len(inits) * 99 // 100)],
            "init_ms_max": inits[-1]}


def platform_errors(logs):
    """Lab-made errors in the log streams: what the function errors were."""
    kinds = {}
    pats = {"Sandbox.Timedout": b"Task timed out after", "Runtime.ExitError": b"\nRuntime.ExitError",
            "Runtime.OutOfMemory": b"\nRuntime.OutOfMemory"}
    for d, _, files in os.walk(logs):
        for name in files:
            try:
                with open(os.path.join(d, name), "rb") as f:
                    data = f.read()
            except OSError:
                continue
            for k, pat in pats.items():
                n = data.count(pat)
                if n:
                    kinds[k] = kinds.get(k, 0) + n
    return kinds


def one_round(a, build, tmp, coldsec, lab_bin, rnd):
    cfg = os.path.join(tmp, f"scale-{rnd}.yaml")
    with open(cfg, "w", encoding="utf-8") as f:
        # Environments must outlive a slow run to be counted and measured at
        # the end: no idle retirement (default 600 s) during the round.
        f.write(fo.lab_config(["sleep-sh"], a.account_concurrency, a.sleep_ms) + "    idle_timeout_s: 7200\n"
                "    max_age_s: 7200\n")
    logs = os.path.join(tmp, f"scale-{rnd}-logs")
    os.makedirs(logs, exist_ok=True)
    lab = fo.Server(f"scale-{rnd}", [lab_bin, "--config", cfg, "--listen", "127.0.0.1:0", "--log-dir", logs,
                                          "--runtimes", os.path.join(fo.REPO, "harness", "runtimes")], tmp)
    peak = {"envs": 0, "envs_after": 0, "rss_kb": 0, "lab_rss_kb": 0, "pss_kb": 0, "threads": 0, "fds": 0,
            "aborted": None, "procs": 0}
    stop = threading.Event()

    def measure():
        """The lab's processes now: environments (its direct children), and
        RSS, PSS of the lab plus all of them."""
        direct, desc = descendants(lab.proc.pid, proc_table())
        lab_rss = rss_kb(lab.proc.pid)
        return {"envs": len(direct), "procs": len(desc), "lab_rss_kb": lab_rss,
                "rss_kb": lab_rss + sum(rss_kb(q) for q in desc),
                "pss_kb": pss_kb(lab.proc.pid) + sum(pss_kb(q) for q in desc)}

    def watch():
        # Every 2 s: walking /proc for thousands of processes is itself
        # work on the machine being measured.
        while not stop.wait(2.0):
            direct, _ = descendants(lab.proc.pid, proc_table())
            threads, fds = lab_threads_fds(lab.proc.pid)
            peak["envs"] = max(peak["envs"], len(direct))
            peak["threads"] = max(peak["threads"], threads)
            peak["fds"] = max(peak["fds"], fds)
            m = fo.meminfo_mb()
            if m["MemAvailable"] < MIN_AVAILABLE_MB and peak["aborted"] is None:
                peak["aborted"] = f"stopped the lab: only {m['MemAvailable']:.0f} MB of memory left"
                log(f"  scale: {peak['aborted']}")
                lab.proc.terminate()

    t = threading.Thread(target=watch, daemon=True)
    res = {}
    try:
        t.start()
        env = fo.client_env(os.path.join(tmp, "home"), lab.url)
        kept = os.path.join(tmp, f"kept-{rnd}")
        res = fo.run_coldsec(coldsec, "sleep-sh", a.count, a.count, env, os.path.join(tmp, f"runs-{rnd}"),
                             timeout=1800, keep=kept)
        res.update(init_stats(kept))
        # Environments stay warm (frozen) after their invocation, so memory
        # is read once the fan-out is over, every environment still there.
        after = measure() if lab.proc.poll() is None else {}
        threads, fds = lab_threads_fds(lab.proc.pid)
        peak["threads"] = max(peak["threads"], threads)
        peak["fds"] = max(peak["fds"], fds)
        peak.update({k: v for k, v in after.items() if k != "envs"})
        peak["envs_after"] = after.get("envs", 0)
        peak["envs"] = max(peak["envs"], peak["envs_after"])
    finally:
        stop.set()
        t.join()
        res.update(round=rnd, sleep_ms=a.sleep_ms, account_concurrency=a.account_concurrency,
                   lab_peak_environments=peak["envs"], environments_after=peak["envs_after"],
                   lab_procs_after=peak["procs"], lab_peak_threads=peak["threads"], lab_peak_fds=peak["fds"],
                   mem_rss_kb=peak["rss_kb"], lab_rss_kb=peak["lab_rss_kb"], mem_pss_kb=peak["pss_kb"],
                   aborted=peak["aborted"], lab_alive_after=lab.proc.poll() is None)
        if peak["envs_after"]:
            res["rss_kb_per_env"] = peak["rss_kb"] / peak["envs_after"]
            res["pss_kb_per_env"] = peak["pss_kb"] / peak["envs_after"]
        res["lab_stderr_tail"] = lab.stderr()[-1500:]
        res["lab_needed_kill"] = lab.stop()
        res["platform_errors"] = platform_errors(logs)
        shutil.rmtree(logs, ignore_errors=True)
    log(f"  round {rnd}: {res.get('summary_line')}; environments at peak {res['lab_peak_environments']}; "
        f"RSS/env {res.get('rss_kb_per_env', 0) / 1024:.1f} MiB, PSS/env {res.get('pss_kb_per_env', 0) / 1024:.1f} MiB; "
        f"lab threads {res['lab_peak_threads']}, fds {res['lab_peak_fds']}; init ms median "
        f"{res.get('init_ms_median', 0):.0f}, max {res.get('init_ms_max', 0):.0f}; lab-made errors {res['platform_errors']}")
    return res


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build", default="build")
    p.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_SCALE_ROUNDS", "1")))
    p.add_argument("--count", type=int, default=int(os.environ.get("BENCH_SCALE_COUNT", "1000")))
    p.add_argument("--sleep-ms", type=int, default=2000)
    p.add_argument("--account-concurrency", type=int, default=1000, help="Lambda's default account limit")
    p.add_argument("--lab", help="the coldsec-lab binary (default: BUILD/coldsec-lab)")
    p.add_argument("--coldsec", help="the coldsec binary (default: BUILD/coldsec)")
    p.add_argument("--json-out")
    a = p.parse_args()
    build = a.build if os.path.isabs(a.build) else os.path.join(fo.REPO, a.build)
    coldsec = os.path.abspath(a.coldsec) if a.coldsec else os.path.join(build, "coldsec")
    lab_bin = os.path.abspath(a.lab) if a.lab else os.path.join(build, "coldsec-lab")
    fo.RUSAGE_RUN = os.path.join(build, "bench", "rusage_run")
    for f in (coldsec, lab_bin, fo.RUSAGE_RUN):
        if not os.access(f, os.X_OK):
            log(f"{f} is missing (run: make bench)")
            return 1
    # coldsec fanout holds N connections: give this process tree the
    # descriptors the hard limit allows (a fresh machine's soft limit is 1,024).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    tmp = tempfile.mkdtemp(prefix="coldsec-scale-bench-")
    os.makedirs(os.path.join(tmp, "home"))
    result = {"machine": fo.machine_facts(sys.executable), "rounds": [],
              "config": {"count": a.count, "sleep_ms": a.sleep_ms, "account_concurrency": a.account_concurrency,
                         "lab": lab_bin, "nofile": [soft, hard]}}
    try:
        for rnd in range(1, a.rounds + 1):
            log(f"scale round {rnd}: {a.count} in flight against the lab (sleep-sh, {a.sleep_ms} ms each); "
                f"load {' '.join(open('/proc/loadavg', encoding='ascii').read().split()[:3])}")
            result["rounds"].append(one_round(a, build, tmp, coldsec, lab_bin, rnd))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result["machine"]["loadavg_end"] = open("/proc/loadavg", encoding="ascii").read().split()[:3]
    fo.write_result(result, a.json_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
