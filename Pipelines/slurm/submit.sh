#!/usr/bin/env bash
# Submits every stage of a run after import and samples to Slurm: each
# chunked stage as a job array, then its merge, then filter and report,
# chained with afterok dependencies (a failed job cancels what depends on
# it). Prints the job ids. Run it again after a failure, a preemption or a
# cancel: it reads the run folder (`thinkgraph status`) and submits only
# what has not finished: the missing chunks of a stage (an array of just
# those indexes; they resume where they stopped), the merges, and the
# stages after them.
#
#   bash Pipelines/slurm/submit.sh RUN --lexicon LEX [options]
#
# Options:
#   --lexicon DIR             the lexicon (extract, evidence, and filter's concept check)
#   --chunks N                array size of every chunked stage (default 4)
#   --extract-chunks N, --cooccur-chunks N, --evidence-chunks N, --reason-chunks N
#   --extract-options "..."   more options for a stage's workers (also
#   --cooccur-options, --evidence-options, --reason-options, --filter-options)
#   --sbatch-options "..."    added to every sbatch (e.g. "--partition=gpu --account=me")
#   --until STAGE             stop after extract, cooccur, evidence or reason
#   --dry-run                 print the sbatch commands, submit nothing
#
# THINKGRAPH is the binary the jobs run (default: thinkgraph on PATH, else
# .build/release/thinkgraph of this checkout); it must be reachable from the
# compute nodes, as must RUN. Job logs go to RUN/logs/slurm/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

run="${1:-}"; [ -n "$run" ] && [ "${run:0:2}" != "--" ] || usage
shift
lexicon="" chunks=4 until="" dry_run=0 sbatch_options=""
declare -A stage_chunks=() stage_options=()
while [ $# -gt 0 ]; do
  case "$1" in
    --lexicon) lexicon="$2"; shift 2 ;;
    --chunks) chunks="$2"; shift 2 ;;
    --extract-chunks|--cooccur-chunks|--evidence-chunks|--reason-chunks)
      name="${1#--}"; stage_chunks[${name%-chunks}]="$2"; shift 2 ;;
    --extract-options|--cooccur-options|--evidence-options|--reason-options|--filter-options)
      name="${1#--}"; stage_options[${name%-options}]="$2"; shift 2 ;;
    --sbatch-options) sbatch_options="$2"; shift 2 ;;
    --until) until="$2"; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) usage ;;
    *) echo "submit: unknown option $1" >&2; usage ;;
  esac
done
[ -d "$run" ] || { echo "submit: $run: no run folder (import and samples first)" >&2; exit 1; }
run="$(cd "$run" && pwd)"
if [ -z "${THINKGRAPH:-}" ]; then
  THINKGRAPH="$(command -v thinkgraph || echo "$here/../../.build/release/thinkgraph")"
fi
[ -x "$THINKGRAPH" ] || { echo "submit: $THINKGRAPH: not an executable (set THINKGRAPH)" >&2; exit 1; }
THINKGRAPH="$(cd "$(dirname "$THINKGRAPH")" && pwd)/$(basename "$THINKGRAPH")"
export THINKGRAPH
[ -z "$lexicon" ] || lexicon="$(cd "$lexicon" && pwd)"
logs="$run/logs/slurm"
mkdir -p "$logs"

# Where each stage stands: recorded status, chunk count, and the indexes by state.
status_json="$("$THINKGRAPH" status --run "$run" --json)"
field() {  # stage, python expression over `s` (the stage's status object)
  python3 -c "
import json, sys
for line in sys.stdin:
    s = json.loads(line)
    if s['stage'] == '$1':
        print($2)
" <<< "$status_json"
}

# 0,1,2,5,7,8 -> 0-2,5,7-8
ranges() {
  python3 -c "
import sys
items = sorted(int(x) for x in sys.argv[1].split(',') if x)
out, start = [], None
for i, x in enumerate(items):
    if start is None: start = x
    if i + 1 == len(items) or items[i + 1] != x + 1:
        out.append(str(start) if start == x else f'{start}-{x}'); start = None
print(','.join(out))
" "$1"
}

previous=""        # the job the next one waits for
submitted=0        # whether a stage before this one was submitted
submit() {  # prints the job id; args: sbatch arguments
  local dependency=()
  [ -z "$previous" ] || dependency=(--dependency="afterok:$previous" --kill-on-invalid-dep=yes)
  # shellcheck disable=SC2086
  local command=(sbatch --parsable "${dependency[@]}" $sbatch_options "$@")
  if (( dry_run )); then
    echo "${command[*]}" >&2
    echo "dry-$RANDOM"
  else
    "${command[@]}" | cut -d';' -f1
  fi
}

for stage in extract cooccur evidence reasoning; do
  command="$stage"; [ "$stage" = reasoning ] && command=reason
  recorded="$(field "$stage" "s.get('recorded') or ''")"
  count="$(field "$stage" "s.get('chunks') or ''")"
  if (( ! submitted )) && [ "$recorded" = complete ] && [ -e "$run/$stage.jsonl" -o -e "$run/$stage.jsonl.gz" -o -e "$run/$stage.sqlite" ]; then
    echo "$command: complete"
  else
    running="$(field "$stage" "','.join(map(str, s.get('running', [])))")"
    if [ -n "$running" ]; then
      echo "submit: $command: chunks $running are running; wait for them (or scancel them), then submit again" >&2
      exit 1
    fi
    if (( submitted )) && [ -n "$count" ]; then
      echo "submit: $command: has chunk files from an earlier run, but a stage before it runs again;" \
           "remove $run/$stage (and its merged output) to run it afresh" >&2
      exit 1
    fi
    if [ -n "$count" ]; then
      todo="$(field "$stage" "','.join(str(i) for i in range(s['chunks']) if i not in s.get('done', []))")"
    else
      count="${stage_chunks[$command]:-$chunks}"
      todo="$(seq -s, 0 $((count - 1)))"
    fi
    options=(--run "$run")
    case "$stage" in extract|evidence)
      [ -n "$lexicon" ] || { echo "submit: $command needs --lexicon" >&2; exit 2; }
      options+=(--lexicon "$lexicon") ;;
    esac
    # shellcheck disable=SC2206
    options+=(--quiet ${stage_options[$command]:-})
    line="$command:"
    if [ -n "$todo" ]; then
      array="$(ranges "$todo")"
      previous="$(submit --array="$array" --job-name="tg-$command" --export="ALL,THINKGRAPH_CHUNKS=$count" \
                  --output="$logs/$command-%A_%a.log" "$here/stage.sbatch" "$command" "${options[@]}")"
      line+=" array $previous (chunks $array of $count)"
    fi
    previous="$(submit --job-name="tg-$command-merge" --output="$logs/$command-merge-%j.log" \
                "$here/step.sbatch" "$command" merge --run "$run")"
    echo "$line merge $previous"
    submitted=1
  fi
  [ "$until" != "$command" ] || exit 0
done

recorded="$(field filter "s.get('recorded') or ''")"
if (( ! submitted )) && [ "$recorded" = complete ]; then
  echo "filter: complete"
  echo "nothing to submit"
  exit 0
fi
# shellcheck disable=SC2206
filter_lexicon=()
[ -z "$lexicon" ] || filter_lexicon=(--lexicon "$lexicon")   # the grounding check's concept part
previous="$(submit --job-name=tg-filter --output="$logs/filter-%j.log" "$here/step.sbatch" filter --run "$run" "${filter_lexicon[@]}" ${stage_options[filter]:-})"
echo "filter: $previous"
previous="$(submit --job-name=tg-report --output="$logs/report-%j.log" "$here/step.sbatch" report --run "$run")"
echo "report: $previous"
