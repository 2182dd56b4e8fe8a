#!/usr/bin/env bash
# Writes a seed corpus for fuzz_video into OUTDIR: the small lossless golden clips (FFV1 MKV,
# H.264 MP4) when the golden data is present (OCULAR_GOLDEN_DIR or ../shared/golden), plus
# container headers and a playlist disguised as MP4 (generated, no downloads).
set -euo pipefail
out="${1:?usage: make_fuzz_video.sh OUTDIR}"
mkdir -p "$out"
repo="$(cd "$(dirname "$0")/../../.." && pwd)"
golden="${OCULAR_GOLDEN_DIR:-$repo/../shared/golden}"
if [ -d "$golden/inputs/video" ]; then
  for f in video_a.mp4 video_c.mp4 video_c.mkv video_a.mkv; do
    [ -f "$golden/inputs/video/$f" ] && cp "$golden/inputs/video/$f" "$out/$f"
  done
fi
printf '\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08\x42\x82\x84webm\x42\x87\x81\x02\x42\x85\x81\x02' >"$out/ebml_header.webm"
printf '\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2#EXTM3U\n#EXTINF:1,\nhttp://127.0.0.1/x.ts\n' >"$out/playlist.mp4"
