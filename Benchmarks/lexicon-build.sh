#!/usr/bin/env bash
# Measures `thinkgraph lexicon build`: wall time and peak resident memory
# (GNU time), for the default lexicon and for a generated UMLS-scale release.
#
#   bash Benchmarks/lexicon-build.sh default
#   bash Benchmarks/lexicon-build.sh umls [CONSO_ROWS] [REL_ROWS]   # default 8M / 30M
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash Pipelines/setup.sh
command -v /usr/bin/time >/dev/null || { apt-get install -y -qq time >/dev/null; }
swift build -c release --product thinkgraph >&2
thinkgraph="$root/.build/release/thinkgraph"
work="$root/Benchmarks/data"
mkdir -p "$work"

measure() {  # label, command...: progress and errors pass through on stderr
  local label="$1"; shift
  /usr/bin/time -f "RESULT $label: %e s wall, %U s user, %M KiB peak RSS" "$@" >/dev/null
}

case "${1:-default}" in
  default)
    bash Lexicons/fetch-open-vocabularies.sh
    for run in 1 2 3; do
      measure "default lexicon (run $run)" "$thinkgraph" lexicon build --quiet --force --out "$work/lexicon-default" \
        --obo Lexicons/downloads/hp.obo --icd10cm Lexicons/downloads/icd10cm-tabular.xml --ascii
    done
    ;;
  umls)
    conso="${2:-8000000}"; rel="${3:-30000000}"
    data="$work/umls-$conso-$rel"
    if [ ! -s "$data/MRREL.RRF" ]; then
      python3 Benchmarks/gen_umls_rrf.py --out "$data" --conso-rows "$conso" --rel-rows "$rel"
    fi
    du -sh "$data"
    measure "UMLS-scale lexicon ($conso MRCONSO rows, $rel MRREL rows)" \
      "$thinkgraph" lexicon build --force --out "$work/lexicon-umls" --umls "$data"
    "$thinkgraph" lexicon info "$work/lexicon-umls" | head -12
    du -sh "$work/lexicon-umls"
    ;;
  *) echo "usage: $0 default|umls [CONSO_ROWS REL_ROWS]" >&2; exit 2 ;;
esac
