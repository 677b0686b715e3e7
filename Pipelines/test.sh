#!/usr/bin/env bash
# Runs the test suite as CI does: install what is missing, fetch the open
# vocabularies the real-file tests read (they are skipped, visibly, when the
# fetch is impossible), then `swift test`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

bash Pipelines/setup.sh
if ! bash Lexicons/fetch-open-vocabularies.sh; then
  echo "test: could not fetch the open vocabularies; real-file tests will be skipped" >&2
fi
swift test "$@"
