#!/usr/bin/env bash
# The recipe for the default lexicon: the Human Phenotype Ontology (with its
# disease annotations: which phenotypes a disease the other sources know shows), the
# Human Disease Ontology (its UMLS and ICD-10-CM cross-references join the
# other two), ICD-10-CM, Synthea's disease modules and other names of their
# drugs (drug-named-entity-recognition), lowercased and transliterated to ASCII (clinical notes spell
# "Sjogren" as often as "Sjögren").
#
#   Lexicons/default.sh [THINKGRAPH_BINARY] [OUT_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
thinkgraph="${1:-$here/../.build/release/thinkgraph}"
out="${2:-$here/built/default}"
downloads="${THINKGRAPH_VOCABULARIES:-$here/downloads}"

"$here/fetch-open-vocabularies.sh"
"$thinkgraph" lexicon build --out "$out" --force \
  --obo "$downloads/hp.obo" \
  --obo "$downloads/HumanDO.obo" \
  --icd10cm "$downloads/icd10cm-tabular.xml" \
  --synthea "$downloads/synthea-modules" \
  --drug-names "$downloads/drug-names.pkl" \
  --hpo-annotations "$downloads/phenotype.hpoa" \
  --lowercase --ascii
