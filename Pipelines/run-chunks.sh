#!/usr/bin/env bash
# Runs N workers of a chunked stage from a shell loop, waits for all of
# them, reports the ones that failed, and merges when all succeeded.
#
#   bash Pipelines/run-chunks.sh STAGE N --run RUN [stage options...]
#   bash Pipelines/run-chunks.sh extract 4 --run Outputs/my-run --lexicon Lexicons/built/default
#   bash Pipelines/run-chunks.sh cooccur 2 --run Outputs/my-run
#   bash Pipelines/run-chunks.sh evidence 8 --run Outputs/my-run --lexicon Lexicons/built/default --threshold 5
#   bash Pipelines/run-chunks.sh reason 4 --run Outputs/my-run --model gpt-4o --allow-remote api.openai.com --rpm 1000
#
# Workers log to RUN/logs/STAGE-I.log. A failed or killed worker can simply
# be run again (the same command): finished chunks return at once and
# unfinished ones resume where they stopped. THINKGRAPH names the binary
# (default: the release build, else `thinkgraph` on PATH).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ $# -lt 3 ]; then
  sed -n '2,14p' "$0" >&2
  exit 2
fi
stage="$1"; n="$2"; shift 2
case "$stage" in extract|cooccur|evidence|reason) ;; *) echo "run-chunks: unknown stage '$stage' (extract, cooccur, evidence, reason)" >&2; exit 2 ;; esac
[[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "run-chunks: N must be a positive number, got '$n'" >&2; exit 2; }
run=""
previous=""
for argument in "$@"; do
  [ "$previous" = "--run" ] && run="$argument"
  previous="$argument"
done
[ -n "$run" ] || { echo "run-chunks: --run RUN is required" >&2; exit 2; }
tg="${THINKGRAPH:-$root/.build/release/thinkgraph}"
[ -x "$tg" ] || tg="$(command -v thinkgraph || true)"
[ -n "$tg" ] || { echo "run-chunks: no thinkgraph binary (build with: swift build -c release)" >&2; exit 2; }
mkdir -p "$run/logs"

pids=()
for ((i = 0; i < n; i++)); do
  "$tg" "$stage" "$@" --chunk-num "$n" --chunk-idx "$i" > "$run/logs/$stage-$i.log" 2>&1 &
  pids+=("$!")
done
failed=()
for ((i = 0; i < n; i++)); do
  if ! wait "${pids[$i]}"; then failed+=("$i"); fi
done
if ((${#failed[@]})); then
  echo "run-chunks: $stage: ${#failed[@]} of $n workers failed: chunk ${failed[*]}" >&2
  for i in "${failed[@]}"; do
    echo "--- $run/logs/$stage-$i.log (last lines)" >&2
    tail -5 "$run/logs/$stage-$i.log" >&2
  done
  echo "run-chunks: run the same command again to resume" >&2
  exit 1
fi
echo "run-chunks: $stage: $n workers finished" >&2
"$tg" "$stage" merge --run "$run"
