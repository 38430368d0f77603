"""bench/summarise.py — turns bench/run.sh's results.jsonl into the markdown
table of `make bench` (the one BENCHMARKS.md records).

Every cell shows each round's value separated by " · ", so the spread
between rounds is visible; the "gap" column compares the median of the
rounds with the aim of issue 2.

    /usr/bin/python3 bench/summarise.py build/bench/results.jsonl
    /usr/bin/python3 bench/summarise.py --fanout build/bench/fanout.json
    /usr/bin/python3 bench/summarise.py --scale build/bench/scale.json

The second form renders bench/fanout_vs_boto3.py's JSON: coldsec fan-out
against boto3 (rates, CPU per invocation, their ratios per round with the
median judged against the aim) and coldsec's peak RSS with 1,000 in flight.
"""
import json
import statistics
import sys


def load(path):
    rows = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                r = json.loads(line)
                rows.setdefault(r["label"], []).append(r)
    for v in rows.values():
        v.sort(key=lambda r: r.get("round", 0))
    return rows


def vals(rows, label, key):
    return [r[key] for r in rows.get(label, [])]


def diff(rows, a, b, key):
    """Per round: rows[a][key] - rows[b][key] (same round)."""
    by_round = {r["round"]: r[key] for r in rows.get(b, [])}
    return [r[key] - by_round[r["round"]] for r in rows.get(a, []) if r["round"] in by_round]


def ratio(rows, a, b, key):
    """Per round: rows[a][key] / rows[b][key] (same round)."""
    by_round = {r["round"]: r[key] for r in rows.get(b, []) if r.get(key)}
    return [r[key] / by_round[r["round"]] for r in rows.get(a, []) if r["round"] in by_round]


def ratio_of_aim(rows, b, key, aim):
    """Per round: aim / rows[b][key]: the aim expressed against the baseline."""
    return [aim / r[key] for r in rows.get(b, []) if r.get(key)]


def cell(values, fmt="{:.0f}"):
    return " · ".join(fmt.format(v) for v in values) if values else "n/a"


def med(values):
    return statistics.median(values) if values else float("nan")


def gap(value, aim, higher_is_better=False, unit=""):
    if value != value:  # NaN
        return "n/a"
    ok = value >= aim if higher_is_better else value <= aim
    if ok:
        return "met"
    if higher_is_better:
        return f"missed: {value:,.0f}{unit} is {aim / value:.1f}x short" if value > 0 else "missed"
    return f"missed by {value - aim:,.1f}{unit} ({value / aim:.1f}x)"


def main(path):
    rows = load(path)
    out = []
    add = out.append
    add("| # | what (round 1 · round 2 · ...) | value | aim | gap (median of rounds) |")
    add("| --- | --- | --- | --- | --- |")

    # a. warm-invoke overhead at concurrency 1
    ov50 = diff(rows, "hello-c-c1", "bare-c1", "p50_us")
    ov99 = diff(rows, "hello-c-c1", "bare-c1", "p99_us")
    add(f"| a1 | bare HTTP round trip, c=1 (bare_http, same client), p50 / p99 µs | "
        f"{cell(vals(rows, 'bare-c1', 'p50_us'))} / {cell(vals(rows, 'bare-c1', 'p99_us'))} | | |")
    add(f"| a2 | lab warm invoke hello-c, c=1, p50 / p99 µs | "
        f"{cell(vals(rows, 'hello-c-c1', 'p50_us'))} / {cell(vals(rows, 'hello-c-c1', 'p99_us'))} | | |")
    add(f"| a3 | **lab overhead p50** = a2 − a1, µs | {cell(ov50)} | ≤ 300 | {gap(med(ov50), 300, unit=' µs')} |")
    add(f"| a4 | **lab overhead p99** = a2 − a1, µs | {cell(ov99)} | ≤ 1000 | {gap(med(ov99), 1000, unit=' µs')} |")
    add(f"| a5 | client's SigV4 signing per request (in a1, a2; not in the latency clock), µs | "
        f"{cell(vals(rows, 'hello-c-c1', 'sign_us_mean'), '{:.1f}')} | | |")
    add(f"| a6 | CPU per warm invoke at c=1: lab process / environment (runtime) / client, µs | "
        f"{cell(vals(rows, 'hello-c-c1', 'server_cpu_us_per_req'))} / "
        f"{cell(vals(rows, 'hello-c-c1', 'children_cpu_us_per_req'))} / "
        f"{cell(vals(rows, 'hello-c-c1', 'client_cpu_us_per_req'))} | | |")

    # b. cold start
    for fn, rt in (("hello-c", "rt-c"), ("hello-python", "rt-python")):
        # rt rows carry start_ms_p50, cold rows init_ms_p50
        by_round = {r["round"]: r["start_ms_p50"] for r in rows.get(rt, [])}
        added = [r["init_ms_p50"] - by_round[r["round"]] for r in rows.get(f"{fn}-cold", [])
                 if r["round"] in by_round]
        add(f"| b | {fn}: runtime's own start outside the lab (exec → first /next), median ms | "
            f"{cell(vals(rows, rt, 'start_ms_p50'), '{:.1f}')} | | |")
        add(f"| b | {fn}: the same inside bwrap with the lab's binds (host network), median ms | "
            f"{cell(vals(rows, rt + '-bwrap', 'start_ms_p50'), '{:.1f}')} | | |")
        add(f"| b | {fn}: the same started the lab's way (lab_sandbox_spawn: netns, handoff, bwrap), "
            f"no spare, median ms | {cell(vals(rows, rt + '-fresh', 'start_ms_p50'), '{:.1f}')} | | |")
        add(f"| b | {fn}: the same from a sandbox prepared ahead (spare), median ms | "
            f"{cell(vals(rows, rt + '-spare', 'start_ms_p50'), '{:.1f}')} | | |")
        add(f"| b | {fn}: lab Init Duration (REPORT), median ms [min–max] | "
            + " · ".join(f"{r['init_ms_p50']:.1f} [{r['init_ms_min']:.0f}–{r['init_ms_max']:.0f}]"
                         for r in rows.get(f"{fn}-cold", [])) + " | | |")
        add(f"| b | {fn}: cold invoke seen by the client, median ms | "
            f"{cell(vals(rows, f'{fn}-cold', 'cold_invoke_ms_p50'), '{:.1f}')} | | |")
        add(f"| b | **{fn}: spawn cost added by the lab** = Init Duration − own start, ms | "
            f"{cell(added, '{:.1f}')} | ≤ 5 | {gap(med(added), 5, unit=' ms')} |")
        fresh = {r["round"]: r["start_ms_p50"] for r in rows.get(rt + "-fresh", [])}
        slow = [fresh[k] - by_round[k] for k in sorted(fresh) if k in by_round]
        add(f"| b | {fn}: the same without a spare (a shape's first start, bursts) = "
            f"no-spare start − own start, ms | {cell(slow, '{:.1f}')} | | |")

    # c. throughput
    for fn, aim in (("hello-c", 10000), ("hello-python", 2000), ("bare", None)):
        for c in (1, 8, 64):
            lab = f"{fn}-c{c}"
            if lab not in rows:
                continue
            ips = vals(rows, lab, "invokes_per_s")
            errs = vals(rows, lab, "errors")
            what = "bare_http (no lab)" if fn == "bare" else fn
            add(f"| c | {what}, c={c}: invokes/s (p50 / p99 ms; errors) | {cell(ips)} "
                f"({cell([v / 1000 for v in vals(rows, lab, 'p50_us')], '{:.2f}')} / "
                f"{cell([v / 1000 for v in vals(rows, lab, 'p99_us')], '{:.2f}')}; {cell(errs)}) | "
                + (f"≥ {aim:,} | {gap(med(ips), aim, True, '/s')} |" if aim else " | |"))
    if "bare-epoll-c64" in rows:
        add(f"| c | bare_http in epoll mode, c=64: invokes/s | "
            f"{cell(vals(rows, 'bare-epoll-c64', 'invokes_per_s'))} | | |")
    for fn in ("hello-c", "hello-python"):
        add(f"| c | {fn}: CPU per invoke, lab / environments, µs at c=1 · 8 · 64 (round 1) | "
            + " · ".join(f"{r['server_cpu_us_per_req']:.0f}/{r['children_cpu_us_per_req']:.0f}"
                         for c in (1, 8, 64) for r in rows.get(f"{fn}-c{c}", [])[:1])
            + " | | |")
    # The warm aims (issue 13) as ratios to bare_http in the same round, so
    # that a slower or busier machine moves both sides alike.
    for c in (1, 8):
        ips = ratio(rows, f"hello-c-c{c}", f"bare-c{c}", "invokes_per_s")
        aim = ratio_of_aim(rows, f"bare-c{c}", "invokes_per_s", 10000)
        add(f"| c | hello-c, c={c}: invokes/s ÷ bare_http's at c={c}, same round (aim 10,000/s as that ratio) | "
            f"{cell(ips, '{:.2f}')} ({cell(aim, '{:.2f}')}) | ≥ 10,000/s | "
            f"{gap(med(vals(rows, f'hello-c-c{c}', 'invokes_per_s')), 10000, True, '/s')} |")
        cpu = vals(rows, f"hello-c-c{c}", "server_cpu_us_per_req")
        add(f"| c | hello-c, c={c}: lab CPU per warm invoke, µs (÷ bare_http's server CPU per request, same round) | "
            f"{cell(cpu)} ({cell(ratio(rows, f'hello-c-c{c}', f'bare-c{c}', 'server_cpu_us_per_req'), '{:.1f}')}) | "
            f"≤ 60 | {gap(med(cpu), 60, unit=' µs')} |")
    busy = [r["machine_busy_pct"] for k, v in rows.items() for r in v if "machine_busy_pct" in r]
    if busy:
        add(f"| | machine CPU busy during warm runs, % (min–max) | {min(busy):.0f}–{max(busy):.0f} | | |")
    print("\n".join(out))


def ratio_gap(value, aim):
    if value != value:  # NaN
        return "n/a"
    if value >= aim:
        return f"met ({value:.1f}x)"
    return f"missed: {value:.1f}x, {aim / value:.1f}x short"


def fanout_table(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    cfg = doc["config"]
    out = []
    add = out.append
    add(f"| # | what (round 1 · round 2 · ...; {cfg['count']:,} invocations per run) | value | aim | "
        "gap (median of rounds) |")
    add("| --- | --- | --- | --- | --- |")

    def col(runs, key, fmt="{:.0f}", scale=1.0):
        return cell([r[key] * scale if r.get(key) is not None else float("nan") for r in runs], fmt)

    for part in doc["ab"]:
        name = part["label"]
        c = [r["coldsec"] for r in part["rounds"]]
        b = [r["boto3"] for r in part["rounds"]]
        m = part["median"]
        is_lab = name.startswith("lab ")
        add(f"| d | {name}: invocations/s, coldsec `--parallel {c[0]['parallel']}` / boto3 "
            f"{b[0]['parallel']} threads | {col(c, 'rate')} / {col(b, 'rate')} | | |")
        rr = [v for v in m["rate_ratios"] if v is not None]
        add(f"| d | **{name}: rate ratio** coldsec ÷ boto3 | {cell(rr, '{:.1f}x')} | "
            + ("≥ 10x | " + ratio_gap(med(rr), 10) if is_lab else "| (no lab: what the clients can do)")
            + " |")
        add(f"| d | {name}: CPU per invocation, µs: coldsec (whole process) / boto3 (whole process) / "
            f"boto3 (invoke phase only) | {col(c, 'cpu_us_per_inv')} / {col(b, 'cpu_us_per_inv')} / "
            f"{col(b, 'phase_cpu_us_per_inv')} | | |")
        cr = [v for v in m["cpu_ratios"] if v is not None]
        crp = [v for v in m["cpu_ratios_phase"] if v is not None]
        add(f"| d | **{name}: CPU ratio** boto3 ÷ coldsec, whole processes / boto3's invoke phase only | "
            f"{cell(cr, '{:.1f}x')} / {cell(crp, '{:.1f}x')} | "
            + (f"≥ 10x (coldsec ≤ 1/10) | whole: {ratio_gap(med(cr), 10)}; phase only: "
               f"{ratio_gap(med(crp), 10)}" if is_lab else "| ") + " |")
        add(f"| d | {name}: peak RSS, MiB: coldsec / boto3 | {col(c, 'maxrss_kb', '{:.1f}', 1 / 1024)} / "
            f"{col(b, 'maxrss_kb', '{:.1f}', 1 / 1024)} | | |")
        if is_lab:
            add(f"| d | {name}: lab / environments CPU per invocation, µs, during coldsec · during boto3 "
                f"(round 1) | {c[0]['server_cpu_us_per_inv']:.0f} / {c[0]['env_cpu_us_per_inv']:.0f} · "
                f"{b[0]['server_cpu_us_per_inv']:.0f} / {b[0]['env_cpu_us_per_inv']:.0f} | | |")
        add(f"| d | {name}: machine CPU busy, %: during coldsec / during boto3 | "
            f"{col(c, 'machine_busy_pct')} / {col(b, 'machine_busy_pct')} | | |")
        bad = [f"{r.get('failed')}/{r.get('function_errors')}/{r.get('retries')}" for r in c]
        add(f"| d | {name}: errors, coldsec failed/function errors/retries · boto3 failed/function errors | "
            f"{' · '.join(bad)} / " + " · ".join(f"{r.get('failed')}/{r.get('function_errors')}" for r in b)
            + " | | |")
    rss = doc.get("rss")
    if rss:
        p64, p1k = rss["p64"], rss["p1000"]
        add(f"| e | coldsec peak RSS, {p64['n']:,} invocations at `--parallel 64` (bare_http, no delay), MiB | "
            f"{p64['maxrss_kb'] / 1024:.1f} | | |")
        mib = p1k["maxrss_kb"] / 1024
        add(f"| e | **coldsec peak RSS, {p1k['n']:,} in flight** (bare_http holds each answer "
            f"{p1k['delay_ms']} ms; peak in flight per coldsec / held at once per server), MiB | "
            f"{mib:.1f} ({p1k.get('peak_in_flight')} / {p1k.get('server_peak_concurrent')}) | ≤ 32 MB | "
            f"{gap(mib, 32, unit=' MiB')} (= {p1k['maxrss_kb'] * 1024 / 1e6:.1f} decimal MB) |")
        add(f"| e | the same run: answered / failed / retries; wall ms; coldsec CPU s; server connections | "
            f"{p1k.get('answered')} / {p1k.get('failed')} / {p1k.get('retries')}; {p1k.get('wall_ms'):.0f}; "
            f"{p1k['cpu_s']:.2f}; {p1k.get('server_connections')} | | |")
    lab = doc.get("lab_1000")
    if lab:
        kinds = "; ".join(f"{k} ×{v}" for k, v in sorted(lab.get("errors_by_kind", {}).items()))
        add(f"| e | {lab['n']:,} in flight against the lab (sleep-sh, {lab['sleep_ms']} ms): answered / "
            f"function errors / failed / retries; RSS MiB; lab environments at peak | "
            f"{lab.get('answered')} / {lab.get('function_errors')} / {lab.get('failed')} / {lab.get('retries')}; "
            f"{lab['maxrss_kb'] / 1024:.1f}; {lab.get('lab_peak_environments')} ({kinds}) | | |")
    mach = doc["machine"]
    add(f"| | machine: {mach['nproc']} CPUs, {mach['model']}, {mach['mem_gb']} GB; boto3 {mach.get('boto3')}, "
        f"Python {mach.get('python')}, {mach.get('libcurl')}; load {' '.join(mach['loadavg_start'])} → "
        f"{' '.join(mach.get('loadavg_end', []))} | | | |")
    print("\n".join(out))


def scale_table(path):
    """bench/lab_scale.py's JSON: N invocations in flight against the lab."""
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    rounds, cfg, mach = d["rounds"], d["config"], d["machine"]

    def col(key, fmt="{:.0f}", scale=1.0):
        return " · ".join(fmt.format(r[key] * scale) if r.get(key) is not None else "-" for r in rounds)

    n = cfg["count"]
    out = [f"| # | {n:,} in flight against the lab: sleep-sh ({cfg['sleep_ms']} ms), account_concurrency "
           f"{cfg['account_concurrency']} (round 1 · round 2 · ...) | value | aim | gap |",
           "| --- | --- | --- | --- | --- |"]
    failed = [r.get("failed") or 0 for r in rounds]
    ferr = [r.get("function_errors") or 0 for r in rounds]
    envs = [r.get("lab_peak_environments") or 0 for r in rounds]
    out.append(f"| f | **failed invocations** / function errors (lab-made: "
               f"{' · '.join(', '.join(f'{k} {v}' for k, v in (r.get('platform_errors') or {}).items()) or 'none' for r in rounds)}) | "
               f"{col('failed')} / {col('function_errors')} | 0 | "
               f"{'met' if max(failed + ferr) == 0 else 'missed'} |")
    out.append(f"| f | **environments** (the lab's children once all were in flight) | {col('lab_peak_environments')} "
               f"| {n:,} | {'met' if min(envs) >= n else 'missed'} |")
    out.append(f"| f | answered / retries / throttled | {col('answered')} / {col('retries')} / {col('throttled')} | | |")
    out.append(f"| f | **wall time**, s (coldsec fan-out, all {n:,} started at once) | {col('phase_wall_s', '{:.1f}')} | | |")
    out.append(f"| f | Init Duration of the cold starts, ms: median / p99 / max | {col('init_ms_median')} / "
               f"{col('init_ms_p99')} / {col('init_ms_max')} | < 10,000 (Lambda's init budget) | |")
    out.append(f"| f | **memory per environment**, MiB: (lab RSS + environments' RSS) / environments; the same "
               f"with PSS | {col('rss_kb_per_env', '{:.1f}', 1 / 1024)} / {col('pss_kb_per_env', '{:.1f}', 1 / 1024)} | | |")
    out.append(f"| f | lab RSS, MiB; lab threads; lab descriptors (peak) | {col('lab_rss_kb', '{:.0f}', 1 / 1024)}; "
               f"{col('lab_peak_threads')}; {col('lab_peak_fds')} | | |")
    out.append(f"| | machine: {mach['nproc']} CPUs, {mach['model']}, {mach['mem_gb']} GB; RLIMIT_NOFILE "
               f"{cfg['nofile'][0]}/{cfg['nofile'][1]}; load {' '.join(mach['loadavg_start'])} → "
               f"{' '.join(mach.get('loadavg_end', []))} | | | |")
    print("\n".join(out))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--fanout":
        fanout_table(sys.argv[2])
    elif len(sys.argv) > 2 and sys.argv[1] == "--scale":
        scale_table(sys.argv[2])
    else:
        main(sys.argv[1] if len(sys.argv) > 1 else "build/bench/results.jsonl")
