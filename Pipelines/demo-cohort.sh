#!/usr/bin/env bash
# Generates the synthetic demo cohort: a FHIR R4 bulk export from clinosim
# (PyPI, MIT licence; runs offline), so the demo needs no credentialed data.
# Nothing generated is committed: it goes under Outputs/ (ignored by git).
#
#   bash Pipelines/demo-cohort.sh [OUT_DIR] [POPULATION] [SEED]
#
# POPULATION is the catchment population (about 60 % become patients, about
# 30 s per 100 on a 2-core machine). Prints the export folder (the one holding
# the .ndjson files). Re-running with the same arguments reuses the export.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/Outputs/demo-cohort}"
population="${2:-150}"
seed="${3:-7}"
version="0.6.5"
venv="$root/Outputs/.tools/clinosim-$version"
stamp="$out/.generated-p$population-s$seed-v$version"

if [ ! -f "$stamp" ]; then
  if [ ! -x "$venv/bin/clinosim" ]; then
    echo "demo-cohort: installing clinosim $version into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "clinosim==$version"
  fi
  echo "demo-cohort: simulating a catchment population of $population (seed $seed)" >&2
  rm -rf "$out"
  mkdir -p "$out"
  "$venv/bin/clinosim" simulate --country US --population "$population" --seed "$seed" --end 2025-12-31 \
    --output "$out/clinosim" --format fhir-r4 > "$out/clinosim.log" 2>&1 \
    || { tail -20 "$out/clinosim.log" >&2; exit 1; }
  touch "$stamp"
fi
echo "$out/clinosim/fhir_r4"
