#!/usr/bin/env bash
# Installs the Debian packages coldsec needs, when any is missing.
# Quick no-op when everything is present; uses sudo when not root.
# Usage: scripts/deps.sh [lint]   ("lint" adds clang-tidy and cppcheck)
set -euo pipefail

pkgs=(gcc make pkg-config libc6-dev libssl-dev libcurl4-openssl-dev libcjson-dev
      libpcre2-dev libyaml-dev libmicrohttpd-dev libcmocka-dev bubblewrap
      clang libclang-rt-14-dev procps
      chromium libxml2-utils libicu72 groff-base
      awscli)   # Debian 12's awscli is the AWS CLI v2: tests/integration/test_lab_versions.py
if [ "${1:-}" = lint ]; then pkgs+=(clang-tidy cppcheck); fi

missing=()
while read -r p st; do
  [ "$st" = installed ] || missing+=("$p")
done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${pkgs[@]}" 2>/dev/null)
for p in "${pkgs[@]}"; do   # dpkg-query prints nothing for packages it never heard of
  dpkg-query -W "$p" >/dev/null 2>&1 || missing+=("$p")
done

# Tools that may come from elsewhere (a NodeSource node ships its own npm):
# ask for Debian's package only when the command is absent.
for tool in python3:python3 node:nodejs npm:npm curl:curl; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool##*:}")
done

# boto3 drives the integration tests; any python3 that has it will do.
have_boto3=no
for py in python3 /usr/bin/python3; do
  if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import boto3' >/dev/null 2>&1; then
    have_boto3=yes; break
  fi
done
[ "$have_boto3" = yes ] || missing+=(python3-boto3)

[ "${#missing[@]}" -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
