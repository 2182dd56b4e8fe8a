#!/usr/bin/python3
"""Generates the malformed-input corpus of RELIABILITY.md (no downloads).

Usage: make_corpus.py GOLDEN_DIR OUT_DIR

Model cases start from the golden tiny-a checkpoint (safetensors header rebuilt with defects,
tensor data as sparse files so nothing large is written), GGUF cases from a small generated
GGUF and prefixes of the golden tiny-a GGUF; media cases are generated with PIL and by hand.
Writes OUT_DIR/manifest.json: a list of cases, each
  {"name", "surface", "path" (or "body"), "expect": "error" | "ok", ...}
surfaces: inspect (a model folder or file), template (a model folder whose chat template is
hostile, run through `ocular run`), image / video (one media file: `ocular preprocess` and a
data URL in a live `ocular serve` request), request (a raw HTTP body for the live server).
"""
import base64
import io
import json
import os
import shutil
import struct
import sys
import zlib

from PIL import Image

GOLDEN, OUT = sys.argv[1], sys.argv[2]
TINY = os.path.join(GOLDEN, "models", "tiny-a")
cases = []


def add(name, surface, expect, **extra):
    cases.append(dict(name=name, surface=surface, expect=expect, **extra))


def write(rel, data):
    path = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    return path


# ---------------------------------------------------------------------------------------------
# Model files: an HF folder = the golden small files (copied) + a model.safetensors we build.
with open(os.path.join(TINY, "model.safetensors"), "rb") as f:
    header_len = struct.unpack("<Q", f.read(8))[0]
    HEADER = json.loads(f.read(header_len))
DATA_LEN = max(v["data_offsets"][1] for k, v in HEADER.items() if k != "__metadata__")
SMALL_FILES = ["config.json", "generation_config.json", "preprocessor_config.json",
               "video_preprocessor_config.json", "tokenizer_config.json", "chat_template.json"]


def model_dir(name, header=None, data_len=None, raw=None, config=None, extra=None, drop=()):
    """A model folder: raw safetensors bytes, or header JSON + sparse data of data_len bytes."""
    d = os.path.join(OUT, "models", name)
    os.makedirs(d, exist_ok=True)
    for f in SMALL_FILES:
        if f in drop:
            continue
        if f == "config.json" and config is not None:
            write(os.path.join(d, f), config if isinstance(config, (bytes, str)) else json.dumps(config))
        else:
            shutil.copyfile(os.path.join(TINY, f), os.path.join(d, f))
    os.symlink(os.path.abspath(os.path.join(TINY, "tokenizer.json")), os.path.join(d, "tokenizer.json"))
    if "model.safetensors" not in drop:
        st = os.path.join(d, "model.safetensors")
        if raw is not None:
            write(st, raw)
        else:
            h = header if header is not None else HEADER
            hb = h if isinstance(h, bytes) else json.dumps(h).encode()
            with open(st, "wb") as f:
                f.write(struct.pack("<Q", len(hb)) + hb)
                f.truncate(8 + len(hb) + (DATA_LEN if data_len is None else data_len))
    for rel, data in (extra or {}).items():
        write(os.path.join(d, rel), data)
    return d


def inspect(name, expect="error", **kw):
    add(name, "inspect", expect, path=model_dir(name, **kw))


def header_with(fn):
    h = json.loads(json.dumps(HEADER))
    fn(h)
    return h


names = [k for k in HEADER if k != "__metadata__"]
first, second, last = names[0], names[1], max(names, key=lambda k: HEADER[k]["data_offsets"][1])
# A control: the rebuilt folder (sparse zero weights) must load.
inspect("st_control_valid", expect="ok")
# Truncations: inside the length, inside the header, at the data start, inside and near the end.
real_hb = json.dumps(HEADER).encode()
full = struct.pack("<Q", len(real_hb)) + real_hb
for cut in [0, 1, 7, 8, 9, len(full) // 2, len(full) - 1, len(full)]:
    inspect("st_trunc_%d" % cut, raw=full[:cut])
for short in [1, 2, DATA_LEN // 2, DATA_LEN - 1]:
    inspect("st_data_short_%d" % short, data_len=DATA_LEN - short)
inspect("st_trailing_bytes", data_len=DATA_LEN + 3)
# Absurd lengths.
inspect("st_header_len_2p63", raw=struct.pack("<Q", 1 << 63) + b"{}")
inspect("st_header_len_max", raw=struct.pack("<Q", (1 << 64) - 1) + b"{}")
inspect("st_header_len_past_eof", raw=struct.pack("<Q", 1 << 20) + b"{}")
inspect("st_header_len_over_budget", raw=struct.pack("<Q", 100_000_001) + b"{" + b" " * 64)
inspect("st_header_not_json", header=b"{not json" + b" " * 32)
inspect("st_header_bad_utf8", header=b'{"\xff\xfe": 1}')
inspect("st_header_deep_json", header=b"[" * 100000 + b"]" * 100000)
inspect("st_header_array", header=b"[1, 2, 3]")
# Tensor table defects.
inspect("st_overlap", header=header_with(lambda h: h[second].update(data_offsets=h[first]["data_offsets"])))
inspect("st_gap", header=header_with(lambda h: h[first].update(
    data_offsets=[0, h[first]["data_offsets"][1] - 2])))
inspect("st_offsets_reversed", header=header_with(lambda h: h[first].update(
    data_offsets=list(reversed(h[first]["data_offsets"])))))
inspect("st_end_past_eof", header=header_with(lambda h: h[last].update(
    data_offsets=[h[last]["data_offsets"][0], DATA_LEN + 4096])))
inspect("st_offset_2p64", header=header_with(lambda h: h[last].update(
    data_offsets=[h[last]["data_offsets"][0], 18446744073709551615])))
inspect("st_negative_offset", header=header_with(lambda h: h[first].update(data_offsets=[-2, 10])))
inspect("st_shape_overflow", header=header_with(lambda h: h[first].update(shape=[1 << 62, 1 << 62, 16])))
inspect("st_shape_negative", header=header_with(lambda h: h[first].update(shape=[-64, 3, 2, 16, 16])))
inspect("st_shape_float", header=header_with(lambda h: h[first].update(shape=[64.5, 3, 2, 16, 16])))
inspect("st_shape_string", header=header_with(lambda h: h[first].update(shape="64,3")))
inspect("st_size_mismatch", header=header_with(lambda h: h[first].update(shape=[64, 3, 2, 16, 15])))
inspect("st_unknown_dtype", header=header_with(lambda h: h[first].update(dtype="Q17")))
inspect("st_dtype_not_string", header=header_with(lambda h: h[first].update(dtype=7)))
inspect("st_missing_offsets", header=header_with(lambda h: h[first].pop("data_offsets")))
dup = real_hb.replace(b"{", b'{"%s": %s, ' % (first.encode(), json.dumps(HEADER[first]).encode()), 1)
inspect("st_duplicate_name", header=dup)


def drop_tensor(h):
    # Remove a tensor and close the gap, so the table is valid but the weights are incomplete.
    gone = h.pop(last)
    del gone


inspect("st_missing_tensor", header=header_with(drop_tensor), data_len=DATA_LEN - (
    HEADER[last]["data_offsets"][1] - HEADER[last]["data_offsets"][0]))
# Config values: zero, negative, huge, NaN-like, wrong types, code-executing hooks.
with open(os.path.join(TINY, "config.json")) as f:
    CONFIG = json.load(f)


def config_with(section, key, value):
    c = json.loads(json.dumps(CONFIG))
    (c[section] if section else c)[key] = value
    return c


for section, key in [("text_config", "hidden_size"), ("text_config", "num_hidden_layers"),
                     ("text_config", "num_attention_heads"), ("text_config", "num_key_value_heads"),
                     ("text_config", "head_dim"), ("text_config", "vocab_size"),
                     ("text_config", "intermediate_size"), ("vision_config", "depth"),
                     ("vision_config", "patch_size"), ("vision_config", "spatial_merge_size"),
                     ("vision_config", "num_heads"), ("vision_config", "hidden_size")]:
    for label, value in [("zero", 0), ("negative", -8), ("huge", 1 << 62)] + (
            [("float", 1e308), ("string", "64")] if key in ("hidden_size", "patch_size") else []):
        inspect("cfg_%s_%s_%s" % (section[0], key, label), config=config_with(section, key, value))
for label, value in [("negative", -1.0), ("zero", 0.0), ("huge", 1e300)]:
    inspect("cfg_rms_eps_%s" % label, config=config_with("text_config", "rms_norm_eps", value))
    inspect("cfg_rope_theta_%s" % label, config=config_with("text_config", "rope_theta", value))
inspect("cfg_nan_literal", config=json.dumps(CONFIG).replace('"rms_norm_eps": 1e-06', '"rms_norm_eps": NaN'))
inspect("cfg_mrope_bad_sum", config=config_with("text_config", "rope_scaling",
                                                {"mrope_interleaved": True, "mrope_section": [6, 5, 50],
                                                 "rope_type": "default"}))
inspect("cfg_deepstack_out_of_range", config=config_with("vision_config", "deepstack_visual_indexes", [1, 2, 99]))
inspect("cfg_deepstack_negative", config=config_with("vision_config", "deepstack_visual_indexes", [-1]))
inspect("cfg_token_id_out_of_vocab", config=config_with(None, "image_token_id", 1 << 40))
# auto_map names Python code; Ocular never runs any, so the key is ignored or refused: either
# answer is fine, a crash or leak is not.
inspect("cfg_auto_map", expect="any", config=config_with(None, "auto_map", {"AutoModel": "modeling_evil.Model"}))
inspect("cfg_unknown_architecture", expect="any", config=config_with(None, "architectures", ["EvilForCausalLM"]))
inspect("cfg_no_text_config", config={k: v for k, v in CONFIG.items() if k != "text_config"})
inspect("cfg_not_json", config="{ this is not json")
inspect("cfg_empty", config="")
inspect("cfg_array", config="[]")
inspect("cfg_deep", config="[" * 50000 + "]" * 50000)
inspect("cfg_missing", drop=("config.json",))
# Only code-executing pickles, no safetensors.
inspect("pickle_only", drop=("model.safetensors",), extra={"pytorch_model.bin": b"\x80\x04\x95" + b"\x00" * 64})
# Sharded index whose paths escape the model folder.
for label, target in [("dotdot", "../../../etc/passwd"), ("absolute", "/etc/passwd"),
                      ("nested_dotdot", "sub/../../model.safetensors"), ("encoded", "%2e%2e/x.safetensors"),
                      ("empty", ""), ("nul", "model.safe\u0000tensors")]:
    index = {"metadata": {}, "weight_map": {n: "model.safetensors" for n in names}}
    index["weight_map"][first] = target
    inspect("shard_escape_%s" % label, drop=("model.safetensors",),
            extra={"model.safetensors.index.json": json.dumps(index),
                   "model.safetensors": struct.pack("<Q", 2) + b"{}"})
d = model_dir("shard_symlink_escape", drop=("model.safetensors",), extra={
    "model.safetensors.index.json": json.dumps({"weight_map": {n: "link.safetensors" for n in names}})})
os.symlink(os.path.abspath(os.path.join(TINY, "model.safetensors")), os.path.join(d, "link.safetensors"))
add("shard_symlink_escape", "inspect", "error", path=d)

# ---------------------------------------------------------------------------------------------
# GGUF: a small generated file with every defect class, and prefixes of the golden tiny-a GGUF.


def gs(x):
    b = x if isinstance(x, bytes) else x.encode()
    return struct.pack("<Q", len(b)) + b


def gkv(key, t, payload):
    return gs(key) + struct.pack("<I", t) + payload


def gguf(kvs, tensors, version=3, n_kv=None, n_tensors=None, align=32, data=b""):
    """tensors: (name, dims, type, offset)."""
    head = b"GGUF" + struct.pack("<IQQ", version, len(tensors) if n_tensors is None else n_tensors,
                                 len(kvs) if n_kv is None else n_kv) + b"".join(kvs)
    for name, dims, t, off in tensors:
        head += gs(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        head += struct.pack("<IQ", t, off)
    pad = (-len(head)) % align if align and align & (align - 1) == 0 else 0
    return head + b"\x00" * pad + data


ARCH = gkv("general.architecture", 8, gs("qwen3vl"))
T = [("token_embd.weight", [4, 4], 0, 0)]
DATA = b"\x00" * 64


def gguf_case(name, data):
    add(name, "inspect", "error", path=write("gguf/%s.gguf" % name, data))


gguf_case("gguf_valid_but_incomplete", gguf([ARCH], T, data=DATA))
gguf_case("gguf_bad_magic", b"GGUX" + gguf([ARCH], T, data=DATA)[4:])
gguf_case("gguf_version_0", gguf([ARCH], T, version=0, data=DATA))
gguf_case("gguf_version_99", gguf([ARCH], T, version=99, data=DATA))
gguf_case("gguf_kv_count_2p63", gguf([ARCH], T, n_kv=1 << 63, data=DATA))
gguf_case("gguf_tensor_count_2p63", gguf([ARCH], T, n_tensors=1 << 63, data=DATA))
gguf_case("gguf_tensor_count_over_limit", gguf([ARCH], T, n_tensors=65537, data=DATA))
gguf_case("gguf_string_len_2p63", b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 1 << 63) + b"x")
gguf_case("gguf_string_over_16mib", b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", (16 << 20) + 1) + b"x" * 64)
gguf_case("gguf_array_count_huge", gguf([gkv("a", 9, struct.pack("<IQ", 4, 1 << 61))], []))
gguf_case("gguf_array_of_arrays_deep", gguf([gkv("a", 9, struct.pack("<IQ", 9, 1) * 5000)], []))
gguf_case("gguf_unknown_value_type", gguf([gkv("a", 99, b"\x00" * 8)], []))
gguf_case("gguf_dims_zero", gguf([ARCH], [("t", [0, 4], 0, 0)], data=DATA))
gguf_case("gguf_dims_five", gguf([ARCH], [("t", [1, 1, 1, 1, 1], 0, 0)], data=DATA))
gguf_case("gguf_dims_overflow", gguf([ARCH], [("t", [1 << 40, 1 << 40], 0, 0)], data=DATA))
gguf_case("gguf_unknown_type", gguf([ARCH], [("t", [4, 4], 999, 0)], data=DATA))
gguf_case("gguf_offset_past_eof", gguf([ARCH], [("t", [4, 4], 0, 1 << 20)], data=DATA))
gguf_case("gguf_offset_wrap", gguf([ARCH], [("t", [4, 4], 0, (1 << 64) - 16)], data=DATA))
gguf_case("gguf_offset_unaligned", gguf([ARCH], [("t", [4, 4], 0, 3)], data=DATA))
gguf_case("gguf_overlap", gguf([ARCH], [("t", [4, 4], 0, 0), ("u", [4, 4], 0, 32)], data=DATA))
gguf_case("gguf_duplicate_tensor", gguf([ARCH], [("t", [4], 0, 0), ("t", [4], 0, 32)], data=DATA))
gguf_case("gguf_alignment_3", gguf([ARCH, gkv("general.alignment", 4, struct.pack("<I", 3))], T, align=0, data=DATA))
gguf_case("gguf_alignment_2p30", gguf([ARCH, gkv("general.alignment", 4, struct.pack("<I", 1 << 30))], T, align=0, data=DATA))
gguf_case("gguf_block_count_huge", gguf([ARCH, gkv("qwen3vl.block_count", 4, struct.pack("<I", 0xFFFFFFFF)),
                                         gkv("qwen3vl.embedding_length", 4, struct.pack("<I", 0))], T, data=DATA))
with open(os.path.join(GOLDEN, "models", "tiny-a-gguf", "tiny-a-f16.gguf"), "rb") as f:
    prefix = f.read(1 << 16)
for cut in [3, 4, 8, 16, 24, 100, 1000, 5000, 20000, 65536]:
    gguf_case("gguf_trunc_%d" % cut, prefix[:cut])

# ---------------------------------------------------------------------------------------------
# Hostile chat templates (run through `ocular run`: refused or bounded, never hung or crashed).
for label, tpl in [
        ("recursion", "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"),
        ("huge_range", "{% for i in range(1000000000) %}x{% endfor %}"),
        ("huge_string", "{{ 'a' * 1000000000 }}"),
        ("nested_loops", "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"),
        ("quadratic_concat", "{% set s = namespace(v='x') %}{% for i in range(100000) %}"
                             "{% set s.v = s.v ~ s.v %}{% endfor %}{{ s.v }}"),
        ("syntax_error", "{% for %}"),
        ("unclosed", "{% if true %}never closed"),
        ("deep_nesting", "{% if true %}" * 5000 + "x" + "{% endif %}" * 5000),
        ("python_escape", "{{ ''.__class__.__mro__[1].__subclasses__() }}"),
]:
    d = model_dir("tpl_" + label, extra={"chat_template.json": json.dumps({"chat_template": tpl})})
    add("tpl_" + label, "template", "error", path=d)

# ---------------------------------------------------------------------------------------------
# Media.


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width, height, depth=8, color=2, rows=None):
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    if rows is None:
        rows = b"\x00" * 16
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(rows)) + png_chunk(b"IEND", b"")


def pil(img, fmt, **kw):
    b = io.BytesIO()
    img.save(b, fmt, **kw)
    return b.getvalue()


def image(name, data, expect, mime=None, http_expect=None):
    """expect: `ocular preprocess` (bytes only); http_expect: the server (bytes + declared MIME)."""
    add(name, "image", expect, path=write("media/" + name, data), mime=mime, http_expect=http_expect or expect)


gradient = Image.linear_gradient("L").resize((96, 64)).convert("RGB")
jpeg = pil(gradient, "JPEG", quality=85)
png_ok = pil(gradient, "PNG")
webp = pil(gradient, "WEBP", quality=80)
# Decompression bombs: tiny files, huge declared sizes.
image("bomb_png_20000x20000.png", png(20000, 20000), "error")
image("bomb_png_1x2p31.png", png(1, (1 << 31) - 1), "error")
image("bomb_png_side_40000.png", png(40000, 16), "error")
sof = jpeg.find(b"\xff\xc0")
image("bomb_jpeg_65000x65000.jpg", jpeg[:sof + 5] + struct.pack(">HH", 65000, 65000) + jpeg[sof + 9:], "error")
vp8x = b"VP8X" + struct.pack("<I", 10) + bytes([0x02, 0, 0, 0]) + (16383).to_bytes(3, "little") * 2
image("bomb_webp_16384.webp", b"RIFF" + struct.pack("<I", 4 + len(vp8x)) + b"WEBP" + vp8x, "error")
# Aspect ratio beyond 200 (valid image, refused by the model's rule).
image("aspect_1000x4.png", pil(Image.new("RGB", (1000, 4), (9, 9, 9)), "PNG"), "error")
# Progressive JPEG with excessive scans: repeat the first scan 600 times.
prog = pil(Image.effect_noise((64, 64), 40).convert("RGB"), "JPEG", progressive=True, quality=90)
sos = prog.find(b"\xff\xda")
nxt = sos + 2
while True:
    nxt = prog.find(b"\xff", nxt + 1)
    if prog[nxt + 1] not in (0x00,) and not (0xD0 <= prog[nxt + 1] <= 0xD7):
        break
image("progressive_600_scans.jpg", prog[:sos] + prog[sos:nxt] * 600 + prog[nxt:], "error")
image("progressive_valid.jpg", prog, "ok")
# Truncated and corrupt images.
for label, data in [("png", png_ok), ("jpg", jpeg), ("webp", webp)]:
    for frac in [0, 1, 8, 30, 50, 90]:
        cut = len(data) * frac // 100 if frac > 1 else frac * 7
        # A JPEG cut inside the entropy data is still a (partly grey) picture in most decoders;
        # ours refuses it (no EOI): the documented answer for every truncation is an error.
        image("trunc_%s_%d.%s" % (label, frac, label), data[:cut], "error")
bad = bytearray(png_ok)
bad[len(bad) // 2] ^= 0xFF
image("corrupt_png_crc.png", bytes(bad), "error")
image("garbage.bin", os.urandom(512) if False else bytes((i * 131 + 7) & 255 for i in range(512)), "error")
image("empty.png", b"", "error")
image("text_as_png.png", b"hello, I am not an image\n" * 10, "error")
image("svg_as_png.png", b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', "error")
image("gif.gif", pil(gradient.convert("P"), "GIF"), "error")
image("bmp.bmp", pil(gradient, "BMP"), "error")
# Mismatched MIME: a declared type that disagrees with the bytes is refused (400); the CLI
# has no declared type, so the same bytes decode there.
image("mime_jpeg_labelled_png.jpg", jpeg, "ok", mime="image/png", http_expect="error")
image("mime_png_labelled_webp.png", png_ok, "ok", mime="image/webp", http_expect="error")
image("mime_text_html_png.png", png_ok, "ok", mime="text/html", http_expect="error")
# Unusual valid images.
image("valid_1x1.png", pil(Image.new("RGB", (1, 1), (200, 10, 10)), "PNG"), "ok")
image("valid_palette.png", pil(gradient.convert("P", palette=Image.ADAPTIVE, colors=16), "PNG"), "ok")
pal = gradient.convert("P", palette=Image.ADAPTIVE, colors=16)
image("valid_palette_trns.png", pil(pal, "PNG", transparency=3), "ok")
image("valid_rgba.png", pil(gradient.convert("RGBA"), "PNG"), "ok")
image("valid_la.png", pil(gradient.convert("LA"), "PNG"), "ok")
image("valid_gray.png", pil(gradient.convert("L"), "PNG"), "ok")
image("valid_gray16.png", pil(gradient.convert("L").point(lambda v: v * 257).convert("I;16")
                               if False else Image.new("I;16", (40, 30)), "PNG"), "ok")
rgb16 = b"".join(b"\x00" + b"".join(struct.pack(">HHH", x * 1000, y * 2000, 65535) for x in range(24))
                 for y in range(16))
image("valid_rgb16.png", png(24, 16, depth=16, color=2, rows=rgb16), "ok")
image("valid_gray1bit.png", pil(gradient.convert("1"), "PNG"), "ok")
image("valid_gray.jpg", pil(gradient.convert("L"), "JPEG"), "ok")
image("valid_cmyk.jpg", pil(gradient.convert("CMYK"), "JPEG"), "ok")
exif = Image.Exif()
exif[0x0112] = 6  # Orientation: rotate 90 CW
image("valid_exif_rotated.jpg", pil(gradient, "JPEG", exif=exif.tobytes()), "ok")
image("valid_lossy.webp", webp, "ok")
image("valid_lossless.webp", pil(gradient, "WEBP", lossless=True), "ok")
frames = [Image.new("RGB", (32, 32), (i * 60, 0, 0)) for i in range(3)]
b = io.BytesIO()
frames[0].save(b, "WEBP", save_all=True, append_images=frames[1:], duration=100, loop=0)
image("valid_animated.webp", b.getvalue(), "ok")
image("valid_200x1_aspect_200.png", pil(Image.new("RGB", (200, 1), (1, 2, 3)), "PNG"), "ok")

# Videos: lying headers, truncation, playlists and text disguised as video.
VIDEO = os.path.join(GOLDEN, "inputs", "video")


def video(name, data, expect):
    add(name, "video", expect, path=write("media/" + name, data))


with open(os.path.join(VIDEO, "video_c.mp4"), "rb") as f:
    mp4 = f.read()
with open(os.path.join(VIDEO, "video_c.mkv"), "rb") as f:
    mkv = f.read()
video("video_valid.mp4", mp4, "ok")
video("video_valid.mkv", mkv, "ok")
mdat = mp4.find(b"mdat")
moov = mp4.find(b"moov")
if 0 < moov < mdat:
    video("video_mdat_cut.mp4", mp4[:mdat + 64], "error")
for cut in [0, 8, 100, 1000]:
    video("video_trunc_%d.mp4" % cut, mp4[:cut], "error")
    video("video_trunc_%d.mkv" % cut, mkv[:cut], "error")
m3u = b"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nhttp://127.0.0.1:1/seg.ts\n#EXT-X-ENDLIST\n"
video("playlist.mp4", m3u, "error")
video("playlist_in_ftyp.mp4", struct.pack(">I", 20) + b"ftypisom" + b"\x00" * 8 + m3u, "error")
video("concat_list.mp4", b"ffconcat version 1.0\nfile '/etc/passwd'\n", "error")
video("text.mkv", b"plain text is not a video\n" * 20, "error")
video("image_as_video.mp4", png_ok, "error")

# ---------------------------------------------------------------------------------------------
# API requests (JSON bodies); documented status each.


def request(name, body, status, headers=None, latin1=False):
    """A JSON body (max_tokens 1 unless the case sets it) and its documented status. latin1: the
    body's characters are the raw bytes to send (invalid UTF-8)."""
    if isinstance(body, dict):
        body = json.dumps(dict({"max_tokens": 1}, **body))
    add(name, "request", "error" if status != 200 else "ok", body=body, status=status,
        headers=headers or {}, latin1=latin1)


msg = [{"role": "user", "content": "hi"}]
request("api_valid", {"messages": msg, "max_tokens": 1}, 200)
request("api_not_json", "{\"messages\": [", 400)
request("api_empty_body", "", 400)
request("api_array_body", "[]", 400)
request("api_deep_json", "[" * 10000 + "]" * 10000, 400)
request("api_bad_utf8", '{"messages": [{"role": "user", "content": "\xff\xfe"}], "max_tokens": 1}', 400, latin1=True)
request("api_messages_string", {"messages": "hi"}, 400)
request("api_no_messages", {"max_tokens": 1}, 400)
request("api_role_unknown", {"messages": [{"role": "wizard", "content": "hi"}]}, 400)
request("api_content_number", {"messages": [{"role": "user", "content": 7}]}, 400)
for param, values in [("max_tokens", [-1, 0, 1e30, "8"]), ("temperature", [-1, 1e9, "hot"]),
                      ("top_p", [-0.5, 2]), ("n", [0, 17, 1000000]), ("top_logprobs", [21, -1]),
                      ("seed", ["x"]), ("stop", [["s"] * 17, 5]), ("presence_penalty", [1e30]),
                      ("frequency_penalty", [-1e30])]:
    for i, v in enumerate(values):
        extra = {"logprobs": True} if param == "top_logprobs" else {}
        request("api_%s_%d" % (param, i), dict({"messages": msg, param: v}, **extra), 400)
request("api_prompt_too_long", {"messages": [{"role": "user", "content": "word " * 40000}], "max_tokens": 1}, 400)
request("api_too_many_images", {"messages": [{"role": "user", "content": [
    {"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(png_ok).decode()}}] * 9}]}, 400)
for label, url in [("bad_b64_chars", "data:image/png;base64,****"), ("bad_b64_padding", "data:image/png;base64,iVBORw0KGgo="),
                   ("b64_whitespace", "data:image/png;base64,iVBO Rw0K"), ("empty_data_url", "data:image/png;base64,"),
                   ("data_url_no_base64", "data:image/png,abc"), ("data_url_no_comma", "data:image/png;base64"),
                   ("loopback_url", "http://127.0.0.1:1/x.png"), ("file_url", "file:///etc/passwd"),
                   ("gopher_url", "gopher://example.com/x")]:
    request("api_" + label, {"messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": url}}, {"type": "text", "text": "hi"}]}], "max_tokens": 1}, 400)
# A request-supplied template is never run: one that would fail if rendered is ignored (200).
request("api_request_template", {"messages": msg, "chat_template": "{{ raise_exception('ran') }}"}, 200)

with open(os.path.join(OUT, "manifest.json"), "w") as f:
    json.dump(cases, f, indent=1)
print("%d cases" % len(cases))
