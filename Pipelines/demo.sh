#!/usr/bin/env bash
# The main job on the embedded default data, from a fresh machine:
# install what is missing, build thinkgraph, fetch the open vocabularies,
# build the default lexicon and show what it holds.
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
