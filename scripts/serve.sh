#!/usr/bin/env bash
# Builds Ocular (release) and starts the server.
#   scripts/serve.sh [MODEL] [-- extra `ocular serve` flags]
# MODEL (or $OCULAR_MODEL) is a model folder or a text GGUF. Without one, a tiny demo
# checkpoint with RANDOM weights is generated and served, so the whole product (API, web UI,
# metrics) can be tried end to end; its answers are meaningless and it says so in its name.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
export CCACHE_BASEDIR="$PWD"
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target ocular
bin=./build/release/apps/ocular

model="${1:-${OCULAR_MODEL:-}}"
[ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
extra=("$@")
if [ -z "$model" ] || [ ! -e "$model" ]; then
  if [ -n "$model" ]; then
    echo "serve: model '$model' not found locally (downloading from the hub is not available);" >&2
  fi
  demo=build/demo-model
  if [ ! -f "$demo/config.json" ]; then
    echo "serve: generating a tiny demo checkpoint with random weights in $demo" >&2
    "$bin" gen --preset tiny --format safetensors --dtype bf16 --seed 1 --out "$demo"
  fi
  echo "serve: *** serving a DEMO model with RANDOM weights: answers are meaningless ***" >&2
  model="$demo"
  extra+=(--served-model-name "ocular-demo-random-weights")
fi
exec "$bin" serve --model "$model" "${extra[@]}"
