#!/usr/bin/env bash
# make demo: runs scripts/demo.py with a python3 that has boto3.
set -euo pipefail
cd "$(dirname "$0")/.."
for py in python3 /usr/bin/python3; do
  if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import boto3' 2>/dev/null; then
    exec "$py" scripts/demo.py "$@"
  fi
done
echo "demo: no python3 with boto3 (run scripts/deps.sh)" >&2
exit 1
