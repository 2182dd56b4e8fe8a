#!/usr/bin/env bash
# Writes a seed corpus for fuzz_request_json into OUTDIR: chat and completion request bodies
# (valid ones, every field, media parts, and typical mistakes).
set -euo pipefail
out="${1:?usage: make_fuzz_request_json.sh OUTDIR}"
mkdir -p "$out"
/usr/bin/python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
user = {"role": "user", "content": "hi"}
img = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "auto"}, "max_pixels": 50176}
vid = {"type": "video_url", "video_url": {"url": "http://example.com/v.mp4"}}
seeds = {
    "minimal": {"messages": [user]},
    "full": {"model": "m", "messages": [{"role": "system", "content": "s"}, user,
             {"role": "assistant", "content": None, "tool_calls": []}, {"role": "tool", "content": "r"}],
             "temperature": 0.7, "top_p": 0.9, "top_k": 20, "min_p": 0.05, "presence_penalty": 1.5,
             "frequency_penalty": -0.5, "repetition_penalty": 1.1, "seed": 7, "stop": ["a", "b"],
             "max_tokens": 10, "max_completion_tokens": 5, "logprobs": True, "top_logprobs": 3, "n": 2,
             "user": "u", "cache_salt": "t", "stream": True, "stream_options": {"include_usage": True},
             "ignore_eos": False},
    "media": {"messages": [{"role": "user", "content": [{"type": "text", "text": "x"}, img, vid]}]},
    "bad_types": {"messages": [user], "temperature": "1", "n": 1.5, "stop": [1]},
    "bad_role": {"messages": [{"role": "wizard", "content": "x"}]},
    "completion": {"prompt": "Once", "logprobs": 2, "max_tokens": 3},
    "nested": {"messages": [user], "x": [[[[{"a": [[[]]]}]]]]},
}
for name, body in seeds.items():
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump(body, f)
with open(os.path.join(out, "deep.json"), "w") as f:
    f.write('{"messages":' + "[" * 70 + "]" * 70 + "}")
PY
