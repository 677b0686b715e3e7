#!/usr/bin/env bash
# Two builds of thinkgraph side by side on one run folder: stages 1-3
# (extract, cooccur, evidence; one worker each, then merge) timed in
# alternation, ROUNDS times each, and their outputs compared byte for byte.
# For a refactoring that must change neither the records nor the speed.
#
#   bash Benchmarks/stages-compare.sh OLD_BINARY NEW_BINARY RUN LEXICON [ROUNDS] [EVIDENCE OPTIONS...]
#
# RUN is a run folder with patients.jsonl and samples.jsonl (Outputs/demo-run
# after Pipelines/demo.sh); it is copied, never changed.
set -euo pipefail
old="${1:?OLD_BINARY}"; new="${2:?NEW_BINARY}"; run="${3:?RUN}"; lexicon="${4:?LEXICON}"; rounds="${5:-3}"
shift $(( $# < 5 ? $# : 5 ))
evidence_options=("$@")
[ ${#evidence_options[@]} -gt 0 ] || evidence_options=(--threshold 1.5 --min-support 2)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

stages() {  # binary, folder: prints "extract cooccur evidence" seconds
  local tg="$1" folder="$2" times=()
  rm -rf "$folder"; mkdir -p "$folder"
  cp "$run/patients.jsonl" "$run/samples.jsonl" "$run/tasks.json" "$run/run.json" "$folder/"
  for stage in extract cooccur evidence; do
    local options=(--run "$folder" --quiet)
    [ "$stage" = cooccur ] || options+=(--lexicon "$lexicon")
    [ "$stage" = evidence ] && options+=("${evidence_options[@]}")
    local start; start=$(date +%s.%N)
    "$tg" "$stage" "${options[@]}" > /dev/null
    "$tg" "$stage" merge --run "$folder" > /dev/null
    times+=("$(python3 -c "print(f'{$(date +%s.%N) - $start:.2f}')")")
  done
  echo "${times[*]}"
}

printf '%-6s %-5s %9s %9s %9s\n' round build extract cooccur evidence
for round in $(seq 1 "$rounds"); do
  printf '%-6s %-5s %9s %9s %9s\n' "$round" old $(stages "$old" "$work/old")
  printf '%-6s %-5s %9s %9s %9s\n' "$round" new $(stages "$new" "$work/new")
done
for file in extract.jsonl cooccur.sqlite evidence.jsonl; do
  if cmp -s "$work/old/$file" "$work/new/$file"; then echo "$file: identical"; else
    echo "$file: differs"
    if [ "$file" = cooccur.sqlite ]; then
      python3 - "$work/old/$file" "$work/new/$file" <<'PY'
import sqlite3, sys
def rows(path):
    return sorted(sqlite3.connect(path).execute("SELECT task, target, history, count, n_target, n_history, samples FROM lift"))
print("  lift view:", "identical" if rows(sys.argv[1]) == rows(sys.argv[2]) else "differs")
PY
    fi
  fi
done
