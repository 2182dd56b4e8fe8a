#!/usr/bin/env bash
# Writes a small seed corpus of valid GGUF files for fuzz_gguf into OUTDIR.
# Generated here (python3, no downloads): v2 and v3, every metadata type, nested arrays,
# custom alignment, f32/f16/q8_0 tensors of 1..4 dims.
set -euo pipefail
out="${1:?usage: make_fuzz_gguf.sh OUTDIR}"
mkdir -p "$out"
python3 - "$out" <<'PY'
import struct, sys, os
out = sys.argv[1]
FMT = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
# ggml type id -> (block elems, block bytes)
BLOCK = {0: (1, 4), 1: (1, 2), 8: (32, 34), 30: (1, 2)}

def s(x):
    b = x.encode()
    return struct.pack("<Q", len(b)) + b

def value(t, v):
    if t == 8:
        return s(v)
    if t == 9:
        et, items = v
        return struct.pack("<IQ", et, len(items)) + b"".join(value(et, i) for i in items)
    return struct.pack("<" + FMT[t], v)

def write(name, kvs, tensors, version=3, alignment=32):
    head = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    for k, t, v in kvs:
        head += s(k) + struct.pack("<I", t) + value(t, v)
    data, infos = b"", b""
    for tname, ttype, shape in tensors:
        ne = list(reversed(shape))
        n = 1
        for d in ne:
            n *= d
        be, bb = BLOCK[ttype]
        size = n // be * bb
        data += b"\0" * ((alignment - len(data) % alignment) % alignment)
        infos += s(tname) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", d) for d in ne)
        infos += struct.pack("<IQ", ttype, len(data))
        data += bytes((i * 13 + 1) & 0x7F for i in range(size))
    body = head + infos
    body += b"\0" * ((alignment - len(body) % alignment) % alignment)
    with open(os.path.join(out, name), "wb") as f:
        f.write(body + data)

every = [("u8", 0, 1), ("i8", 1, -1), ("u16", 2, 2), ("i16", 3, -2), ("u32", 4, 3), ("i32", 5, -3),
         ("f32", 6, 0.5), ("bool", 7, True), ("str", 8, "qwen3vl"), ("u64", 10, 4), ("i64", 11, -4),
         ("f64", 12, 0.25), ("arr.i32", 9, (5, [6, 5, 5, 0])), ("arr.str", 9, (8, ["a", "", "bc"])),
         ("arr.bool", 9, (7, [False, True])), ("arr.nested", 9, (9, [(0, [1, 2]), (8, ["x"])]))]
write("seed_empty.gguf", [], [])
write("seed_meta.gguf", every, [])
write("seed_tensors.gguf", [("general.architecture", 8, "qwen3vl")],
      [("a", 0, [2, 3]), ("b", 1, [4]), ("q", 8, [2, 64]), ("c", 30, [1, 1, 2, 2])])
write("seed_align64.gguf", [("general.alignment", 4, 64)], [("a", 0, [5]), ("b", 0, [3])], alignment=64)
write("seed_v2.gguf", every[:4], [("a", 1, [8])], version=2)
PY
