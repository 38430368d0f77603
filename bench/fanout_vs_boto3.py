#!/usr/bin/env python3
"""bench/fanout_vs_boto3.py — `coldsec fanout` against boto3, in one run.

What it measures (BENCHMARKS.md, "coldsec fan-out against boto3"):

A. Same lab, same function, same payload, alternating in the same run:
   (a) `coldsec fanout FN --count N --parallel 64` (one libcurl multi loop), and
   (b) boto3 (max_pool_connections=32, retries off) driven by a
       ThreadPoolExecutor(32) doing the same N Invokes with LogType=Tail,
       in its own python process (this file, `--boto3-worker`).
   Each client is a child process measured the same way: wait4() gives its
   CPU (user + sys) and peak RSS. Both are started through bench/rusage_run
   (a small C program that forks, execs and reports wait4's rusage): a child
   forked straight from this Python process would report this process's own
   ~50 MB as its ru_maxrss (Linux keeps the pre-exec high-water mark). The
   boto3 child also reports the CPU
   of its invoke phase alone (getrusage around the N calls: no interpreter
   start, no `import boto3`, no client creation) — the figure most
   favourable to boto3, used for the conservative ratio. Rates are N over
   the invoke phase's wall time for both (coldsec's own "N invocations in
   T ms"; the worker's clock around its N calls). Per run the lab's CPU
   and its environments' CPU (/proc) and the machine's busy share are
   recorded, to show who the bottleneck is. Rounds alternate the order
   (a, b / b, a); medians are reported.
   The same A/B also runs against bench/bare_http in epoll mode (no lab, an
   HTTP server answering 200 at ~20k/s): what each client does when the
   server is not the limit.

B. coldsec's peak RSS with 1,000 invocations in flight. The lab cannot hold
   1,000: its API serves at most 512 connections (LAB_API_MAX_CONNECTIONS,
   harness/lab_api.h). So `coldsec fanout --count 1000 --parallel 1000` runs
   against bench/bare_http --delay-ms (every answer held D ms, thread per
   connection, up to 1,024 connections), which counts the requests it held
   at once; coldsec's summary gives its own `peak in flight`. Baseline:
   1,000 invocations at --parallel 64 against the undelayed bare_http.
   With --lab-1000 it also tries the real thing — 1,000 invocations of
   bench/functions/sleep-sh (each sleeps as long as the delay) at once
   against the lab with account_concurrency 2000 — and reports what
   happened (answers, errors by kind, environments at the peak, memory),
   keeping coldsec's invocations.jsonl in BUILD/bench/lab-1000-run/.

Usage (bench/run.sh runs it as part of `make bench`):

    python3 bench/fanout_vs_boto3.py [--build build] [--rounds 3] [--count 3000]
        [--functions hello-c,hello-python] [--lab-1000] [--coldsec BIN] [--json-out FILE]

Prints progress on stderr and one JSON document on stdout (also written to
--json-out); `bench/summarise.py --fanout FILE` renders the markdown table.
Only 127.0.0.1 is contacted. The clients get a clean environment: HOME is a
temporary folder, AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE point at
nothing, and credentials, region and endpoint come from AWS_* variables.
"""
import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY, SECRET, REGION = "AKIDCOLDSECLAB", "coldsec-lab-secret", "us-east-1"
PAYLOAD = json.dumps({"bench": "fanout", "client": "either", "note": "the same bytes for both clients",
                      "items": list(range(16))}, separators=(",", ":"))
CLK_TCK = os.sysconf("SC_CLK_TCK")
CHILD_TIMEOUT_S = 600
RUSAGE_RUN = os.path.join(REPO, "build", "bench", "rusage_run")  # main() follows --build


def log(msg):
    print(f"fanout-bench: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# the boto3 worker (a child process of the benchmark)


def boto3_worker(a):
    """N Invokes through one boto3 client from a ThreadPoolExecutor; prints
    one JSON line. Its own CPU over the invoke phase is getrusage(SELF)."""
    import base64
    import concurrent.futures
    import resource

    import boto3
    import botocore.config

    payload = a.payload.encode()
    client = boto3.session.Session().client(
        "lambda", endpoint_url=a.endpoint, region_name=os.environ["AWS_REGION"],
        config=botocore.config.Config(max_pool_connections=a.threads,
                                      retries={"total_max_attempts": 1, "mode": "standard"},
                                      read_timeout=60, connect_timeout=5))

    def one(_):
        try:
            r = client.invoke(FunctionName=a.function, Payload=payload, LogType="Tail")
            r["Payload"].read()
            tail = r.get("LogResult")
            cold = tail is not None and b"Init Duration" in base64.b64decode(tail)
            return ("ok" if r["StatusCode"] == 200 else "status", r.get("FunctionError"), cold, None)
        except Exception as e:  # noqa: BLE001 - counted and reported
            return ("failed", None, False, f"{type(e).__name__}: {e}"[:300])

    first = one(0)  # loads the rest of botocore's lazy pieces; not counted
    ru0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(a.threads) as ex:
        results = list(ex.map(one, range(a.count)))
    t1, ru1 = time.monotonic(), resource.getrusage(resource.RUSAGE_SELF)
    failed = [r[3] for r in results if r[0] != "ok"]
    print(json.dumps({
        "phase_wall_s": t1 - t0,
        "phase_cpu_s": (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime),
        "phase_user_s": ru1.ru_utime - ru0.ru_utime, "phase_sys_s": ru1.ru_stime - ru0.ru_stime,
        "answered": sum(1 for r in results if r[0] == "ok"),
        "function_errors": sum(1 for r in results if r[0] == "ok" and r[1]),
        "failed": len(failed), "first_failure": failed[0] if failed else None,
        "cold": sum(1 for r in results if r[2]), "warmup_ok": first[0] == "ok",
        "boto3": boto3.__version__}))
    return 0


# ---------------------------------------------------------------------------
# processes


def client_env(home, endpoint):
    """A clean environment for either client: nothing of the caller's AWS setup."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": home,
            "AWS_CONFIG_FILE": os.path.join(home, "nonexistent-config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "nonexistent-credentials"),
            "AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_REGION": REGION,
            "AWS_ENDPOINT_URL_LAMBDA": endpoint, "AWS_EC2_METADATA_DISABLED": "true"}


def run_measured(cmd, env, timeout=CHILD_TIMEOUT_S):
    """Runs cmd to completion under bench/rusage_run, which reports the
    command's CPU and peak RSS from wait4() (forked from this Python process,
    the command's ru_maxrss would include this process's own ~50 MB)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(suffix=".json") as ru:
        p = subprocess.Popen([RUSAGE_RUN, ru.name, "--"] + cmd, env=env, stdin=subprocess.DEVNULL,
                             stdout=out, stderr=err, cwd=env["HOME"], start_new_session=True)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            log(f"{cmd[0]} ran over {timeout} s: killed")
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        out.seek(0)
        err.seek(0)
        m = json.loads(ru.read() or b'{"rc":-1,"wall_s":0,"user_s":0,"sys_s":0,"maxrss_kb":0}')
        return {"rc": m["rc"], "signal": m.get("signal", 0), "wall_s": m["wall_s"], "user_s": m["user_s"],
                "sys_s": m["sys_s"], "cpu_s": m["user_s"] + m["sys_s"], "maxrss_kb": m["maxrss_kb"],
                "stdout": out.read().decode("utf-8", "replace"), "stderr": err.read().decode("utf-8", "replace")}


SUMMARY_FIELDS = {
    "count": r"fanout \S+: (\d+) invocations",
    "wall_ms": r"invocations in ([\d.]+) ms",
    "answered": r"(\d+) answered",
    "function_errors": r"\((\d+) function errors\)",
    "failed": r"(\d+) failed",
    "cancelled": r"(\d+) cancelled",
    "cold": r"cold (\d+)",
    "warm": r"warm (\d+)",
    "unknown": r"unknown (\d+)",
    "retries": r"retries (\d+)",
    "throttled": r"throttled (\d+)",
    "peak_in_flight": r"peak in flight (\d+)",
}


def parse_summary(stdout):
    line = next((ln for ln in stdout.splitlines() if ln.startswith("coldsec: fanout ")), "")
    out = {"summary_line": line}
    for k, pat in SUMMARY_FIELDS.items():
        m = re.search(pat, line)
        out[k] = float(m.group(1)) if m and k == "wall_ms" else (int(m.group(1)) if m else None)
    return out


def run_coldsec(binary, function, count, parallel, env, out_dir, timeout=CHILD_TIMEOUT_S, keep=None):
    os.makedirs(out_dir, exist_ok=True)
    r = run_measured([binary, "fanout", function, "--count", str(count), "--parallel", str(parallel),
                      "--payload", PAYLOAD, "--out", out_dir], env, timeout)
    s = parse_summary(r["stdout"])
    lines, kinds = 0, {}
    for d, _, files in os.walk(out_dir):
        if "invocations.jsonl" in files:
            with open(os.path.join(d, "invocations.jsonl"), "rb") as f:
                for line in f:
                    lines += 1
                    try:
                        o = json.loads(line)
                    except ValueError:
                        kinds["unparsable line"] = kinds.get("unparsable line", 0) + 1
                        continue
                    k = (f"function error {o['function_error']}" if o.get("function_error")
                         else f"failed {o['error'].get('code')}: {o['error'].get('message', '')[:120]}"
                         if o.get("error") else None)
                    if k:
                        kinds[k] = kinds.get(k, 0) + 1
    if keep:
        shutil.copytree(out_dir, keep, dirs_exist_ok=True)
    shutil.rmtree(out_dir, ignore_errors=True)
    res = {"client": "coldsec", "n": count, "parallel": parallel, "rc": r["rc"], "jsonl_lines": lines,
           "errors_by_kind": kinds,
           "proc_wall_s": r["wall_s"], "cpu_s": r["cpu_s"], "user_s": r["user_s"], "sys_s": r["sys_s"],
           "maxrss_kb": r["maxrss_kb"], **s}
    if s["wall_ms"]:
        res["phase_wall_s"] = s["wall_ms"] / 1000.0
        res["rate"] = count / res["phase_wall_s"]
    res["cpu_us_per_inv"] = r["cpu_s"] * 1e6 / count
    if r["rc"] != 0 or not s["summary_line"]:
        res["stderr"] = r["stderr"][-2000:]
    return res


def run_boto3(python, function, count, threads, env, endpoint):
    r = run_measured([python, os.path.abspath(__file__), "--boto3-worker", "--function", function,
                      "--count", str(count), "--threads", str(threads), "--endpoint", endpoint,
                      "--payload", PAYLOAD], env)
    res = {"client": "boto3", "n": count, "parallel": threads, "rc": r["rc"], "proc_wall_s": r["wall_s"],
           "cpu_s": r["cpu_s"], "user_s": r["user_s"], "sys_s": r["sys_s"], "maxrss_kb": r["maxrss_kb"]}
    try:
        w = json.loads(r["stdout"].strip().splitlines()[-1])
    except (ValueError, IndexError):
        res["stderr"] = r["stderr"][-2000:]
        return res
    res.update(w)
    res["rate"] = count / w["phase_wall_s"]
    # whole process: the N timed calls plus the one warm-up call
    res["cpu_us_per_inv"] = r["cpu_s"] * 1e6 / (count + 1)
    res["phase_cpu_us_per_inv"] = w["phase_cpu_s"] * 1e6 / count
    return res


class Server:
    """A child server that prints `... listening on http://127.0.0.1:PORT`."""

    def __init__(self, name, cmd, tmp):
        self.name = name
        self.out_path = os.path.join(tmp, f"{name}.out")
        self.err_path = os.path.join(tmp, f"{name}.err")
        with open(self.out_path, "wb") as o, open(self.err_path, "wb") as e:
            self.proc = subprocess.Popen(cmd, stdout=o, stderr=e, stdin=subprocess.DEVNULL, cwd=REPO)
        self.port = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with open(self.out_path, encoding="utf-8", errors="replace") as f:
                m = re.search(r"listening on http://127\.0\.0\.1:(\d+)$", f.read(), re.M)
            if m:
                self.port = int(m.group(1))
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if self.port is None:
            self.stop()
            raise RuntimeError(f"{name} did not start: {self.stderr()[-2000:]}")
        self.url = f"http://127.0.0.1:{self.port}"

    def stderr(self):
        with open(self.err_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stdout(self):
        with open(self.out_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self):
        """TERM, then KILL after 10 s (style.md, point 9); True when KILL was needed."""
        if self.proc.poll() is not None:
            return False
        self.proc.terminate()
        try:
            self.proc.wait(10)
            return False
        except subprocess.TimeoutExpired:
            log(f"{self.name} ({self.proc.pid}) needed SIGKILL")
            self.proc.kill()
            self.proc.wait()
            return True


# ---------------------------------------------------------------------------
# /proc


def proc_cpu_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    rest = data[data.rfind(")") + 2:].split()
    return int(rest[11]) + int(rest[12]), int(rest[1])  # utime + stime, ppid


def tree_cpu(pid):
    """CPU seconds of pid itself and of its live descendants (the lab's
    environments), and how many descendants there are."""
    ppid_of, ticks = {}, {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            v = proc_cpu_ticks(d)
            if v is not None:
                ticks[int(d)], ppid_of[int(d)] = v
    kids = {}
    for p, pp in ppid_of.items():
        kids.setdefault(pp, []).append(p)
    desc, todo = [], [pid]
    while todo:
        for c in kids.get(todo.pop(), []):
            desc.append(c)
            todo.append(c)
    own = ticks.get(pid, 0) / CLK_TCK
    return own, {p: ticks[p] / CLK_TCK for p in desc}


def machine_ticks():
    with open("/proc/stat", encoding="ascii") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v[:8]), idle


class Probe:
    """CPU of a server tree and of the machine over one client run."""

    def __init__(self, pid):
        self.pid = pid
        self.own0, self.kids0 = tree_cpu(pid) if pid else (0, {})
        self.m0 = machine_ticks()

    def done(self, n):
        own1, kids1 = tree_cpu(self.pid) if self.pid else (0, {})
        m1 = machine_ticks()
        total, idle = m1[0] - self.m0[0], m1[1] - self.m0[1]
        kid_cpu = sum(v - self.kids0.get(p, 0.0) for p, v in kids1.items())
        return {"server_cpu_us_per_inv": (own1 - self.own0) * 1e6 / n,
                "env_cpu_us_per_inv": kid_cpu * 1e6 / n,
                "machine_busy_pct": 100.0 * (total - idle) / total if total else None}


# ---------------------------------------------------------------------------
# the lab


def q(s):
    return json.dumps(str(s))  # a JSON string is a valid double-quoted YAML scalar


def lab_config(functions, account_concurrency, sleep_ms=2000):
    known = {
        "hello-c": {"runtime": "provided", "code": os.path.join(REPO, "build", "functions", "hello-c")},
        "hello-python": {"runtime": "python3.11", "handler": "handler.handler",
                         "code": os.path.join(REPO, "harness", "functions", "hello-python"),
                         "environment": {"GREETING": "hi"}},
        "sleep-sh": {"runtime": "provided", "code": os.path.join(REPO, "bench", "functions", "sleep-sh"),
                     "timeout_s": 60, "environment": {"SLEEP_MS": str(sleep_ms)}},
    }
    lines = [f"region: {q(REGION)}", 'account_id: "000000000000"',
             f"account_concurrency: {int(account_concurrency)}", "functions:"]
    for name in functions:
        f = known[name]
        lines.append(f"  - name: {q(name)}")
        lines.append(f"    runtime: {q(f['runtime'])}")
        if "handler" in f:
            lines.append(f"    handler: {q(f['handler'])}")
        lines.append(f"    code: {q(f['code'])}")
        lines.append("    memory_mb: 128")
        lines.append(f"    timeout_s: {f.get('timeout_s', 3)}")
        if f.get("environment"):
            lines.append("    environment:")
            for k, v in f["environment"].items():
                lines.append(f"      {k}: {q(v)}")
    return "\n".join(lines) + "\n"


def start_lab(build, tmp, functions, account_concurrency, name="lab", sleep_ms=2000):
    cfg = os.path.join(tmp, f"{name}.yaml")
    with open(cfg, "w", encoding="utf-8") as f:
        f.write(lab_config(functions, account_concurrency, sleep_ms))
    logs = os.path.join(tmp, f"{name}-logs")
    os.makedirs(logs, exist_ok=True)
    return Server(name, [os.path.join(build, "coldsec-lab"), "--config", cfg, "--listen", "127.0.0.1:0",
                         "--log-dir", logs], tmp)


def warm_lab(url, function, width, passes=6):
    """Invokes with `width` threads until a whole pass has no cold start,
    so that `width` environments are warm before anything is measured."""
    import base64
    import concurrent.futures

    import boto3
    import botocore.config
    c = boto3.session.Session().client(
        "lambda", endpoint_url=url, region_name=REGION, aws_access_key_id=KEY, aws_secret_access_key=SECRET,
        config=botocore.config.Config(max_pool_connections=width, read_timeout=60,
                                      retries={"total_max_attempts": 1, "mode": "standard"}))
    barrier = threading.Barrier(width)

    def one(_):
        barrier.wait()
        r = c.invoke(FunctionName=function, Payload=PAYLOAD.encode(), LogType="Tail")
        r["Payload"].read()
        if r.get("FunctionError"):
            raise RuntimeError(f"{function}: function error during warm-up")
        return b"Init Duration" in base64.b64decode(r.get("LogResult", ""))

    for i in range(passes):
        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(width) as ex:
            cold = sum(ex.map(one, range(width)))
        log(f"  warm-up {function} pass {i + 1}: {width} invokes, {cold} cold, {time.monotonic() - t0:.1f} s")
        if cold == 0:
            return i + 1
    return passes


# ---------------------------------------------------------------------------
# the parts


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarise_ab(rounds):
    c = [r["coldsec"] for r in rounds]
    b = [r["boto3"] for r in rounds]

    def ratio(x, y):
        return x / y if x and y else None
    out = {
        "coldsec_rate": med([x.get("rate") for x in c]),
        "boto3_rate": med([x.get("rate") for x in b]),
        "coldsec_cpu_us": med([x.get("cpu_us_per_inv") for x in c]),
        "boto3_cpu_us": med([x.get("cpu_us_per_inv") for x in b]),
        "boto3_phase_cpu_us": med([x.get("phase_cpu_us_per_inv") for x in b]),
        "coldsec_rss_kb": med([x.get("maxrss_kb") for x in c]),
        "boto3_rss_kb": med([x.get("maxrss_kb") for x in b]),
        "rate_ratios": [ratio(x.get("rate"), y.get("rate")) for x, y in zip(c, b)],
        "cpu_ratios": [ratio(y.get("cpu_us_per_inv"), x.get("cpu_us_per_inv")) for x, y in zip(c, b)],
        "cpu_ratios_phase": [ratio(y.get("phase_cpu_us_per_inv"), x.get("cpu_us_per_inv")) for x, y in zip(c, b)],
    }
    out["rate_ratio"] = med(out["rate_ratios"])
    out["cpu_ratio"] = med(out["cpu_ratios"])
    out["cpu_ratio_phase"] = med(out["cpu_ratios_phase"])
    return out


def ab(a, tmp, coldsec, server, function, label):
    env = client_env(os.path.join(tmp, "home"), server.url)
    rounds = []
    for rnd in range(1, a.rounds + 1):
        order = ("coldsec", "boto3") if rnd % 2 else ("boto3", "coldsec")
        row = {"round": rnd, "order": list(order)}
        for who in order:
            probe = Probe(server.proc.pid)
            if who == "coldsec":
                res = run_coldsec(coldsec, function, a.count, a.parallel, env, os.path.join(tmp, "runs"))
            else:
                res = run_boto3(a.python, function, a.count, a.threads, env, server.url)
            res.update(probe.done(a.count))
            row[who] = res
            log(f"  {label} round {rnd} {who}: {res.get('rate', 0):.0f}/s, "
                f"{res['cpu_us_per_inv']:.0f} µs CPU/inv"
                + (f" (phase {res['phase_cpu_us_per_inv']:.0f})" if "phase_cpu_us_per_inv" in res else "")
                + f", RSS {res['maxrss_kb'] / 1024:.1f} MB, answered {res.get('answered')}, "
                f"failed {res.get('failed')}, rc {res['rc']}; server {res['server_cpu_us_per_inv']:.0f} µs/inv, "
                f"envs {res['env_cpu_us_per_inv']:.0f} µs/inv, machine {res['machine_busy_pct']:.0f} % busy")
            if res.get("stderr"):
                log(f"  {who} stderr: {res['stderr'][-600:]}")
        rounds.append(row)
    return {"label": label, "function": function, "rounds": rounds, "median": summarise_ab(rounds)}


def held(srv, res):
    """bare_http's exit line: requests answered, connections, most held at once."""
    lines = srv.stdout().strip().splitlines()
    m = re.search(r"requests (\d+), connections (\d+), peak concurrent (\d+)", lines[-1] if lines else "")
    if m:
        res["server_requests"], res["server_connections"], res["server_peak_concurrent"] = map(int, m.groups())


def rss_delay(a, tmp, coldsec, build):
    """coldsec with 1,000 in flight against bare_http holding every answer;
    baseline: the same 1,000 invocations at --parallel 64, no delay."""
    out = {}
    bare = os.path.join(build, "bench", "bare_http")
    for key, parallel, delay in (("p64", 64, 0), ("p1000", a.rss_count, a.rss_delay_ms)):
        srv = Server(f"bare-{key}", [bare, "--listen", "127.0.0.1:0", "--delay-ms", str(delay)], tmp)
        try:
            env = client_env(os.path.join(tmp, "home"), srv.url)
            r = run_coldsec(coldsec, "hello-c", a.rss_count, parallel, env, os.path.join(tmp, "runs"))
        finally:
            srv.stop()
        r["delay_ms"] = delay
        held(srv, r)
        out[key] = r
        log(f"  rss {key}: {r['maxrss_kb'] / 1024:.1f} MiB peak RSS, peak in flight {r.get('peak_in_flight')}, "
            f"answered {r.get('answered')}, failed {r.get('failed')}, retries {r.get('retries')}, "
            f"{r.get('wall_ms')} ms, CPU {r['cpu_s']:.2f} s; server held {r.get('server_peak_concurrent')} "
            f"at once over {r.get('server_connections')} connections")
    return out


def meminfo_mb():
    info = {}
    with open("/proc/meminfo", encoding="ascii") as f:
        for line in f:
            k, v = line.split(":", 1)
            info[k] = int(v.split()[0]) / 1024
    return info


MIN_AVAILABLE_MB = 3072


def write_result(result, json_out):
    """The measurements as JSON on stdout, and in json_out when given."""
    text = json.dumps(result, indent=1)
    if json_out:
        with open(json_out, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    print(text)


def lab_1000(a, tmp, coldsec, build):
    """The real thing: 1,000 sleeping invocations against the lab, with the
    machine's memory watched (the lab is stopped if less than 3 GB is left)."""
    lab = start_lab(build, tmp, ["sleep-sh"], 2000, "lab-1000", a.rss_delay_ms)
    res = {}
    peak = {"envs": 0, "used_mb": 0.0, "aborted": None}
    stop = threading.Event()
    used0 = meminfo_mb()
    used0 = used0["MemTotal"] - used0["MemAvailable"]

    def watch():
        while not stop.wait(0.5):
            _, kids = tree_cpu(lab.proc.pid)
            peak["envs"] = max(peak["envs"], sum(1 for p in kids if _comm(p) == "bootstrap"))
            m = meminfo_mb()
            peak["used_mb"] = max(peak["used_mb"], m["MemTotal"] - m["MemAvailable"])
            if m["MemAvailable"] < MIN_AVAILABLE_MB and peak["aborted"] is None:
                peak["aborted"] = f"stopped the lab: only {m['MemAvailable']:.0f} MB of memory left"
                log(f"  lab-1000: {peak['aborted']}")
                lab.proc.terminate()
    t = threading.Thread(target=watch, daemon=True)
    try:
        t.start()
        env = client_env(os.path.join(tmp, "home"), lab.url)
        keep = os.path.join(build, "bench", "lab-1000-run")
        shutil.rmtree(keep, ignore_errors=True)
        res = run_coldsec(coldsec, "sleep-sh", a.rss_count, a.rss_count, env, os.path.join(tmp, "runs"),
                          timeout=900, keep=keep)
        res["kept"] = keep
        res["stderr_tail"] = res.pop("stderr", "")[-1500:] if "stderr" in res else None
    finally:
        stop.set()
        t.join()
        res["sleep_ms"] = a.rss_delay_ms
        res["lab_peak_environments"] = peak["envs"]
        res["machine_mem_added_mb"] = peak["used_mb"] - used0
        res["aborted"] = peak["aborted"]
        res["lab_alive_after"] = lab.proc.poll() is None
        res["lab_stderr_tail"] = lab.stderr()[-1500:]
        res["lab_needed_kill"] = lab.stop()
    log(f"  lab-1000: {res.get('summary_line')} rc {res.get('rc')}; RSS {res.get('maxrss_kb', 0) / 1024:.1f} MiB; "
        f"lab environments at peak {res.get('lab_peak_environments')}, "
        f"machine memory +{res.get('machine_mem_added_mb', 0):.0f} MB")
    return res


def _comm(pid):
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as f:
            return f.read().strip()
    except OSError:
        return ""


def machine_facts(python):
    model = ""
    with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="ascii") as f:
        mem_kb = int(f.readline().split()[1])
    try:
        curl = subprocess.run(["curl-config", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        curl = ""
    b3 = subprocess.run([python, "-c", "import boto3,botocore,sys;print(boto3.__version__,sys.version.split()[0])"],
                        capture_output=True, text=True).stdout.split()
    return {"nproc": os.cpu_count(), "model": model, "mem_gb": round(mem_kb / 1024 / 1024, 1),
            "kernel": platform.release(), "libcurl": curl, "boto3": b3[0] if b3 else None,
            "python": b3[1] if len(b3) > 1 else None,
            "loadavg_start": open("/proc/loadavg", encoding="ascii").read().split()[:3],
            "date": time.strftime("%Y-%m-%d %H:%M:%S %z")}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--boto3-worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--function", help=argparse.SUPPRESS)
    p.add_argument("--endpoint", help=argparse.SUPPRESS)
    p.add_argument("--payload", default=PAYLOAD, help=argparse.SUPPRESS)
    p.add_argument("--build", default="build")
    p.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_FANOUT_ROUNDS", "3")))
    p.add_argument("--count", type=int, default=int(os.environ.get("BENCH_FANOUT_COUNT", "3000")))
    p.add_argument("--parallel", type=int, default=64)
    p.add_argument("--threads", type=int, default=32)
    p.add_argument("--functions", default="hello-c,hello-python")
    p.add_argument("--no-bare", action="store_true", help="skip the A/B against bare_http")
    p.add_argument("--rss-count", type=int, default=1000)
    p.add_argument("--rss-delay-ms", type=int, default=2000)
    p.add_argument("--lab-1000", action="store_true", default=os.environ.get("BENCH_FANOUT_LAB1000") == "1",
                   help="also try 1,000 in flight against the lab (sleep-sh); heavy")
    p.add_argument("--python", default=sys.executable, help="the python that runs the boto3 worker")
    p.add_argument("--coldsec", help="the coldsec binary to measure (default: BUILD/coldsec)")
    p.add_argument("--json-out")
    a = p.parse_args()
    if a.boto3_worker:
        return boto3_worker(a)

    build = a.build if os.path.isabs(a.build) else os.path.join(REPO, a.build)
    coldsec = os.path.abspath(a.coldsec) if a.coldsec else os.path.join(build, "coldsec")
    global RUSAGE_RUN
    RUSAGE_RUN = os.path.join(build, "bench", "rusage_run")
    for f in (coldsec, RUSAGE_RUN, os.path.join(build, "coldsec-lab"), os.path.join(build, "bench", "bare_http"),
              os.path.join(REPO, "build", "functions", "hello-c", "bootstrap")):
        if not os.access(f, os.X_OK):
            log(f"{f} is missing (run: make bench)")
            return 1
    tmp = tempfile.mkdtemp(prefix="coldsec-fanout-bench-")
    os.makedirs(os.path.join(tmp, "home"))
    result = {"machine": machine_facts(a.python),
              "config": {"coldsec": coldsec, "count": a.count, "parallel": a.parallel, "threads": a.threads, "rounds": a.rounds,
                         "payload_bytes": len(PAYLOAD), "rss_count": a.rss_count,
                         "rss_delay_ms": a.rss_delay_ms},
              "ab": [], "rss": None, "lab_1000": None}
    servers = []
    try:
        functions = [f for f in a.functions.split(",") if f]
        log(f"lab with {', '.join(functions)}; {a.rounds} rounds of {a.count} invocations each, "
            f"coldsec --parallel {a.parallel} vs boto3 ThreadPoolExecutor({a.threads})")
        lab = start_lab(build, tmp, functions, 1000)
        servers.append(lab)
        for fn in functions:
            warm_lab(lab.url, fn, a.parallel)
            result["ab"].append(ab(a, tmp, coldsec, lab, fn, f"lab {fn}"))
        result["lab_needed_kill"] = lab.stop()
        if not a.no_bare:
            log("bare_http --mode epoll (no lab)")
            bare = Server("bare", [os.path.join(build, "bench", "bare_http"), "--listen", "127.0.0.1:0",
                                   "--mode", "epoll"], tmp)
            servers.append(bare)
            result["ab"].append(ab(a, tmp, coldsec, bare, "hello-c", "bare_http epoll"))
            bare.stop()
        log(f"peak RSS with {a.rss_count} in flight (bare_http --delay-ms {a.rss_delay_ms})")
        result["rss"] = rss_delay(a, tmp, coldsec, build)
        if a.lab_1000:
            log(f"{a.rss_count} in flight against the lab (sleep-sh, {a.rss_delay_ms} ms each)")
            result["lab_1000"] = lab_1000(a, tmp, coldsec, build)
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    result["machine"]["loadavg_end"] = open("/proc/loadavg", encoding="ascii").read().split()[:3]
    write_result(result, a.json_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
