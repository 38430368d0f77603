#!/usr/bin/env bash
# Installs the Debian packages coldsec needs, when any is missing.
# Quick no-op when everything is present; uses sudo when not root.
# Usage: scripts/deps.sh [lint]   ("lint" adds clang-tidy and cppcheck)
set -euo pipefail

pkgs=(gcc make pkg-config libc6-dev libssl-dev libcurl4-openssl-dev libcjson-dev
      libpcre2-dev libyaml-dev libmicrohttpd-dev libcmocka-dev bubblewrap
      clang libclang-rt-14-dev python3 nodejs curl procps)
if [ "${1:-}" = lint ]; then pkgs+=(clang-tidy cppcheck); fi

missing=()
for p in "${pkgs[@]}"; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case "$st" in *"ok installed"*) ;; *) missing+=("$p") ;; esac
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
