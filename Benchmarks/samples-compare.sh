#!/usr/bin/env bash
# The `samples` stage, this checkout against an earlier revision, on the
# import benchmark's cohorts: the FHIR demo cohort and a MIMIC-style hosp
# folder (Benchmarks/gen_mimic.py). Both binaries run in turn, three rounds;
# medians of wall time and peak memory.
#
#   bash Benchmarks/samples-compare.sh [BASE_REVISION] [LAB_ROWS]   # default 2e47884, 1000000
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
base="${1:-2e47884}"
rows="${2:-1000000}"
bash Pipelines/setup.sh
command -v /usr/bin/time >/dev/null || apt-get install -y -qq time >/dev/null
swift build -c release --product thinkgraph >&2
work="$root/Benchmarks/data/samples"
mkdir -p "$work"
# The base revision, built in a worktree of its own.
if [ ! -x "$work/base/.build/release/thinkgraph" ] || [ "$(cat "$work/base.rev" 2>/dev/null)" != "$base" ]; then
  rm -rf "$work/base"
  git worktree prune
  git worktree add --detach "$work/base" "$base" >&2
  (cd "$work/base" && swift build -c release --product thinkgraph >&2)
  echo "$base" > "$work/base.rev"
fi
new="$root/.build/release/thinkgraph" old="$work/base/.build/release/thinkgraph"

# Cohorts: timelines imported once (by the new binary; the format is the same).
mimic="$work/mimic-$rows"
[ -f "$mimic/hosp/labevents.csv.gz" ] || { python3 Benchmarks/gen_mimic.py "$mimic/hosp" "$rows"; gzip -1 -f "$mimic/hosp"/*.csv; }
[ -f "$mimic/run/patients.jsonl" ] || "$new" import mimic --hosp "$mimic/hosp" --run "$mimic/run" --quiet
fhir="$work/fhir"
if [ ! -f "$fhir/run/patients.jsonl" ]; then
  export_dir="$(bash Pipelines/demo-cohort.sh "$root/Outputs/demo-cohort")"
  "$new" import fhir "$export_dir" --run "$fhir/run" --mode lenient --quiet
fi

measure() {  # binary, run folder -> "seconds rss_kib"
  /usr/bin/time -f "%e %M" "$1" samples --run "$2" --json 2>&1 >/dev/null | tail -1
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
for cohort in "$fhir" "$mimic"; do
  : > "$work/old.times"; : > "$work/new.times"; : > "$work/old.rss"; : > "$work/new.rss"
  for round in 1 2 3; do
    read -r s r < <(measure "$old" "$cohort/run"); echo "$s" >> "$work/old.times"; echo "$r" >> "$work/old.rss"
    read -r s r < <(measure "$new" "$cohort/run"); echo "$s" >> "$work/new.times"; echo "$r" >> "$work/new.rss"
  done
  old_s=$(median < "$work/old.times"); new_s=$(median < "$work/new.times")
  old_m=$(median < "$work/old.rss"); new_m=$(median < "$work/new.rss")
  samples=$(wc -l < "$cohort/run/samples.jsonl")
  printf "%-40s base %6.2f s %6.0f MiB   this %6.2f s %6.0f MiB   ratio %.2fx   (%d samples now)\n" \
    "$(basename "$cohort") ($(wc -l < "$cohort/run/patients.jsonl") patients)" "$old_s" "$(echo "$old_m / 1024" | bc -l)" \
    "$new_s" "$(echo "$new_m / 1024" | bc -l)" "$(echo "$new_s / $old_s" | bc -l)" "$samples"
done
