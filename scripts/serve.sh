#!/usr/bin/env bash
# Builds Ocular (release) and starts the server.
#   scripts/serve.sh [MODEL] [-- extra `ocular serve` flags]
# MODEL (or $OCULAR_MODEL) is a model folder, a text GGUF or hf:OWNER/REPO[:FILE-or-QUANT]
# (default hf:Qwen/Qwen3-VL-2B-Instruct, downloaded once into ~/.cache/ocular/hub or
# $OCULAR_CACHE_DIR/hub; HF_ENDPOINT / HF_TOKEN / HF_HUB_OFFLINE=1 are honoured). When the model
# cannot be had (offline and not cached, not found), it says so and serves a tiny generated
# checkpoint with RANDOM weights instead, so the whole product (API, web UI, metrics) can still
# be tried end to end; /v1/models and the web UI then say plainly that it is a demo model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
export CCACHE_BASEDIR="$PWD"
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target ocular
bin=./build/release/apps/ocular

model="${1:-${OCULAR_MODEL:-hf:Qwen/Qwen3-VL-2B-Instruct}}"
[ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
extra=("$@")
use_demo=0
if [[ "$model" == hf:* ]]; then
  # Fetch (or find in the cache) first, so a failure can fall back to the demo model.
  if ! "$bin" serve --model "$model" --download-only; then
    echo "serve: could not get $model (no network and no complete cached copy, or not on the hub)" >&2
    use_demo=1
  fi
elif [ -z "$model" ] || [ ! -e "$model" ]; then
  echo "serve: model '$model' not found" >&2
  use_demo=1
fi
if [ "$use_demo" = 1 ]; then
  demo=build/demo-model
  if [ ! -f "$demo/config.json" ]; then
    echo "serve: generating a tiny demo checkpoint with random weights in $demo" >&2
    "$bin" gen --preset tiny --format safetensors --dtype bf16 --seed 1 --out "$demo"
  fi
  echo "serve: *** serving a DEMO model with RANDOM weights: answers are meaningless ***" >&2
  model="$demo"
  extra+=(--demo-model --served-model-name "ocular-demo-random-weights")
fi
exec "$bin" serve --model "$model" "${extra[@]}"
