#!/usr/bin/env bash
# Extraction throughput (one worker pinned to one core, then two workers)
# on the demo cohort and on a ten-times larger cohort made by copying it
# under new patient ids; co-occurrence time and peak memory over generated
# sample sets of 250k and 1M samples (about 5 target and 50 history
# concepts each).
#
#   bash Benchmarks/stages-scale.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash Pipelines/setup.sh
command -v /usr/bin/time >/dev/null || apt-get install -y -qq time >/dev/null
swift build -c release --product thinkgraph >&2
tg="$root/.build/release/thinkgraph"
lexicon="$root/Lexicons/built/default"
[ -d "$lexicon" ] || bash Lexicons/default.sh "$tg" "$lexicon"
work="$root/Benchmarks/data/stages"
mkdir -p "$work"

export_dir="$(bash Pipelines/demo-cohort.sh "$root/Outputs/demo-cohort")"
prepare() {  # name, copies
  local run="$work/$1"
  rm -rf "$run"
  "$tg" import fhir "$export_dir" --out "$work/base.jsonl" --quiet
  python3 - "$work/base.jsonl" "$2" > "$work/$1.jsonl" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
for copy in range(int(sys.argv[2])):
    for line in lines:
        patient = json.loads(line)
        patient["patient"] = f"{patient['patient']}-{copy}"
        print(json.dumps(patient, separators=(",", ":"), ensure_ascii=False))
PY
  "$tg" import jsonl "$work/$1.jsonl" --run "$run" --quiet
  "$tg" samples --run "$run" --json > /dev/null
}

extract() {  # name
  local run="$work/$1" patients events chars one two
  patients=$(wc -l < "$run/patients.jsonl")
  read -r events chars < <(python3 -c "
import json, sys
e = c = 0
for line in open(sys.argv[1]):
    p = json.loads(line)
    e += len(p['events']); c += sum(len(x.get('text') or '') for x in p['events'])
print(e, c)" "$run/patients.jsonl")
  rm -rf "$run/extract"
  one=$( { /usr/bin/time -f "%e %M" taskset -c 0 "$tg" extract --run "$run" --lexicon "$lexicon" --quiet; } 2>&1 | tail -1)
  rm -rf "$run/extract"
  local start end
  start=$(date +%s.%N)
  for i in 0 1; do "$tg" extract --run "$run" --lexicon "$lexicon" --chunk-num 2 --chunk-idx $i --quiet & done
  wait
  end=$(date +%s.%N)
  two=$(echo "$end - $start" | bc -l)
  python3 - "$1" "$patients" "$events" "$chars" $one "$two" <<'PY'
import sys
name, patients, events, chars, one, rss, two = sys.argv[1], *map(float, sys.argv[2:])
print(f"extract {name}: {int(patients)} patients, {int(events)} events, {int(chars)} text characters")
print(f"  1 worker (1 core): {one:.2f} s, {patients/one:.0f} patients/s, {events/one:.0f} events/s, "
      f"{chars/one:,.0f} text chars/s, {rss/1024:.0f} MiB peak")
print(f"  2 workers:         {two:.2f} s, {patients/two:.0f} patients/s, {events/two:.0f} events/s; "
      f"scaling {one/two:.2f}x from 1 to 2 workers")
PY
}

prepare demo 1
extract demo
prepare large 10
extract large

for samples in 250000 1000000; do
  dir="$work/cooccur-$samples"
  [ -s "$dir/samples.jsonl" ] || python3 Benchmarks/gen_cooccur.py "$dir" "$samples"
  rm -rf "$dir/cooccur" "$dir/cooccur.sqlite" "$dir/run.json"
  out=$( { /usr/bin/time -f "TIME %e %M" "$tg" cooccur --run "$dir" --json --quiet; } 2>&1 )
  read -r _ seconds rss < <(echo "$out" | grep '^TIME')
  merged=$( { /usr/bin/time -f "TIME %e %M" "$tg" cooccur merge --run "$dir" --json; } 2>&1 )
  read -r _ merge_seconds merge_rss < <(echo "$merged" | grep '^TIME')
  echo "cooccur $samples samples: count $seconds s, $((rss / 1024)) MiB peak; merge $merge_seconds s, $((merge_rss / 1024)) MiB peak;" \
    "$(echo "$out" | grep '^{')"
done
