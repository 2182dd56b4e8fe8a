#!/usr/bin/env bash
# Starts `ocular serve` on tiny-a (random free port) and drives it with the official `openai`
# npm package (tests/http/node). Usage: run_node_openai_test.sh OCULAR_BINARY GOLDEN_DIR
set -euo pipefail
bin="${1:?ocular binary}"
golden="${OCULAR_GOLDEN_DIR:-${2:?golden dir}}"
here="$(cd "$(dirname "$0")" && pwd)"
if [ ! -d "$golden/models/tiny-a" ]; then
  echo "SKIP: golden data not found"
  exit 0
fi
work="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
# The client package comes from the npm registry (pinned by package-lock.json).
if [ ! -d "$here/node/node_modules/openai" ]; then
  (cd "$here/node" && npm ci --no-audit --no-fund >/dev/null)
fi
key="node-test-key"
"$bin" serve --model "$golden/models/tiny-a" --port 0 --api-key "$key" --threads 2 \
  --kv-cache-bytes 16777216 >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 1 600); do
  if grep -q "listening on" "$work/out"; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then cat "$work/err"; exit 1; fi
  sleep 0.1
done
url="$(grep -o 'http://[0-9.:]*' "$work/out" | head -1)"
OCULAR_URL="$url" OCULAR_API_KEY="$key" OCULAR_IMAGE="$golden/inputs/images/img_224x224_shapes.png" \
  node "$here/node/openai_client_test.mjs"
kill -TERM "$pid"
wait "$pid"
echo "server exited $?"
