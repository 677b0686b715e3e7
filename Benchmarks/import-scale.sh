#!/usr/bin/env bash
# Import throughput and peak memory: MIMIC-style CSVs at two sizes (to show
# memory follows the partition, not the table) and the FHIR demo cohort.
#
#   bash Benchmarks/import-scale.sh [LAB_ROWS]     # default 10000000
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
rows="${1:-10000000}"
bash Pipelines/setup.sh
command -v /usr/bin/time >/dev/null || apt-get install -y -qq time >/dev/null
swift build -c release --product thinkgraph >&2
tg="$root/.build/release/thinkgraph"
work="$root/Benchmarks/data/import"
mkdir -p "$work"

measure() {  # label, rows, command...
  local label="$1" count="$2"; shift 2
  read -r seconds rss < <(/usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1)
  events=$(python3 -c "import json,sys; print(sum(len(json.loads(l)['events']) for l in open(sys.argv[1])))" "$work/out.jsonl")
  printf "%-34s %11d rows %9d events %8.1f s %10.0f rows/s %9.0f events/s %7.0f MiB peak\n" \
    "$label" "$count" "$events" "$seconds" "$(echo "$count / $seconds" | bc -l)" "$(echo "$events / $seconds" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
}

for size in $((rows / 10)) "$rows"; do
  dir="$work/mimic-$size"
  [ -f "$dir/labevents.csv.gz" ] || { python3 Benchmarks/gen_mimic.py "$dir" "$size"; gzip -1 -f "$dir"/*.csv; }
  measure "MIMIC hosp, $size lab rows (gz)" "$size" "$tg" import mimic --hosp "$dir" --out "$work/out.jsonl" --quiet
done

export_dir="$(bash Pipelines/demo-cohort.sh "$root/Outputs/demo-cohort")"
resources=$(cat "$export_dir"/*.ndjson | wc -l)
measure "FHIR R4 NDJSON (clinosim demo)" "$resources" "$tg" import fhir "$export_dir" --out "$work/out.jsonl" --quiet
rm -f "$work/out.jsonl"
