#!/usr/bin/env bash
# The main job on the embedded default data, from a fresh machine:
# install what is missing, build thinkgraph, fetch the open vocabularies,
# build the default lexicon, generate the synthetic demo cohort (FHIR R4),
# import it, and write the run's sample index. Later stages (extract ...
# filter) are still to come; see the issues.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

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
export_dir="$(bash Pipelines/demo-cohort.sh "$root/Outputs/demo-cohort")"
run="$root/Outputs/demo-run"
"$thinkgraph" import fhir "$export_dir" --run "$run" --mode lenient --quiet
"$thinkgraph" import validate "$run/patients.jsonl" | tail -1
"$thinkgraph" samples --run "$run"
sample="$(grep -m1 '"task":"labevents"' "$run/samples.jsonl" | sed 's/^{"id":"\([^"]*\)".*/\1/')"
echo
echo "the context of sample $sample, as a model will read it:"
"$thinkgraph" render --run "$run" --sample "$sample" --max-tokens 800
echo
echo "demo: timelines in $run/patients.jsonl, samples in $run/samples.jsonl, manifest in $run/run.json"
