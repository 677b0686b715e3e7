#!/usr/bin/env bash
# The main job on the embedded default data, from a fresh machine:
# install what is missing, build thinkgraph, fetch the open vocabularies,
# build the default lexicon, generate the synthetic demo cohort (FHIR R4),
# import it, write the run's sample index, then extract, co-occurrence,
# evidence, reasoning (against a local model), filter and the HTML report.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

# The demo's settings, in one place (each may be set from the environment).
population="${DEMO_POPULATION:-400}"   # clinosim catchment population (about 60 % become patients)
cohort_seed="${DEMO_SEED:-7}"          # clinosim's seed
threshold="${DEMO_THRESHOLD:-1.5}"     # lift above which a pair is evidence (the reference: 5, for MIMIC's size)
min_support="${DEMO_MIN_SUPPORT:-2}"   # samples a history concept needs (the reference: 5)
samples="${DEMO_SAMPLES:-16}"          # samples with a graph asked about
chains="${DEMO_CHAINS:-3}"             # chains per sample
window="${DEMO_CONTEXT_WINDOW:-4096}"  # the local model's context, in tokens
max_tokens="${DEMO_MAX_TOKENS:-1600}"  # longest chain, in tokens
threads="${DEMO_THREADS:-2}"           # the local model's compute threads (it runs alone by then)
echo "demo settings: population $population, seed $cohort_seed, lift threshold $threshold, min support $min_support," \
  "$samples samples x $chains chains, context window $window, max tokens $max_tokens, $threads model threads"

bash Pipelines/setup.sh
echo "demo: building thinkgraph (release)" >&2
swift build -c release --product thinkgraph >&2
thinkgraph="$root/.build/release/thinkgraph"

bash Lexicons/default.sh "$thinkgraph" "$root/Lexicons/built/default"
"$thinkgraph" lexicon info "$root/Lexicons/built/default"
echo
echo "example lookup: thinkgraph lexicon lookup Lexicons/built/default \"seizures\""
"$thinkgraph" lexicon lookup "$root/Lexicons/built/default" "seizures"

echo
echo "example match: a short note through thinkgraph match (QuickUMLS-style matching with context)"
printf '%s\n' '{"id": "demo-1", "text": "Patient denies fever but reports headache. History of seizures. Mother had breast cancer."}' \
  | "$thinkgraph" match --lexicon "$root/Lexicons/built/default"

echo
echo "demo cohort: synthetic FHIR R4 patients from clinosim, imported into Outputs/demo-run"
export_dir="$(bash Pipelines/demo-cohort.sh "$root/Outputs/demo-cohort" "$population" "$cohort_seed")"
run="$root/Outputs/demo-run"
"$thinkgraph" import fhir "$export_dir" --run "$run" --mode lenient --quiet --code-maps "$root/Lexicons/downloads/code-maps"
"$thinkgraph" import validate "$run/patients.jsonl" | tail -1
"$thinkgraph" samples --run "$run"
# A leak audit: every sample's context as the model will read it, scanned for
# any date or time after the sample's target time.
mkdir -p "$run/logs"
"$thinkgraph" export eval --run "$run" --split all --out "$run/logs/all-contexts.jsonl" > /dev/null
python3 - "$run/logs/all-contexts.jsonl" <<'PY'
import json, re, sys
pattern = re.compile(r"\b(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2})(?::(\d{2}))?)?")
contexts = later = 0
for line in open(sys.argv[1]):
    sample = json.loads(line)
    contexts += 1
    for date, time, seconds in pattern.findall(sample["input"]):
        shown = f"{date} {time or '00:00'}:{seconds or '00'}"
        if shown > sample["target_time"]:
            later += 1
            print(f"leak: {sample['id']} shows {shown} (target {sample['target_time']})", file=sys.stderr)
print(f"leak audit: {contexts} contexts, {later} dates or times after their target")
sys.exit(1 if later else 0)
PY
sample="$( (grep -m1 '"task":"labevents"' "$run/samples.jsonl" || head -1 "$run/samples.jsonl") | sed 's/^{"id":"\([^"]*\)".*/\1/')"
if [ -n "$sample" ]; then
  echo
  echo "the context of sample $sample, as a model will read it:"
  "$thinkgraph" render --run "$run" --sample "$sample" --max-tokens 800
fi

echo
echo "stage 1 (extract) and stage 2 (co-occurrence), two workers each:"
rm -rf "$run/extract" "$run/cooccur"
for i in 0 1; do "$thinkgraph" extract --run "$run" --lexicon "$root/Lexicons/built/default" --chunk-num 2 --chunk-idx "$i" & done
wait
"$thinkgraph" extract merge --run "$run"
for i in 0 1; do "$thinkgraph" cooccur --run "$run" --chunk-num 2 --chunk-idx "$i" & done
wait
"$thinkgraph" cooccur merge --run "$run"
# The most frequent coded diagnosis of the cohort, as an example.
concept="$(python3 - "$run/cooccur.sqlite" <<'PY'
import sqlite3, sys
row = sqlite3.connect(sys.argv[1]).execute(
    "SELECT nm.concept FROM concepts c JOIN tasks t ON t.id = c.task JOIN names nm ON nm.id = c.concept "
    "WHERE t.task = 'diagnoses_icd' AND nm.concept NOT LIKE 'STR:%' ORDER BY c.n DESC, nm.concept LIMIT 1").fetchone()
print(row[0] if row else "")
PY
)"
if [ -n "$concept" ]; then
  "$thinkgraph" cooccur top --run "$run" --task diagnoses_icd --concept "$concept" --min-support "$min_support" -k 10
fi

echo
echo "stage 3 (evidence graphs) through Pipelines/run-chunks.sh with two workers:"
rm -rf "$run/evidence"
# The demo cohort is small: lower lift and support bars than the defaults.
THINKGRAPH="$thinkgraph" bash Pipelines/run-chunks.sh evidence 2 --run "$run" --lexicon "$root/Lexicons/built/default" \
  --threshold "$threshold" --min-support "$min_support" --quiet
python3 - "$run/evidence.jsonl" <<'PY'
import collections, json, sys
status = collections.Counter()
example = None
for line in open(sys.argv[1]):
    record = json.loads(line)
    status[record["status"]] += 1
    if example is None and record["paths"]:
        example = record
print("evidence:", ", ".join(f"{count} {name}" for name, count in sorted(status.items())))
if example:
    print(f"a path of sample {example['id']}:")
    print("  " + " -> ".join(example["paths"][0]["path"]))
PY

echo
# Stage 4 asks the local model (llama.cpp's server with SmolLM2-135M, both
# from PyPI) with EHR-R1's prompt, made to keep its three sections by a
# grammar (--constrain sections: the model writes the extraction and the
# reasoning, the Final Results are the target items), unless
# THINKGRAPH_BASE_URL names another endpoint (with THINKGRAPH_MODEL,
# THINKGRAPH_ALLOW_REMOTE and its key in OPENAI_API_KEY). It asks about
# DEMO_SAMPLES samples with a graph; drop --limit to ask about the whole cohort.
rm -rf "$run/reasoning" "$run/reasoning.jsonl"
base="${THINKGRAPH_BASE_URL:-}"
model="${THINKGRAPH_MODEL:-smollm2-135m}"
reason_options=(--context-window "$window" --max-tokens "$max_tokens" --concurrency 1 --constrain sections)
notes_options=(--concurrency 1)
if [ -z "$base" ]; then
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  echo "stage 4 (reasoning) against the local model, llama.cpp on 127.0.0.1:$port:"
  mkdir -p "$run/logs"
  bash Pipelines/local-model.sh serve "$port" "$window" "$threads" > "$run/logs/local-model.out" 2> "$run/logs/local-model.log" &
  server=$!
  trap 'kill "$server" 2>/dev/null || true' EXIT
  for _ in $(seq 1 300); do [ -s "$run/logs/local-model.out" ] && break; kill -0 "$server" 2>/dev/null || break; sleep 1; done
  base="$(head -1 "$run/logs/local-model.out" 2>/dev/null || true)"
  [ -n "$base" ] || { echo "demo: the local model did not start; see $run/logs/local-model.log" >&2; exit 1; }
else
  echo "stage 4 (reasoning) against $base:"
  reason_options=(--concurrency 8)
  [ -n "${THINKGRAPH_ALLOW_REMOTE:-}" ] && reason_options+=(--allow-remote "$THINKGRAPH_ALLOW_REMOTE")
  notes_options=("${reason_options[@]}")
fi
"$thinkgraph" reason --run "$run" --base-url "$base" --model "$model" --require-graph --limit "$samples" \
  --n "$chains" "${reason_options[@]}"
"$thinkgraph" reason merge --run "$run"
# Instruction following from notes (MIMIC-Instr), while the server is up:
# question/answer pairs about a few discharge notes' admissions.
"$thinkgraph" instruct notes --run "$run" --base-url "$base" --model "$model" --limit "${DEMO_NOTES:-3}" --pairs 3 \
  --max-context-tokens 600 --max-note-tokens 400 --max-tokens 160 "${notes_options[@]}" --quiet
"$thinkgraph" instruct notes-merge --run "$run" > /dev/null
echo
echo "stage 5 (filter):"
"$thinkgraph" filter --run "$run" --lexicon "$root/Lexicons/built/default"


echo
kept="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["total"]["kept_samples"])' "$run/filter-stats.json")"
echo "demo: $kept examples kept in the dataset ($run/dataset.jsonl)"
echo
echo "for curators: one kept example with its evidence (thinkgraph inspect), and the run report:"
where=kept
[ "$kept" -gt 0 ] || where=answered
"$thinkgraph" inspect --run "$run" --where "$where" --random 1 --seed 1 > "$run/logs/inspect-example.txt"
# Its head (task, targets) and its evidence and chains; the context is long.
# (awk, not sed | head: under pipefail, head leaving early kills sed with
# SIGPIPE and the demo with it.)
awk '{ print } /^context/ || NR >= 12 { exit }' "$run/logs/inspect-example.txt"
echo "  ... (context: see the file below)"
awk '/^evidence:/ { shown = 1 } shown && printed++ < 40 { print }' "$run/logs/inspect-example.txt"
echo "  ... (the whole example: $run/logs/inspect-example.txt)"
"$thinkgraph" report --run "$run"

echo
echo "instruction data from the same patients (template questions, answers from the record):"
"$thinkgraph" instruct templates --run "$run"
head -2 "$run/instruct-templates.jsonl"
echo "instruction data from discharge notes (the model's pairs about the admission's events, kept when they stand on them):"
"$thinkgraph" instruct notes-filter --run "$run"

echo
echo "demo: timelines $run/patients.jsonl, samples $run/samples.jsonl, concepts $run/extract.jsonl,"
echo "      co-occurrence $run/cooccur.sqlite, evidence $run/evidence.jsonl, reasoning $run/reasoning.jsonl,"
echo "      verdicts $run/filter.jsonl, statistics $run/filter-stats.json, manifest $run/run.json,"
echo "      instruction pairs $run/instruct-templates.jsonl and $run/instruct-notes.jsonl"
echo "the dataset: $run/dataset.jsonl ($kept examples)"
echo "the report:  $run/report.html"
