#!/usr/bin/env bash
# Candidate local models on the demo's own prompts, one after the other on the
# same run: for each GGUF file, llama.cpp's server (the xllamacpp wheel of
# Pipelines/local-model.sh) answers `thinkgraph reason` for the first LIMIT
# samples with a graph, N chains each, with the demo's settings; then
# `thinkgraph filter` judges the chains. Prints per model: chains kept by the
# filter, samples kept, wall time, and llama.cpp's own prompt and generation
# speeds (tokens/s).
#
#   bash Benchmarks/local-models.sh RUN LIMIT N CONSTRAIN NAME=MODEL.gguf [NAME=MODEL.gguf ...]
#
# RUN is a demo run folder (Outputs/demo-run after Pipelines/demo.sh); it is
# copied, never changed. CONSTRAIN is `sections` (the demo's) or `none`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
run="${1:?usage: local-models.sh RUN LIMIT N CONSTRAIN NAME=MODEL.gguf ...}"
limit="${2:?LIMIT}"; chains="${3:?N}"; constrain="${4:?CONSTRAIN}"; shift 4
thinkgraph="${THINKGRAPH:-$root/.build/release/thinkgraph}"
python="${THINKGRAPH_TOOLS:-$root/Outputs/.tools}/xllamacpp/bin/python"
threads="${THREADS:-2}"
bash "$root/Pipelines/local-model.sh" fetch > /dev/null
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

constraint=()
[ "$constrain" = none ] || constraint=(--constrain "$constrain")
printf '%-16s %9s %9s %14s %9s %12s %12s\n' model size_MB wall_s chains_kept samples prompt_tok/s gen_tok/s
for candidate in "$@"; do
  name="${candidate%%=*}"; model="${candidate#*=}"
  copy="$work/$name"
  cp -r "$run" "$copy"
  rm -rf "$copy/reasoning" "$copy/reasoning.jsonl" "$copy/filter.jsonl" "$copy/dataset.jsonl" "$copy/filter-stats.json"
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  "$python" "$root/Pipelines/serve_llama.py" --model "$model" --port "$port" --ctx 4096 --threads "$threads" \
    > "$work/$name.out" 2> "$work/$name.log" &
  server=$!
  for _ in $(seq 1 120); do [ -s "$work/$name.out" ] && break; sleep 1; done
  sleep 2
  start=$(date +%s.%N)
  "$thinkgraph" reason --run "$copy" --base-url "http://127.0.0.1:$port/v1" --model "$name" --require-graph \
    --limit "$limit" --n "$chains" --context-window 4096 --max-tokens 1600 --concurrency 1 "${constraint[@]}" \
    --quiet > /dev/null
  end=$(date +%s.%N)
  kill "$server"; wait "$server" 2>/dev/null || true
  "$thinkgraph" reason merge --run "$copy" > /dev/null
  "$thinkgraph" filter --run "$copy" > /dev/null
  python3 - "$name" "$model" "$start" "$end" "$copy/filter-stats.json" "$work/$name.log" <<'PY'
import json, os, re, sys
name, model, start, end, stats, log = sys.argv[1:]
total = json.load(open(stats))["total"]
prompt = gen = None
text = open(log, errors="replace").read()
def speeds(kind):
    # llama.cpp's per-request timing lines, "... | task N | prompt eval time = ... ms / N tokens (...)";
    # a one-token prompt is a prompt-cache hit (the sample's later chains), left out.
    ms = tokens = 0.0
    for m in re.finditer(rf"(?:^|\|)\s*{kind} time =\s*([\d.]+) ms /\s*(\d+) tokens", text, re.M):
        if int(m.group(2)) > 1:
            ms += float(m.group(1)); tokens += int(m.group(2))
    return tokens / (ms / 1000) if ms else float("nan")
chains = f"{total.get('kept_completions', '?')}/{total.get('completions', '?')}"
samples = f"{total.get('kept_samples', '?')}/{total.get('samples', '?')}"
print(f"{name:16s} {os.path.getsize(model) / 1e6:9.0f} {float(end) - float(start):9.0f} {chains:>14s} {samples:>9s} "
      f"{speeds('prompt eval'):12.1f} {speeds('eval'):12.1f}")
PY
  if [ -n "${KEEP:-}" ]; then rm -rf "$KEEP/$name"; mkdir -p "$KEEP"; cp -r "$copy" "$KEEP/$name"; fi
done
