#!/usr/bin/env bash
# run.sh SECONDS SEED: the Jazzer.js peer baseline of `coldsec fuzz` on the
# nested-conditions benchmark (fuzz_nested.js -> harness/functions/fuzz-nested-node).
# Fuzzes for at most SECONDS with libFuzzer seed SEED, from bench/jazzer/seeds/
# (the baseline event) and fuzz-nested.dict, and prints one JSON line:
#   {"tool": "jazzer.js", ..., "exec_per_s": N, "time_to_bug_s": S | "not found in N s", ...}
# time_to_bug_s counts from this script starting Jazzer.js (Node start and
# instrumentation included) to the target seeing the crash. --sync: the
# target is synchronous (see fuzz_nested.js), Jazzer.js's faster mode.
#
# Jazzer.js lives in build/npm-jazzer (installed here when missing). Its
# prebuilt native module needs glibc 2.38 / GCC 13's libstdc++, newer than
# Debian 12's: glibc_compat.py and compat_shim.cc make it load (see there).
# Everything runs in-process on this machine; nothing is sent anywhere.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 SECONDS SEED" >&2
  exit 2
fi
secs=$1
seed=$2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
jz="$repo/build/npm-jazzer"
version=4.0.0

if [ ! -x "$jz/node_modules/.bin/jazzer" ]; then
  npm install --prefix "$jz" --no-audit --no-fund --save-exact "@jazzer.js/core@$version" >&2
fi
node_mod="$jz/node_modules/@jazzer.js/fuzzer/prebuilds/fuzzer-linux-x64.node"
python3 "$here/glibc_compat.py" "$node_mod" >/dev/null
if [ ! -f "$jz/compat_shim.so" ] || [ "$here/compat_shim.cc" -nt "$jz/compat_shim.so" ]; then
  g++ -O2 -shared -fPIC -o "$jz/compat_shim.so" "$here/compat_shim.cc"
fi

# A scratch corpus: libFuzzer writes new inputs into its first corpus
# folder, and seeds/ must stay the same for every run.
work=$(mktemp -d "${TMPDIR:-/tmp}/coldsec-jazzer.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus" "$work/artifacts"
cp "$here"/seeds/* "$work/corpus/"

start_ms=$(date +%s%3N)
set +e
(cd "$repo" && BENCH_FINDING_FILE="$work/finding.json" LD_PRELOAD="$jz/compat_shim.so" \
  "$jz/node_modules/.bin/jazzer" bench/jazzer/fuzz_nested \
  --sync --includes harness/functions/fuzz-nested-node/ --disable_bug_detectors '.*' \
  "$work/corpus" -- \
  -seed="$seed" -max_total_time="$secs" -dict="$here/fuzz-nested.dict" \
  -artifact_prefix="$work/artifacts/" -print_final_stats=1) >"$work/log" 2>&1
status=$?
set -e
end_ms=$(date +%s%3N)
if [ -n "${BENCH_KEEP_LOG:-}" ]; then cp "$work/log" "$BENCH_KEEP_LOG"; fi

python3 - "$work" "$start_ms" "$end_ms" "$secs" "$seed" "$status" "$version" <<'PY'
import json, os, re, sys
work, start_ms, end_ms, secs, seed, status, version = sys.argv[1:]
start_ms, end_ms = int(start_ms), int(end_ms)
log = open(os.path.join(work, "log"), errors="replace").read()
out = {"tool": "jazzer.js", "version": version, "target": "fuzz-nested-node",
       "seconds": int(secs), "seed": int(seed), "exit_status": int(status)}
# libFuzzer's own average (final stats), else the last status line's
m = re.search(r"stat::average_exec_per_sec:\s*(\d+)", log)
rates = re.findall(r"exec/s: (\d+)", log)
out["exec_per_s"] = int(m.group(1)) if m else (int(rates[-1]) if rates else None)
m = re.search(r"stat::number_of_executed_units:\s*(\d+)", log)
runs = re.findall(r"^#(\d+)\s", log, re.M)
out["execs"] = int(m.group(1)) if m else (int(runs[-1]) if runs else None)
finding = os.path.join(work, "finding.json")
if os.path.exists(finding):
    f = json.loads(open(finding).read())
    out["found"] = True
    out["time_to_bug_s"] = round((f["found_at_ms"] - start_ms) / 1000.0, 2)
    out["execs_to_bug"] = f["execs"]
    crash = [l for l in log.splitlines() if "process.exit(" in l]
    out["finding"] = crash[0].strip()[:300] if crash else None
else:
    out["found"] = False
    out["time_to_bug_s"] = f"not found in {secs} s"
out["wall_s"] = round((end_ms - start_ms) / 1000.0, 2)
print(json.dumps(out))
PY
