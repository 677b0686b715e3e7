#!/usr/bin/env bash
# The reasoning client against a fast local responder (Benchmarks/llm/
# responder.py answers every request after DELAY seconds, a model's
# latency, and counts the requests in flight):
#  1. side by side on the same SIDE samples: `thinkgraph reason` (the whole
#     stage: prompts rendered, requests sent, records written) and the
#     official `openai` Python client (AsyncOpenAI) sending the exact bodies
#     of `thinkgraph reason --dry-run`: CPU per request, wall time, memory,
#     requests in flight;
#  2. `thinkgraph reason` alone over SAMPLES queued samples: memory, CPU per
#     request, requests in flight.
# The samples are the demo run's (run `bash Pipelines/demo.sh` first),
# repeated under new ids.
#
#   bash Benchmarks/reason-client.sh [SAMPLES=100000] [SIDE=10000] [CONCURRENCY=512] [DELAY=0.5]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
samples="${1:-100000}" side="${2:-10000}" concurrency="${3:-512}" delay="${4:-0.5}"
[ -s Outputs/demo-run/evidence.jsonl ] || { echo "reason-client: run bash Pipelines/demo.sh first (it makes Outputs/demo-run)" >&2; exit 1; }
command -v /usr/bin/time >/dev/null || apt-get install -y -qq time >/dev/null
swift build -c release --product thinkgraph >&2
tg="$root/.build/release/thinkgraph"
venv=Outputs/.tools/bench-openai
[ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import openai" 2>/dev/null || {
  python3 -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check openai; }
work="$(mktemp -d)"
trap 'pkill -f "$work/responder" 2>/dev/null || true; rm -rf "$work"' EXIT
cp Benchmarks/llm/responder.py "$work/responder.py"

responder() { # starts a fresh responder, sets $port
  python3 "$work/responder.py" --delay "$delay" > "$work/port" & sleep 1; port="$(cat "$work/port")"; }
stats() { curl -s "http://127.0.0.1:$port/stats"; pkill -f "$work/responder" || true; sleep 0.5; }
measure() { # label, then the command
  local label="$1"; shift
  /usr/bin/time -f "%U %S %e %M" -o "$work/time" "$@" > "$work/out" 2>&1 || { cat "$work/out"; exit 1; }
  read -r user system wall rss < "$work/time"
  echo "$label: $(awk -v u="$user" -v s="$system" -v w="$wall" -v m="$rss" -v n="$requests" \
    'BEGIN { printf "%d requests, %.2f s wall, %.1f req/s, CPU %.2f s (%.3f ms/request), peak RSS %.0f MB", n, w, n / w, u + s, (u + s) * 1000 / n, m / 1024 }'), in flight $(stats)"
}

echo "== side by side: $side samples, concurrency $concurrency, responder delay ${delay}s ($(nproc) cores)"
python3 Benchmarks/llm/make_run.py Outputs/demo-run "$work/side" "$side"
"$tg" reason --run "$work/side" --model bench --n 1 --max-tokens 64 --dry-run --quiet > /dev/null
requests="$side"
responder
measure "thinkgraph reason" "$tg" reason --run "$work/side" --base-url "http://127.0.0.1:$port/v1" --model bench --n 1 \
  --max-tokens 64 --concurrency "$concurrency" --quiet
responder
measure "openai (Python) " "$venv/bin/python" Benchmarks/llm/openai_client.py "http://127.0.0.1:$port/v1" \
  "$work/side/reason-requests/chunk-0000-of-0001.jsonl" "$concurrency" "$work/openai.jsonl"

echo "== thinkgraph reason alone: $samples queued samples"
python3 Benchmarks/llm/make_run.py Outputs/demo-run "$work/all" "$samples"
requests="$samples"
responder
measure "thinkgraph reason" "$tg" reason --run "$work/all" --base-url "http://127.0.0.1:$port/v1" --model bench --n 1 \
  --max-tokens 64 --concurrency "$concurrency" --quiet
