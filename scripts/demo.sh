#!/usr/bin/env bash
# make demo: the main job. coldsec runs the default suite (scenarios.yaml)
# against the sample functions on a coldsec-lab it starts itself, prints its
# findings and where the report is; then the vulnerable/hardened matrix.
set -uo pipefail
cd "$(dirname "$0")/.."
out=reports
build/coldsec run scenarios.yaml --out "$out"
rc=$?
# Exit status 1 means findings at or above the gate: what the vulnerable
# samples must give. Anything else is a failed demo.
if [ "$rc" -ne 1 ]; then
  echo "demo: coldsec run exited $rc (expected 1: findings at or above the gate)" >&2
  exit 1
fi
latest=$(ls -td "$out"/*/ | head -1)
exec python3 scripts/matrix.py "${latest%/}/report.json"
