#!/usr/bin/env bash
# thinkgraph match vs QuickUMLS 1.4.2, side by side in one run, on the same
# lexicon (QuickUMLS installed from `thinkgraph lexicon export-rrf`) and the
# same texts (the first N definitions of hp.obo). Reports agreement (F1 over
# (start, end, CUI)) with disagreement classes, characters per second on one
# core for both, ours with all cores, and start-up time and peak memory.
#
#   bash Benchmarks/quickumls-compare.sh [N]     # default 2000 documents
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
n="${1:-2000}"
bash Pipelines/setup.sh
command -v /usr/bin/time >/dev/null || apt-get install -y -qq time >/dev/null
swift build -c release --product thinkgraph >&2
tg="$root/.build/release/thinkgraph"
work="$root/Benchmarks/data/quickumls"
mkdir -p "$work"
[ -d Lexicons/built/default ] || bash Lexicons/default.sh "$tg" Lexicons/built/default
if [ ! -x "$work/venv/bin/python" ]; then
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install -q quickumls==1.4.2
fi
python3 Benchmarks/hpo_definitions.py Lexicons/downloads/hp.obo "$n" > "$work/docs.jsonl"
"$tg" lexicon export-rrf Lexicons/built/default --out "$work/rrf" >&2
if [ ! -f "$work/index/cui-semtypes.db" ] && [ ! -d "$work/index/cui-semtypes.db" ]; then
  rm -rf "$work/index"
  "$work/venv/bin/python" Benchmarks/quickumls_harness.py install "$work/rrf" "$work/index" > /dev/null
fi
chars=$(python3 -c "import json,sys; print(sum(len(json.loads(l)['text']) for l in open(sys.argv[1])))" "$work/docs.jsonl")
echo "documents: $n, characters: $chars"

# One core each, taken in turn for $rounds rounds (this machine's speed
# swings between runs); each tool's median round is reported. Both time the
# matching alone: QuickUMLS's harness after loading, ours with --stats.
rounds="${ROUNDS:-3}"
: > "$work/rounds.txt"
for round in $(seq "$rounds"); do
  taskset -c 0 "$work/venv/bin/python" Benchmarks/quickumls_harness.py match "$work/index" "$work/docs.jsonl" "$work/quickumls.jsonl" \
    | python3 -c "import json,sys; print('quickumls', json.load(sys.stdin)['characters_per_second'])" >> "$work/rounds.txt"
  taskset -c 0 "$tg" match --lexicon Lexicons/built/default --stats "$work/docs.jsonl" 2>&1 >"$work/ours.jsonl" \
    | sed -n 's/.* \([0-9]*\) characters\/s$/thinkgraph \1/p' >> "$work/rounds.txt"
done
cat "$work/rounds.txt"

: > "$work/empty.jsonl"
read -r startup startup_rss < <(/usr/bin/time -f "%e %M" taskset -c 0 "$tg" match --lexicon Lexicons/built/default "$work/empty.jsonl" 2>&1 >/dev/null | tail -1)
read -r ours ours_rss < <(/usr/bin/time -f "%e %M" taskset -c 0 "$tg" match --lexicon Lexicons/built/default "$work/docs.jsonl" 2>&1 >/dev/null | tail -1)
split -n l/2 -d "$work/docs.jsonl" "$work/part."
start=$(date +%s.%N)
"$tg" match --lexicon Lexicons/built/default "$work/part.00" > "$work/ours.00.jsonl" &
"$tg" match --lexicon Lexicons/built/default "$work/part.01" > "$work/ours.01.jsonl" &
wait
both=$(echo "$(date +%s.%N) - $start" | bc -l)
python3 - "$chars" "$n" "$startup" "$startup_rss" "$ours_rss" "$both" "$work/rounds.txt" <<'PY'
import statistics, sys
chars, docs, startup, startup_rss, ours_rss, both = map(float, sys.argv[1:7])
rounds = {}
for line in open(sys.argv[7]):
    tool, value = line.split()
    rounds.setdefault(tool, []).append(float(value))
ours, theirs = statistics.median(rounds["thinkgraph"]), statistics.median(rounds["quickumls"])
print(f"thinkgraph: start-up {startup:.2f} s ({startup_rss/1024:.0f} MiB peak), "
      f"one core {ours:,.0f} characters/s ({ours * docs / chars:,.0f} documents/s, {ours_rss/1024:.0f} MiB peak), "
      f"two processes {chars/(both-startup):,.0f} characters/s")
print(f"QuickUMLS 1.4.2: one core {theirs:,.0f} characters/s ({theirs * docs / chars:,.0f} documents/s)")
print(f"ratio on one core (medians of {len(rounds['thinkgraph'])} alternating rounds): {ours/theirs:.1f}x")
PY
python3 Benchmarks/compare_mentions.py "$work/docs.jsonl" "$work/quickumls.jsonl" "$work/ours.jsonl"
