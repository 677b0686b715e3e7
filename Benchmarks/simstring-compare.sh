#!/usr/bin/env bash
# Side by side, in one run: the C++ `simstring` (Debian's simstring-bin) and
# `thinkgraph simstring`, on the same strings and queries, each pinned to one
# core. Reports build time, index size, open time and memory, queries per
# second, and any difference in the retrieved sets.
#
#   bash Benchmarks/simstring-compare.sh default   # the default lexicon's normalised strings
#   bash Benchmarks/simstring-compare.sh 2m        # 2M synthetic strings
#   QUERIES=5000 bash Benchmarks/simstring-compare.sh default
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash Pipelines/setup.sh
command -v simstring >/dev/null || apt-get install -y -qq simstring-bin >/dev/null
command -v /usr/bin/time >/dev/null || apt-get install -y -qq time >/dev/null
swift build -c release --product thinkgraph >&2
tg="$root/.build/release/thinkgraph"
work="$root/Benchmarks/data/simstring-$1"
mkdir -p "$work"
export LANG=C.UTF-8 LC_ALL=C.UTF-8   # the C++ tool decodes -u input with the locale
queries="${QUERIES:-3000}"

case "$1" in
  default)
    [ -d Lexicons/built/default ] || bash Lexicons/default.sh "$tg" Lexicons/built/default
    "$tg" lexicon strings Lexicons/built/default > "$work/strings.txt" ;;
  2m)
    [ -s "$work/strings.txt" ] || python3 Benchmarks/make_queries.py strings 2000000 > "$work/strings.txt" ;;
  *) echo "usage: $0 default|2m" >&2; exit 2 ;;
esac
python3 Benchmarks/make_queries.py queries "$work/strings.txt" "$queries" > "$work/queries.txt"
echo "strings: $(wc -l < "$work/strings.txt"), queries: $(wc -l < "$work/queries.txt"), mode: -u, n=3, no marks"


seconds() { /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1; }

rm -f "$work"/cpp.db* "$work"/ours.db
read -r cpp_build cpp_build_rss < <(seconds taskset -c 0 simstring -b -u -d "$work/cpp.db" < "$work/strings.txt")
read -r our_build our_build_rss < <(seconds taskset -c 0 "$tg" simstring -b -u -q -d "$work/ours.db" < "$work/strings.txt")
cpp_size=$(du -cb "$work"/cpp.db* | tail -1 | cut -f1)
our_size=$(stat -c %s "$work/ours.db")
printf "build:   C++ %6.2f s  ours %6.2f s  ratio %.2fx faster\n" "$cpp_build" "$our_build" "$(echo "$cpp_build / $our_build" | bc -l)"
printf "size:    C++ %10d B  ours %10d B  ratio %.2fx smaller\n" "$cpp_size" "$our_size" "$(echo "$cpp_size / $our_size" | bc -l)"
read -r cpp_open cpp_rss < <(seconds taskset -c 0 simstring -u -q -d "$work/cpp.db" < /dev/null)
read -r our_open our_rss < <(seconds taskset -c 0 "$tg" simstring -u -q -d "$work/ours.db" < /dev/null)
echo "open (process start + open, no query): C++ ${cpp_open} s, ${cpp_rss} KiB RSS; ours ${our_open} s, ${our_rss} KiB RSS"

# Seconds per query: the best of three runs for each tool, the two tools
# alternating, so that a burst of load on this shared machine penalises
# neither.
spq() {  # command...
  taskset -c 0 "$@" < "$work/queries.txt" | sed -n 's/^Seconds per query: //p'
}
smaller() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b + 0 < a + 0) print b; else print a }'; }

for measure in jaccard cosine; do
  cpp_spq=""; our_spq=""
  for _ in 1 2 3; do
    cpp_spq=$(smaller "$cpp_spq" "$(spq simstring -u -q -p -s $measure -t 0.7 -d "$work/cpp.db")")
    our_spq=$(smaller "$our_spq" "$(spq "$tg" simstring -u -q -p -s $measure -t 0.7 -d "$work/ours.db")")
  done
  awk -v m="$measure" -v c="$cpp_spq" -v o="$our_spq" \
    'BEGIN { printf "%-8s 0.7: C++ %8.0f q/s  ours %8.0f q/s  ratio %.2fx (best of 3 each)\n", m, 1 / c, 1 / o, c / o }'
  taskset -c 0 simstring -u -q -e -s $measure -t 0.7 -d "$work/cpp.db" < "$work/queries.txt" > "$work/cpp.$measure.out"
  "$tg" simstring -u -q -e -s $measure -t 0.7 --simstring-rounding -d "$work/ours.db" < "$work/queries.txt" > "$work/ours-rounding.$measure.out"
  "$tg" simstring -u -q -e -s $measure -t 0.7 -d "$work/ours.db" < "$work/queries.txt" > "$work/ours-exact.$measure.out"
  python3 Benchmarks/compare_results.py "$measure" 0.7 "$work/cpp.$measure.out" "$work/ours-rounding.$measure.out" "$work/ours-exact.$measure.out"
done
