#!/usr/bin/env bash
# Seeds for fuzz_bpe: a mode byte (bit 0 parse specials, bit 1 skip specials, bit 2 stop strings)
# followed by text: ASCII words, CJK, emoji, combining marks (NFC), invalid UTF-8, special-token
# spellings and long runs of whitespace. Usage: make_fuzz_bpe.sh OUTDIR
set -euo pipefail
out="${1:?usage: make_fuzz_bpe.sh OUTDIR}"
mkdir -p "$out"
python3 - "$out" <<'PY'
import os, sys
out = sys.argv[1]
texts = [
    b"hello world, the thing is going",
    "你好，世界。日本語のテキスト".encode(),
    "emoji \U0001F600\U0001F44D\u200d\U0001F9D1 flags \U0001F1EB\U0001F1F7".encode(),
    "e\u0301 A\u030A \u1100\u1161\u11A8 cafe\u0301".encode(),
    b"\xff\xfe\xc3\x28 broken \xe2\x82 utf8 \xf0\x9f\x98",
    b"<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n",
    b"   \t\t\n\n\r\n    spaces   ",
    b"12345 67.89 -0x1F don't we'll I'M",
]
for i, t in enumerate(texts):
    for mode in (0, 1, 6, 7):
        with open(os.path.join(out, "seed_%d_%d" % (i, mode)), "wb") as f:
            f.write(bytes([mode]) + t)
PY
