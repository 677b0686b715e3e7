#!/usr/bin/env bash
# Path search on the memory-mapped relation graph against the reference's
# approach (one indexed SQL query per node expansion on an in-memory SQLite
# copy of the same relations), side by side in one process, on the same
# random pairs: pairs per second, p50 / p99 per pair, identical lengths.
# Then a random graph of UMLS size (4M concepts, 30M edges): open time,
# memory, pairs per second, p50 / p99.
#
#   bash Benchmarks/evidence-compare.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash Pipelines/setup.sh
command -v /usr/bin/time >/dev/null || apt-get install -y -qq time >/dev/null
swift build -c release --product thinkgraph >&2
tg="$root/.build/release/thinkgraph"
[ -d Lexicons/built/default ] || bash Lexicons/default.sh "$tg" Lexicons/built/default
mkdir -p Benchmarks/data/evidence
echo "== default lexicon (HPO + ICD-10-CM relations)"
taskset -c 0 "$tg" evidence bench --lexicon Lexicons/built/default --pairs 1000
echo "== random graph of UMLS size"
graph=Benchmarks/data/evidence/umls-size.graph
# Generated once; again when missing or written in another graph format.
if ! [ -f "$graph" ] || ! "$tg" evidence bench --graph "$graph" --pairs 1 --no-sql > /dev/null 2>&1; then
  "$tg" evidence bench --graph "$graph" --generate 4000000,30000000 --pairs 1 --no-sql > /dev/null
fi
/usr/bin/time -f "peak RSS %M KiB, %e s in all" taskset -c 0 "$tg" evidence bench --graph "$graph" --pairs 1000
