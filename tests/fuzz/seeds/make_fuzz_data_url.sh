#!/usr/bin/env bash
# Writes a seed corpus for fuzz_data_url into OUTDIR: data: URLs (correct, mismatched and
# parameterised media types) wrapping tiny PNG/JPEG/WebP images made with Pillow.
set -euo pipefail
out="${1:?usage: make_fuzz_data_url.sh OUTDIR}"
mkdir -p "$out"
/usr/bin/python3 - "$out" <<'PY'
import base64, io, os, sys
from PIL import Image
out = sys.argv[1]
im = Image.new("RGB", (5, 4), (200, 30, 60))
def enc(fmt):
    b = io.BytesIO(); im.save(b, fmt); return base64.b64encode(b.getvalue()).decode()
seeds = {
    "png": "data:image/png;base64," + enc("PNG"),
    "jpeg": "data:image/jpeg;base64," + enc("JPEG"),
    "webp": "data:image/webp;base64," + enc("WEBP"),
    "param": "data:image/png;name=a.png;base64," + enc("PNG"),
    "mismatch": "data:image/jpeg;base64," + enc("PNG"),
    "upper": "DATA:IMAGE/PNG;BASE64," + enc("PNG"),
    "plain": "data:text/plain,hello",
    "short": "data:image/png;base64,iVBORw0K",
}
for k, v in seeds.items():
    with open(os.path.join(out, k + ".txt"), "w") as f:
        f.write(v)
PY
