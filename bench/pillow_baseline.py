#!/usr/bin/python3
"""Pillow/numpy baseline for bench_media: the same work as Ocular's media pipeline, done the
way the HF slow image processor does it (PIL decode + exif_transpose + convert, PIL bicubic
resize, numpy rescale/normalise, temporal duplication, patch reorder).

  pillow_baseline.py --image FILE [--video FILE] [--runs 5]

Prints one JSON line with median milliseconds. For the video, PyAV (python3-av, the same
FFmpeg libraries) decodes; without it only the per-frame preprocessing of the sampled frames
is timed from raw frames given with --video-frames (RAW [n][h][w][3] u8) --video-hw H W.
"""
import argparse
import json
import math
import statistics
import time

import numpy as np
from PIL import Image, ImageOps


def smart_resize(h, w, factor=32, min_pixels=65536, max_pixels=16777216):
    hb, wb = round(h / factor) * factor, round(w / factor) * factor
    if hb * wb > max_pixels:
        beta = math.sqrt(h * w / max_pixels)
        hb, wb = max(factor, math.floor(h / beta / factor) * factor), max(factor, math.floor(w / beta / factor) * factor)
    elif hb * wb < min_pixels:
        beta = math.sqrt(min_pixels / (h * w))
        hb, wb = math.ceil(h * beta / factor) * factor, math.ceil(w * beta / factor) * factor
    return hb, wb


def patchify(frames):  # [T, 3, H, W] float32, T even
    t, c, h, w = frames.shape
    x = frames.reshape(t // 2, 2, c, h // 32, 2, 16, w // 32, 2, 16).transpose(0, 3, 6, 4, 7, 2, 1, 5, 8)
    return np.ascontiguousarray(x.reshape(-1, c * 2 * 16 * 16))


def image_once(path):
    im = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    hb, wb = smart_resize(im.height, im.width)
    if (hb, wb) != (im.height, im.width):
        im = im.resize((wb, hb), Image.BICUBIC)
    x = (np.asarray(im).astype(np.float64) * (1 / 255)).astype(np.float32)
    x = ((x - np.float32(0.5)) / np.float32(0.5)).transpose(2, 0, 1)
    return patchify(np.stack([x, x]))


def video_preprocess(frames, src_h, src_w):
    n = len(frames)
    tb = round(n / 2) * 2
    hb, wb = round(src_h / 32) * 32, round(src_w / 32) * 32
    if tb * hb * wb > 25165824:
        beta = math.sqrt(n * src_h * src_w / 25165824)
        hb, wb = max(32, math.floor(src_h / beta / 32) * 32), max(32, math.floor(src_w / beta / 32) * 32)
    out = []
    for f in frames:
        im = Image.fromarray(f)
        if (hb, wb) != (src_h, src_w):
            im = im.resize((wb, hb), Image.BICUBIC)
        out.append(((np.asarray(im).astype(np.float32) - np.float32(127.5)) / np.float32(127.5)).transpose(2, 0, 1))
    if len(out) % 2:
        out.append(out[-1])
    return patchify(np.stack(out))


def video_once_pyav(path):
    import av
    with av.open(path) as c:
        s = c.streams.video[0]
        total = s.frames
        fps = float(s.average_rate)
        n = min(max(int(total / fps * 2), 4), 768, total)
        idx = set(np.linspace(0, total - 1, n).round().astype(int).tolist())
        frames = [f.to_ndarray(format="rgb24") for i, f in enumerate(c.decode(s)) if i in idx]
    return video_preprocess(frames, frames[0].shape[0], frames[0].shape[1])


def median_ms(fn, runs):
    """(median wall ms, median process CPU ms)."""
    wall, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    return statistics.median(wall), statistics.median(cpu)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--image")
    ap.add_argument("--video")
    ap.add_argument("--video-frames")
    ap.add_argument("--video-hw", nargs=2, type=int)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    res = {}
    if a.image:
        res["image_ms"], res["image_cpu"] = median_ms(lambda: image_once(a.image), a.runs)
    if a.video:
        try:
            import av  # noqa: F401
            res["video_ms"], res["video_cpu"] = median_ms(lambda: video_once_pyav(a.video), a.runs)
            res["video_decoder"] = "pyav"
        except ImportError:
            res["video_decoder"] = "none (python3-av missing)"
    if a.video_frames:
        h, w = a.video_hw
        raw = np.fromfile(a.video_frames, np.uint8).reshape(-1, h, w, 3)
        res["video_preprocess_only_ms"], res["video_preprocess_only_cpu"] = median_ms(
            lambda: video_preprocess(list(raw), h, w), a.runs)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
