#!/usr/bin/env bash
# Seeds for fuzz_qwen3vl_config. The first byte picks the parser (0 config.json,
# 1 preprocessor_config.json, 2 video_preprocessor_config.json, 3 generation_config.json,
# 4 GGUF metadata -> config -> weight map). Generated here (python3, no downloads): a small
# Qwen3-VL config in the real key layout, the 2B dims, edge values, and a metadata-only GGUF.
# Usage: make_fuzz_qwen3vl_config.sh OUTDIR
set -euo pipefail
out="${1:?usage: make_fuzz_qwen3vl_config.sh OUTDIR}"
mkdir -p "$out"
python3 - "$out" <<'PY'
import json, os, struct, sys
out = sys.argv[1]

def write(name, mode, body):
    if isinstance(body, str):
        body = body.encode()
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes([mode]) + body)

def config(hidden=64, layers=4, heads=4, kv=2, head_dim=32, depth=5, vhidden=64, deepstack=(1, 2, 3)):
    return {
        "architectures": ["Qwen3VLForConditionalGeneration"], "model_type": "qwen3_vl",
        "image_token_id": 151655, "video_token_id": 151656,
        "vision_start_token_id": 151652, "vision_end_token_id": 151653, "tie_word_embeddings": True,
        "text_config": {
            "model_type": "qwen3_vl_text", "attention_bias": False, "bos_token_id": 151643,
            "eos_token_id": 151645, "dtype": "bfloat16", "head_dim": head_dim, "hidden_act": "silu",
            "hidden_size": hidden, "intermediate_size": hidden * 3, "max_position_embeddings": 262144,
            "num_attention_heads": heads, "num_hidden_layers": layers, "num_key_value_heads": kv,
            "rms_norm_eps": 1e-06,
            "rope_scaling": {"mrope_interleaved": True, "mrope_section": [head_dim // 2 - 10, 5, 5],
                             "rope_type": "default"},
            "rope_theta": 5000000, "tie_word_embeddings": True, "vocab_size": 151936},
        "vision_config": {
            "model_type": "qwen3_vl", "deepstack_visual_indexes": list(deepstack), "depth": depth,
            "hidden_act": "gelu_pytorch_tanh", "hidden_size": vhidden, "in_channels": 3,
            "intermediate_size": vhidden * 4, "num_heads": 4, "num_position_embeddings": 256,
            "out_hidden_size": hidden, "patch_size": 16, "spatial_merge_size": 2,
            "temporal_patch_size": 2}}

write("config_tiny.json", 0, json.dumps(config()))
write("config_2b.json", 0, json.dumps(config(2048, 28, 16, 8, 128, 24, 1024, (5, 11, 17))))
edge = config(); edge["text_config"]["hidden_size"] = 0; edge["text_config"]["rms_norm_eps"] = -1
write("config_zero.json", 0, json.dumps(edge))
edge = config(); edge["text_config"]["num_hidden_layers"] = 2**62; edge["vision_config"]["patch_size"] = 1e308
write("config_huge.json", 0, json.dumps(edge))
edge = config(); edge["auto_map"] = {"AutoModel": "x.Y"}
write("config_auto_map.json", 0, json.dumps(edge))
pre = {"size": {"longest_edge": 16777216, "shortest_edge": 65536}, "patch_size": 16,
       "temporal_patch_size": 2, "merge_size": 2, "image_mean": [0.5, 0.5, 0.5],
       "image_std": [0.5, 0.5, 0.5], "processor_class": "Qwen3VLProcessor"}
write("preprocessor.json", 1, json.dumps(pre))
bad = dict(pre, image_std=[0, 0, 0], size={"longest_edge": 1, "shortest_edge": 2})
write("preprocessor_bad.json", 1, json.dumps(bad))
video = dict(pre, size={"longest_edge": 25165824, "shortest_edge": 4096}, fps=2, min_frames=4,
             max_frames=768, video_processor_type="Qwen3VLVideoProcessor")
write("video_preprocessor.json", 2, json.dumps(video))
write("generation.json", 3, json.dumps({"bos_token_id": 151643, "eos_token_id": [151645, 151643],
                                         "pad_token_id": 151643, "do_sample": True, "temperature": 0.7,
                                         "top_p": 0.8, "top_k": 20, "repetition_penalty": 1.05}))
write("generation_scalar_eos.json", 3, json.dumps({"eos_token_id": 151645, "temperature": -1}))

# GGUF v3 with Qwen3-VL text metadata and a short token list (no tensors).
def s(x):
    b = x.encode()
    return struct.pack("<Q", len(b)) + b
def kv(key, t, payload):
    return s(key) + struct.pack("<I", t) + payload
U32, F32, STR, ARR, BOOL = 4, 6, 8, 9, 7
def u32(k, v): return kv(k, U32, struct.pack("<I", v))
def f32(k, v): return kv(k, F32, struct.pack("<f", v))
def st(k, v): return kv(k, STR, s(v))
def arr_u32(k, vs): return kv(k, ARR, struct.pack("<IQ", U32, len(vs)) + b"".join(struct.pack("<I", v) for v in vs))
def arr_str(k, vs): return kv(k, ARR, struct.pack("<IQ", STR, len(vs)) + b"".join(s(v) for v in vs))
meta = [st("general.architecture", "qwen3vl"), st("general.name", "seed"),
        u32("qwen3vl.block_count", 2), u32("qwen3vl.context_length", 4096),
        u32("qwen3vl.embedding_length", 64), u32("qwen3vl.feed_forward_length", 192),
        u32("qwen3vl.attention.head_count", 4), u32("qwen3vl.attention.head_count_kv", 2),
        u32("qwen3vl.attention.key_length", 32), u32("qwen3vl.attention.value_length", 32),
        f32("qwen3vl.attention.layer_norm_rms_epsilon", 1e-6), f32("qwen3vl.rope.freq_base", 5e6),
        arr_u32("qwen3vl.rope.dimension_sections", [6, 5, 5, 0]), u32("qwen3vl.n_deepstack_layers", 3),
        u32("tokenizer.ggml.bos_token_id", 1), u32("tokenizer.ggml.eos_token_id", 2),
        arr_str("tokenizer.ggml.tokens", ["<t%d>" % i for i in range(64)])]
gguf = b"GGUF" + struct.pack("<IQQ", 3, 0, len(meta)) + b"".join(meta)
write("text.gguf", 4, gguf)
clip = [st("general.architecture", "clip"), kv("clip.has_vision_encoder", BOOL, b"\x01"),
        st("clip.projector_type", "qwen3vl_merger"), u32("clip.vision.block_count", 5),
        u32("clip.vision.embedding_length", 64), u32("clip.vision.feed_forward_length", 256),
        u32("clip.vision.attention.head_count", 4), f32("clip.vision.attention.layer_norm_epsilon", 1e-6),
        u32("clip.vision.image_size", 256), u32("clip.vision.patch_size", 16),
        u32("clip.vision.projection_dim", 64), u32("clip.vision.spatial_merge_size", 2),
        kv("clip.vision.is_deepstack_layers", ARR, struct.pack("<IQ", BOOL, 5) + b"\x00\x01\x01\x01\x00")]
write("mmproj.gguf", 4, b"GGUF" + struct.pack("<IQQ", 3, 0, len(clip)) + b"".join(clip))
PY
