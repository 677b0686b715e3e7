#!/usr/bin/env bash
# The pipeline's first stages on a generated MIMIC-IV-shaped cohort:
# import -> samples -> extract -> cooccur -> evidence, chunked stages as two
# workers (Pipelines/run-chunks.sh). Per stage: wall time, peak memory (the
# sum of the workers' peaks: they run at once) and the run folder's disk.
#
#   bash Benchmarks/mimic-scale.sh PATIENTS LAB_ROWS [NOTE_SHARE] [OUT]
#   bash Benchmarks/mimic-scale.sh 300000 120000000 0.3    # MIMIC-IV's size (about 3 hours here)
#   bash Benchmarks/mimic-scale.sh 15000 6000000 0.3       # a twentieth
#
# Cohort: Benchmarks/gen_mimic.py --full (patients, one admission each,
# labevents, diagnoses_icd, prescriptions, discharge notes for NOTE_SHARE of
# the patients), gzipped as PhysioNet ships it. Needs the release binary and
# the default lexicon (see BENCHMARKS.md). The run is compact (import
# --compact); COMPACT=0 measures the plain layout.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
patients="${1:?patients}"; labs="${2:?lab rows}"; share="${3:-0.3}"
out="${4:-$root/Benchmarks/data/mimic-scale-$patients}"
tg="$root/.build/release/thinkgraph"
lexicon="$root/Lexicons/built/default"
workers="${WORKERS:-2}"
command -v /usr/bin/time >/dev/null || bash "$root/Pipelines/apt-install.sh" time
[ -x "$tg" ] && [ -d "$lexicon" ] || { echo "mimic-scale: build the release binary and the default lexicon first" >&2; exit 1; }

cohort="$out/cohort"
if [ ! -f "$cohort/.generated" ]; then
  rm -rf "$cohort"
  python3 "$root/Benchmarks/gen_mimic.py" "$cohort/hosp" "$labs" "$patients" --full "$share"
  gzip -1 -f "$cohort"/hosp/*.csv "$cohort"/note/*.csv
  touch "$cohort/.generated"
fi
input_bytes="$(du -sb "$cohort" | cut -f1)"
run="$out/run"
rm -rf "$run"
mkdir -p "$out/logs"
report="$out/report.md"
echo "| stage | wall | peak RSS | run folder | |" > "$report"
echo "|---|---:|---:|---:|---|" >> "$report"

# stage NAME COMMAND...: one process, timed.
stage() {
  local name="$1"; shift
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$out/logs/$name.rss" "$@" > "$out/logs/$name.out" 2> "$out/logs/$name.err"
  end=$(date +%s.%N)
  record "$name" "$(echo "$end - $start" | bc)" "$(cat "$out/logs/$name.rss")" ""
}

# chunked NAME STAGE OPTIONS...: the workers at once, then the merge.
chunked() {
  local name="$1" kind="$2"; shift 2
  local start end pids=() peak=0
  start=$(date +%s.%N)
  for ((i = 0; i < workers; i++)); do
    /usr/bin/time -f "%M" -o "$out/logs/$name-$i.rss" "$tg" "$kind" --run "$run" "$@" --chunk-num "$workers" --chunk-idx "$i" \
      --quiet > "$out/logs/$name-$i.out" 2> "$out/logs/$name-$i.err" &
    pids+=("$!")
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  for ((i = 0; i < workers; i++)); do peak=$((peak + $(tail -1 "$out/logs/$name-$i.rss"))); done
  end=$(date +%s.%N)
  record "$name ($workers workers)" "$(echo "$end - $start" | bc)" "$peak" ""
  stage "$name merge" "$tg" "$kind" merge --run "$run"
}

record() {  # name seconds rss_kib note
  local disk
  disk="$(du -sb "$run" 2>/dev/null | cut -f1)"
  printf '| %s | %.1f s | %d MiB | %.2f GB | %s |\n' "$1" "$2" "$(( $3 / 1024 ))" "$(echo "$disk / 1000000000" | bc -l)" "$4" | tee -a "$report"
}

total_start=$(date +%s.%N)
# A compact run (gzipped records, one copy after each merge) unless COMPACT=0.
compact=(--compact)
[ "${COMPACT:-1}" = 0 ] && compact=()
stage import "$tg" import mimic --hosp "$cohort/hosp" --note "$cohort/note" --run "$run" --quiet --json "${compact[@]}"
stage samples "$tg" samples --run "$run" --json
chunked extract extract --lexicon "$lexicon"
chunked cooccur cooccur
chunked evidence evidence --lexicon "$lexicon" --threshold 5 --min-support 5
total_end=$(date +%s.%N)

python3 - "$run" "$input_bytes" "$(echo "$total_end - $total_start" | bc)" "$report" <<'PY'
import json, os, sys
run, input_bytes, seconds, report = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
manifest = json.load(open(os.path.join(run, "run.json")))["stages"]
imported = manifest["import"]["counts"]
samples = manifest["samples"]["counts"]["samples"]
peak_disk = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(run) for f in fs)
lines = [
    f"",
    f"input: {input_bytes / 1e9:.2f} GB gzipped; {imported['rows']:,} rows, {imported['patients']:,} patients, "
    f"{imported['events']:,} events; {samples:,} samples",
    f"total {seconds / 60:.1f} min; run folder {peak_disk / 1e9:.2f} GB = {peak_disk / input_bytes:.2f}x the input",
]
with open(report, "a") as handle:
    handle.write("\n".join(line for line in lines if line) + "\n")
print("\n".join(line for line in lines if line))
PY
