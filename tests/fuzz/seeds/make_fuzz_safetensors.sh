#!/usr/bin/env bash
# Writes a small seed corpus of valid safetensors files for fuzz_safetensors into OUTDIR.
# Generated here (python3, no downloads): several dtypes, ranks 0..5, metadata, empty tensors.
set -euo pipefail
out="${1:?usage: make_fuzz_safetensors.sh OUTDIR}"
mkdir -p "$out"
python3 - "$out" <<'PY'
import json, struct, sys, os
out = sys.argv[1]
SIZES = {"F32": 4, "F16": 2, "BF16": 2, "I32": 4, "U8": 1, "BOOL": 1, "F64": 8, "I64": 8}

def write(name, tensors, metadata=None):
    header, data = {}, b""
    for tname, dtype, shape in tensors:
        n = 1
        for d in shape:
            n *= d
        size = n * SIZES[dtype]
        header[tname] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + size]}
        data += bytes((i * 7 + 3) & 0xFF for i in range(size))
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    with open(os.path.join(out, name), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)

write("seed_empty.safetensors", [])
write("seed_one.safetensors", [("w", "F32", [2, 3])])
write("seed_meta.safetensors", [("a.weight", "BF16", [4, 4]), ("a.bias", "BF16", [4])], {"format": "pt"})
write("seed_dtypes.safetensors", [(f"t{i}", d, [3]) for i, d in enumerate(SIZES)])
write("seed_ranks.safetensors", [("s", "F16", []), ("z", "F32", [0, 4]), ("p", "BF16", [2, 3, 2, 2, 2])])
PY
