#!/usr/bin/env bash
# Matching time against text length: one document of 1, 2, 4 and 8 MB made
# of clinical words with no sentence end (a hostile note: one sentence), run
# through `thinkgraph match` on the default lexicon. Linear matching takes
# about twice as long for twice the text.
#
#   bash Benchmarks/long-text.sh [THINKGRAPH] [LEXICON]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
thinkgraph="${1:-$root/.build/release/thinkgraph}"
lexicon="${2:-$root/Lexicons/built/default}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 - "$work" <<'PY'
import json, random, sys
random.seed(1)
words = ("patient denies fever but reports headache history of seizures mother had breast cancer chest film "
         "suggests pneumonia in the left lower lobe no signs of congestive heart failure today").split()
for mb in (1, 2, 4, 8):
    parts, size = [], 0
    while size < mb << 20:
        word = random.choice(words) + ("." if random.random() < 0.08 else "")
        parts.append(word)
        size += len(word) + 1
    with open(f"{sys.argv[1]}/note{mb}.jsonl", "w") as out:
        out.write(json.dumps({"id": f"note{mb}", "text": " ".join(parts)}) + "\n")
PY
for mb in 1 2 4 8; do
  /usr/bin/time -f "$mb MB: %e s, %M KB peak" "$thinkgraph" match --lexicon "$lexicon" "$work/note$mb.jsonl" > /dev/null
done
