#!/usr/bin/env bash
# Fuzzes every built libFuzzer target for a few seconds: the quick check that
# each still starts, loads its corpus and survives fresh mutations.
# Usage: tests/fuzz/smoke.sh [SECONDS]        (default 5; make fuzz-smoke)
# FUZZ_SMOKE_JOBS targets run at a time (default: the number of CPUs).
# FUZZ_SMOKE_SEED fixes libFuzzer's seed (default: a new one each run).
#
# Each build/fuzz/fuzz_NAME runs for SECONDS (-max_total_time) on a scratch
# copy of tests/fuzz/corpus/NAME (that directory is never written), with
# tests/fuzz/NAME.dict when there is one; a crash, leak, timeout or OOM input
# is kept in build/fuzz/smoke-NAME/. One line per target, in name order:
#   fuzz-smoke NAME: N execs, 0 crashes
#   fuzz-smoke NAME: N execs, 1 crash: WHAT (artifact PATH)   after the log's tail
#   fuzz-smoke NAME: failed to start (exit N)                 after the log's tail
# Exit status: 0 when every target ran clean, 1 otherwise, 2 on bad usage.
set -u
cd "$(dirname "$0")/../.." || exit 2

secs=${1:-5}
case $secs in
'' | *[!0-9]* | 0)
    echo "usage: tests/fuzz/smoke.sh [SECONDS]   (SECONDS >= 1)" >&2
    exit 2
    ;;
esac
jobs=${FUZZ_SMOKE_JOBS:-$(nproc 2>/dev/null || echo 1)}
case $jobs in '' | *[!0-9]* | 0) jobs=1 ;; esac

targets=()
for f in build/fuzz/fuzz_*; do
    [ -f "$f" ] && [ -x "$f" ] && targets+=("$f")
done
if [ "${#targets[@]}" -eq 0 ]; then
    echo "fuzz-smoke: no targets in build/fuzz (make fuzz-smoke builds them)" >&2
    exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/coldsec-fuzz-smoke-XXXXXX")
trap 'rm -rf "$work"' EXIT

# Runs one target; leaves its log and exit status in $work.
smoke_one() {
    local f=$1 name=${1##*/fuzz_} scratch art
    local dict=()
    scratch=$(mktemp -d "$work/corpus-$name.XXXXXX")
    if [ -d "tests/fuzz/corpus/$name" ]; then
        cp -R "tests/fuzz/corpus/$name/." "$scratch/"
    fi
    art=build/fuzz/smoke-$name/
    mkdir -p "$art"
    [ -f "tests/fuzz/$name.dict" ] && dict=("-dict=tests/fuzz/$name.dict")
    # -timeout: one input taking that long is a finding; the outer timeout
    # only guards against a target that never returns to libFuzzer's loop.
    seed=()
    [ -n "${FUZZ_SMOKE_SEED:-}" ] && seed=("-seed=$FUZZ_SMOKE_SEED")
    timeout -k 5 $((secs + 60)) "$f" -max_total_time="$secs" -timeout=25 -print_final_stats=1 \
        ${seed[@]+"${seed[@]}"} ${dict[@]+"${dict[@]}"} -artifact_prefix="$art" "$scratch" >"$work/$name.log" 2>&1
    echo $? >"$work/$name.rc"
    rm -rf "$scratch"
}

echo "fuzz-smoke: ${#targets[@]} targets, $secs s each, $jobs at a time"
start=$SECONDS
running=0
for f in "${targets[@]}"; do
    smoke_one "$f" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait

status=0
clean=0
for f in "${targets[@]}"; do
    name=${f##*/fuzz_}
    log=$work/$name.log
    rc=$(cat "$work/$name.rc" 2>/dev/null || echo 255)
    execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9][0-9]*\).*/\1/p' "$log" | tail -1)
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    if [ "$rc" -eq 0 ] && [ -n "$execs" ]; then
        echo "fuzz-smoke $name: $execs execs, 0 crashes"
        clean=$((clean + 1))
        rmdir "build/fuzz/smoke-$name" 2>/dev/null
        continue
    fi
    status=1
    rmdir "build/fuzz/smoke-$name" 2>/dev/null # kept when it holds an input
    tail -30 "$log"
    if [ -n "$artifact" ]; then
        # The harness's own words first, then the sanitizer's, then libFuzzer's.
        what=$(grep -m1 '^FINDING' "$log" || grep -m1 'runtime error:' "$log" ||
            grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)' "$log" || echo "exit $rc")
        what=$(echo "$what" | sed 's/^==[0-9]*== *//' | cut -c1-200)
        echo "fuzz-smoke $name: ${execs:-?} execs, 1 crash: $what (artifact $artifact)"
    elif [ -z "$execs" ]; then
        echo "fuzz-smoke $name: failed to start (exit $rc)"
    else
        echo "fuzz-smoke $name: $execs execs, failed (exit $rc)"
    fi
done
echo "fuzz-smoke: $clean of ${#targets[@]} targets clean in $((SECONDS - start)) s"
exit "$status"
