#!/usr/bin/env bash
# bench/run.sh — `make bench`: what coldsec-lab costs, measured on this
# machine, printed as a markdown table (BENCHMARKS.md explains each row).
#
#   bench/run.sh [BUILD_DIR]        (make bench passes build/)
#
# Per round (BENCH_ROUNDS, default 2; the table shows every round, so the
# spread is visible):
#   1. baselines: bench/bare_http (a trivial libmicrohttpd server with the
#      lab's thread-per-connection model) under lab_load at concurrency 1, 8,
#      64, and once in epoll mode at 64; bench/rt_start: each runtime's own
#      start (exec to first GET /next against a fake Runtime API), bare,
#      inside bwrap with the lab's binds, and started the lab's way
#      (lab_sandbox_spawn) with and without a sandbox prepared ahead.
#   2. for hello-c, then hello-python, a fresh coldsec-lab on port 0:
#      BENCH_COLD_RUNS (10) forced cold starts first (Init Duration from the
#      REPORT line), then warm invokes at concurrency 1, 8 and 64
#      (BENCH_DURATION s each, default 5, after warm-up).
# Then, once: bench/fanout_vs_boto3.py — `coldsec fanout` against boto3 on
# the same lab function and payload (BENCH_FANOUT_ROUNDS rounds, default 3,
# of BENCH_FANOUT_COUNT invocations, default 3000) and coldsec's peak RSS
# with 1,000 in flight; BENCH_FANOUT_LAB1000=1 also tries 1,000 in flight
# against the lab itself. BENCH_FANOUT=0 skips it; BENCH_FANOUT=only runs
# nothing else.
# Then bench/lab_scale.py: BENCH_SCALE_COUNT (1,000) invocations of
# bench/functions/sleep-sh (2 s each) all in flight at once against a fresh
# lab with Lambda's default account limit of 1,000: failures, environments,
# wall time, memory per environment (BENCH_SCALE_ROUNDS, default 1; several
# minutes on 2 cores). BENCH_SCALE=0 skips it, BENCH_SCALE=only runs only it.
# Then bench/suite_time.py: the whole default suite (`coldsec run
# scenarios.yaml`, coldsec starting its own lab) BENCH_SUITE_ROUNDS times
# (default 3), wall time against issue 4's aim of 60 s; BENCH_SUITE=0 skips
# it, BENCH_SUITE=only runs nothing else.
# Then bench/fuzz_bench.py: `coldsec fuzz` inputs/s on hello-python with
# coverage, and time-to-bug on the nested-conditions samples with and without
# coverage and against Jazzer.js (BENCH_FUZZ_SECONDS per run, default 150;
# BENCH_FUZZ_SEEDS, default 1,2); BENCH_FUZZ=0 skips it, =only runs only it.
# Raw results (one JSON object per measurement) are kept in
# BUILD/bench/results.jsonl, the fan-out's in BUILD/bench/fanout.json.
# Only 127.0.0.1 is ever contacted.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
ROUNDS=${BENCH_ROUNDS:-2}
DUR=${BENCH_DURATION:-5}
COLD=${BENCH_COLD_RUNS:-10}
LOAD=$BUILD/bench/lab_load
BARE=$BUILD/bench/bare_http
RTSTART=$BUILD/bench/rt_start
LAB=$BUILD/coldsec-lab
STUB=$BUILD/coldsec-lab-stub
HELLO_C=build/functions/hello-c/bootstrap
PY=/usr/bin/python3.11
[ -x "$PY" ] || PY=/usr/bin/python3
FANOUT=${BENCH_FANOUT:-1}
SUITE=${BENCH_SUITE:-1}
FUZZB=${BENCH_FUZZ:-1}
SCALE=${BENCH_SCALE:-1}
for f in "$LOAD" "$BARE" "$RTSTART" "$LAB" "$STUB" "$HELLO_C" "$BUILD/coldsec" "$BUILD/bench/rusage_run"; do
  [ -x "$f" ] || { echo "bench: $f is missing (run: make bench)" >&2; exit 1; }
done

tmp=$(mktemp -d)
results=$BUILD/bench/results.jsonl
[ "$FANOUT" = only ] || [ "$SCALE" = only ] || : >"$results"
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then stop_server; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server NAME CMD...: waits for "... listening on http://127.0.0.1:PORT".
start_server() {
  local name=$1; shift
  "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  server_pid=$!
  for _ in $(seq 100); do
    port=$(sed -n 's|.* listening on http://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$tmp/$name.out")
    [ -n "$port" ] && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "bench: $name did not start:" >&2; cat "$tmp/$name.err" >&2
  exit 1
}

# TERM, then KILL after 10 s (style.md, point 9).
stop_server() {
  local pid=$server_pid
  server_pid=
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  echo "bench: server $pid needed SIGKILL" >&2
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# warm LABEL ROUND ARGS...: one lab_load run against the running server
# (whose CPU, and its children's, lab_load reads from /proc).
warm() {
  local label=$1 round=$2; shift 2
  local out
  out=$("$LOAD" --url "http://127.0.0.1:$port" --server-pid "$server_pid" --label "$label" \
    --duration "$DUR" "$@")
  out=$(printf '%s' "$out" | sed "s|}\$|,\"round\":$round}|")
  echo "$out" >>"$results"
  echo "  $label: $(printf '%s' "$out" | cut -c1-200)..." >&2
}

# shellcheck disable=SC2016 # $LATEST is Lambda's literal version name
lab_env=(--env PATH=/usr/local/bin:/usr/bin/:/bin:/opt/bin --env LANG=en_US.UTF-8 --env TZ=:UTC
  --env AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128 --env 'AWS_LAMBDA_FUNCTION_VERSION=$LATEST'
  --env LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib)
# The lab's bwrap arguments (harness/lab_sandbox.c) minus --unshare-net:
# rt_start's fake Runtime API is on the host's loopback.
bwrap_args() {
  local code=$1 runtime=${2:-}
  local a=(/usr/bin/bwrap --unshare-user --uid 993 --gid 990 --unshare-pid --unshare-ipc
    --unshare-uts --hostname coldsec-lab-sandbox --unshare-cgroup-try --ro-bind /usr /usr
    --symlink usr/bin /bin --symlink usr/sbin /sbin --symlink usr/lib /lib --symlink usr/lib64 /lib64
    --ro-bind /etc /etc --proc /proc --dev /dev --tmpfs /tmp --ro-bind "$code" /var/task)
  [ -n "$runtime" ] && a+=(--ro-bind "$runtime" /var/runtime)
  a+=(--chdir /var/task --remount-ro / --die-with-parent --cap-drop ALL --)
  printf '%s\n' "${a[@]}"
}

rt() { # rt LABEL ROUND ARGS... (rt_start)
  local label=$1 round=$2; shift 2
  local out
  out=$("$RTSTART" --runs "$COLD" --label "$label" "${lab_env[@]}" "$@")
  out=$(printf '%s' "$out" | sed "s|}\$|,\"round\":$round}|")
  echo "$out" >>"$results"
  echo "  $label: $out" >&2
}

# fanout: coldsec fan-out against boto3, and coldsec's RSS with 1,000 in flight.
fanout() {
  local py=""
  for cand in python3 /usr/bin/python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import boto3' 2>/dev/null; then py=$cand; break; fi
  done
  if [ -z "$py" ]; then
    echo "bench: fan-out against boto3 skipped: no python3 with boto3 (run scripts/deps.sh)" >&2
    return 0
  fi
  echo "bench: coldsec fan-out against boto3 (bench/fanout_vs_boto3.py); load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  # (the boto3 worker runs under that python's sys.executable, not a shim)
  "$py" bench/fanout_vs_boto3.py --build "$BUILD" --json-out "$BUILD/bench/fanout.json" >/dev/null
  echo
  /usr/bin/python3 bench/summarise.py --fanout "$BUILD/bench/fanout.json"
}
scale() {
  echo "bench: 1,000 in flight against the lab (bench/lab_scale.py); load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  /usr/bin/python3 bench/lab_scale.py --build "$BUILD" --json-out "$BUILD/bench/scale.json" >/dev/null
  echo
  /usr/bin/python3 bench/summarise.py --scale "$BUILD/bench/scale.json"
}
suite() {
  echo "bench: the default suite (bench/suite_time.py); load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  echo
  /usr/bin/python3 bench/suite_time.py --build "$BUILD" --rounds "${BENCH_SUITE_ROUNDS:-3}" \
    --json-out "$BUILD/bench/suite.json"
}
fuzzb() {
  echo "bench: coldsec fuzz (bench/fuzz_bench.py); load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  echo
  /usr/bin/python3 bench/fuzz_bench.py --build "$BUILD" --seconds "${BENCH_FUZZ_SECONDS:-150}" \
    --seeds "${BENCH_FUZZ_SEEDS:-1,2}" --json-out "$BUILD/bench/fuzz.json"
}
if [ "$SCALE" = only ]; then
  scale
  exit 0
fi
if [ "$SUITE" = only ]; then
  suite
  exit 0
fi
if [ "$FUZZB" = only ]; then
  fuzzb
  exit 0
fi
if [ "$FANOUT" = only ]; then
  fanout
  exit 0
fi

here=$(pwd)
echo "bench: $ROUNDS rounds, ${DUR}s per warm measurement, $COLD cold starts each; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for round in $(seq "$ROUNDS"); do
  echo "bench: round $round — baselines" >&2
  start_server bare "$BARE" --listen 127.0.0.1:0
  for c in 1 8 64; do warm "bare-c$c" "$round" --concurrency "$c" --warmup 0.5; done
  stop_server
  start_server bare "$BARE" --listen 127.0.0.1:0 --mode epoll
  warm "bare-epoll-c64" "$round" --concurrency 64 --warmup 0.5
  stop_server

  mapfile -t bw_c < <(bwrap_args "$here/build/functions/hello-c")
  mapfile -t bw_py < <(bwrap_args "$here/harness/functions/hello-python" "$here/harness/runtimes/python")
  rt rt-c "$round" --env AWS_LAMBDA_FUNCTION_NAME=hello-c -- "$HELLO_C"
  rt rt-c-bwrap "$round" --env AWS_LAMBDA_FUNCTION_NAME=hello-c -- "${bw_c[@]}" /var/task/bootstrap
  rt rt-python "$round" --env AWS_LAMBDA_FUNCTION_NAME=hello-python --env _HANDLER=handler.handler \
    --env "LAMBDA_TASK_ROOT=$here/harness/functions/hello-python" \
    -- "$PY" harness/runtimes/python/bootstrap.py
  rt rt-python-bwrap "$round" --env AWS_LAMBDA_FUNCTION_NAME=hello-python --env _HANDLER=handler.handler \
    --env LAMBDA_TASK_ROOT=/var/task -- "${bw_py[@]}" "$PY" /var/runtime/bootstrap.py
  # The lab's own start path (lab_sandbox_spawn: netns, listener handoff,
  # bwrap), every sandbox set up on the clock ("fresh") or started from one
  # prepared ahead ("spare"); 300 ms apart, as the lab's forced cold starts.
  for how in fresh spare; do
    rt "rt-c-$how" "$round" --gap-ms 300 --env AWS_LAMBDA_FUNCTION_NAME=hello-c --lab-sandbox "$how" \
      --code "$here/build/functions/hello-c" --stub "$STUB" -- /var/task/bootstrap
    rt "rt-python-$how" "$round" --gap-ms 300 --env AWS_LAMBDA_FUNCTION_NAME=hello-python \
      --env _HANDLER=handler.handler --env LAMBDA_TASK_ROOT=/var/task --lab-sandbox "$how" \
      --code "$here/harness/functions/hello-python" --runtime-dir "$here/harness/runtimes/python" \
      --stub "$STUB" -- "$PY" /var/runtime/bootstrap.py
  done

  for fn in hello-c hello-python; do
    echo "bench: round $round — coldsec-lab, $fn" >&2
    start_server lab "$LAB" --config harness/functions.yaml --listen 127.0.0.1:0 \
      --log-dir "$tmp/logs-$round-$fn"
    out=$("$LOAD" --url "http://127.0.0.1:$port" --function "$fn" --cold "$COLD" --label "$fn-cold")
    out=$(printf '%s' "$out" | sed "s|}\$|,\"round\":$round}|")
    echo "$out" >>"$results"
    echo "  $fn-cold: $out" >&2
    for c in 1 8 64; do
      warm "$fn-c$c" "$round" --function "$fn" --concurrency "$c" --warmup 1
    done
    stop_server
    rm -rf "$tmp/logs-$round-$fn"
  done
done

/usr/bin/python3 bench/summarise.py "$results"
[ "$FANOUT" = 0 ] || fanout
[ "$SCALE" = 0 ] || scale
[ "$SUITE" = 0 ] || suite
[ "$FUZZB" = 0 ] || fuzzb
