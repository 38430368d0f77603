#!/usr/bin/env bash
# Validates a SARIF file with Microsoft's SARIF validator (the npm package
# @microsoft/sarif-multitool that `make test` installs), running the SARIF
# rules and GitHub's ingestion rules (rule kinds "Sarif;Gh") at every level.
# Prints each error and warning (rule id, where, message), then one line
# "sarif-validate: N errors, N warnings, N notes"; exits 1 on any error or
# warning, 2 when the validator cannot run. SARIF_VALIDATE_NOTES=1 prints the
# notes too.
#
# Usage: tests/tools/validate_sarif.sh FILE.sarif
# The validator is found in $COLDSEC_NPM (default $PWD/build/npm/node_modules).
#
# SARIF2006 (URIs should be reachable) is disabled: it fetches every URI in
# the log over HTTP, and a test must not touch the network.
set -u
if [ $# -ne 1 ] || [ ! -f "$1" ]; then
  echo "usage: $0 FILE.sarif" >&2; exit 2
fi
npm_dir=${COLDSEC_NPM:-$PWD/build/npm/node_modules}
# The package's own bin wrapper runs the tool through a shell, which splits
# "Sarif;Gh" at the semicolon: resolve the native binary and run it directly.
tool=$(node -e 'process.stdout.write(require(process.argv[1]))' "$npm_dir/@microsoft/sarif-multitool" 2>/dev/null)
if [ -z "$tool" ] || [ ! -x "$tool" ]; then
  echo "sarif-validate: the validator is missing under $npm_dir (run make test, which installs it)" >&2; exit 2
fi
command -v python3 >/dev/null || { echo "sarif-validate: python3 is missing" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/config.xml" <<'XML'
<?xml version="1.0" encoding="utf-8"?>
<Properties>
  <Properties Key="SARIF2006.UrisShouldBeReachable.Options">
    <Property Key="RuleEnabled" Value="Disabled" Type="Driver.RuleEnabledState" />
  </Properties>
</Properties>
XML
# The validator skips, with only a note, a file not named *.sarif or *.json.
cp "$1" "$work/input.sarif" || exit 2
# The input comes first: a list option such as --log takes every word after it.
if ! "$tool" validate "$work/input.sarif" --config "$work/config.xml" --rule-kind "Sarif;Gh" --level "Error;Warning;Note" \
     --output "$work/out.sarif" --log ForceOverwrite >"$work/stdout" 2>&1 || [ ! -s "$work/out.sarif" ]; then
  # The validator exits 1 when it reports an error; only a missing log means it could not run.
  if [ ! -s "$work/out.sarif" ]; then
    cat "$work/stdout" >&2
    echo "sarif-validate: the validator did not run" >&2; exit 2
  fi
fi

python3 - "$work/out.sarif" <<'PY'
import json, os, sys
log = json.load(open(sys.argv[1], encoding="utf-8-sig"))
counts = {"error": 0, "warning": 0, "note": 0}
show_notes = os.environ.get("SARIF_VALIDATE_NOTES") == "1"
for run in log.get("runs", []):
    rules = run.get("tool", {}).get("driver", {}).get("rules", [])
    levels = {r.get("id"): r.get("defaultConfiguration", {}).get("level", "warning") for r in rules}
    strings = {r.get("id"): r.get("messageStrings", {}) for r in rules}
    for res in run.get("results", []):
        if res.get("kind", "fail") != "fail":
            continue
        level = res.get("level") or levels.get(res.get("ruleId"), "warning")
        if level not in counts:
            continue
        counts[level] += 1
        if level != "note" or show_notes:
            where = (res.get("locations") or [{}])[0].get("physicalLocation", {}).get("region", {})
            msg = res.get("message", {})
            text = msg.get("text")
            if not text:
                text = strings.get(res.get("ruleId"), {}).get(msg.get("id"), {}).get("text", "{0}")
                for i, arg in enumerate(msg.get("arguments", [])):
                    text = text.replace("{%d}" % i, str(arg))
            print(f"{level}: {res.get('ruleId')}: {text}"
                  + (f" (line {where.get('startLine')})" if where.get("startLine") else ""))
    # A file the validator skipped or failed on (not JSON, wrong type) shows
    # only here, at any level: each counts as an error.
    for inv in run.get("invocations", []):
        for n in inv.get("toolExecutionNotifications", []) + inv.get("toolConfigurationNotifications", []):
            text = n.get("message", {}).get("text", "")
            # Our own choice (see the top of this file), not a finding about the log.
            if n.get("descriptor", {}).get("id") == "WRN999.RuleExplicitlyDisabled" and "'SARIF2006'" in text:
                continue
            counts["error"] += 1
            print(f"error: validator: {n.get('descriptor', {}).get('id')}: {text}")
print(f"sarif-validate: {counts['error']} errors, {counts['warning']} warnings, {counts['note']} notes")
sys.exit(1 if counts["error"] or counts["warning"] else 0)
PY
