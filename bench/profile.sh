#!/usr/bin/env bash
# bench/profile.sh — where coldsec-lab's time goes on a warm invoke (the
# findings in BENCHMARKS.md come from these commands). Not part of
# `make bench`: it needs perf and strace, which the project does not install.
#
#   bench/profile.sh [BUILD_DIR] [FUNCTION] [CONCURRENCY]    (defaults: build hello-c 1)
#
# Starts a lab on port 0, warms FUNCTION up, then under lab_load (each step
# its own load, so one tool's overhead does not skew another's numbers):
#   1. perf stat on the lab: task-clock, context switches, page faults;
#   2. strace -c -f on the lab: syscalls per invoke (strace slows the lab
#      several times: use the counts, not the times);
#   3. perf record -g (cpu-clock) on the lab: top syscalls and functions,
#      children included.
# Output goes to stdout; perf.data stays in a temp folder that is removed.
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build}
FN=${2:-hello-c}
C=${3:-1}
LOAD=$BUILD/bench/lab_load
for t in perf strace; do
  command -v "$t" >/dev/null || { echo "profile: $t is not installed (apt-get install linux-perf strace)" >&2; exit 1; }
done
[ -x "$LOAD" ] || { echo "profile: run make bench first (needs $LOAD)" >&2; exit 1; }

tmp=$(mktemp -d)
lab_pid=
cleanup() {
  if [ -n "$lab_pid" ]; then
    kill -TERM "$lab_pid" 2>/dev/null || true
    wait "$lab_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

"$BUILD/coldsec-lab" --config harness/functions.yaml --listen 127.0.0.1:0 --log-dir "$tmp/logs" \
  >"$tmp/out" 2>"$tmp/err" &
lab_pid=$!
for _ in $(seq 100); do
  port=$(sed -n 's|.* listening on http://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$tmp/out")
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "${port:-}" ] || { echo "profile: the lab did not start" >&2; cat "$tmp/err" >&2; exit 1; }
load() { # load SECONDS: background lab_load; its JSON goes to $tmp/load.json
  "$LOAD" --url "http://127.0.0.1:$port" --function "$FN" --concurrency "$C" --warmup 1 \
    --duration "$1" --server-pid "$lab_pid" >"$tmp/load.json" &
  load_pid=$!
  sleep 2 # warm-up done
}
# Waits for the load (in this shell: wait cannot see a sibling's child) and summarises it.
finish_load() {
  wait "$load_pid" || true
  echo "   $1: $(sed -n 's/.*"requests":\([0-9]*\).*"invokes_per_s":\([0-9.]*\).*"errors":\([0-9]*\).*/\1 requests, \2 invokes\/s, \3 errors/p' "$tmp/load.json")"
}

echo "== $FN, concurrency $C, lab pid $lab_pid"
load 6
perf stat -e task-clock,context-switches,cpu-migrations,page-faults -p "$lab_pid" -- sleep 3 2>&1 |
  grep -E 'task-clock|context|migrations|faults|elapsed' || true
finish_load "load over its whole measured window"

echo "== strace -c -f (3 s; divide by the invokes strace let through)"
load 6
timeout -s INT 3 strace -c -f -p "$lab_pid" -o "$tmp/strace.txt" 2>/dev/null || true
head -25 "$tmp/strace.txt" || true
finish_load "load (slowed by the tool)"

echo "== perf record -g, cpu-clock (4 s): syscalls and functions, children included"
load 7
perf record -q -e cpu-clock -F 4000 -g -p "$lab_pid" -o "$tmp/perf.data" -- sleep 4 2>/dev/null
perf report -i "$tmp/perf.data" --children --sort sym --stdio -g none 2>/dev/null |
  grep -E '^ +[0-9]' | grep -E '__x64_sys|\[\.\]' | head -25 || true
finish_load "load (slowed by the tool)"
