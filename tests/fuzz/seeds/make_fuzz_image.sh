#!/usr/bin/env bash
# Writes a seed corpus for fuzz_image into OUTDIR: tiny JPEG (baseline, progressive, gray,
# CMYK, with EXIF orientation), PNG (RGB, RGBA, LA, L, palette+tRNS, 1/2/4/16-bit,
# interlaced) and WebP (lossy, lossless, alpha, animated) files, generated with Pillow.
set -euo pipefail
out="${1:?usage: make_fuzz_image.sh OUTDIR}"
mkdir -p "$out"
/usr/bin/python3 - "$out" <<'PY'
import io, os, sys
from PIL import Image
out = sys.argv[1]

def img(mode, size=(13, 9)):
    im = Image.new("RGB", size)
    im.putdata([((x * 19) % 256, (y * 29) % 256, ((x + y) * 7) % 256) for y in range(size[1]) for x in range(size[0])])
    return im.convert(mode)

def save(name, im, fmt, **kw):
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    with open(os.path.join(out, name), "wb") as f:
        f.write(b.getvalue())

exif = Image.Exif()
exif[0x0112] = 6
save("rgb.jpg", img("RGB"), "JPEG", quality=80)
save("rgb444.jpg", img("RGB", (17, 8)), "JPEG", quality=95, subsampling=0)
save("progressive.jpg", img("RGB", (24, 16)), "JPEG", progressive=True)
save("gray.jpg", img("L"), "JPEG")
save("cmyk.jpg", img("CMYK"), "JPEG")
save("exif6.jpg", img("RGB"), "JPEG", exif=exif.tobytes())
save("rgb.png", img("RGB"), "PNG")
save("rgba.png", img("RGBA"), "PNG")
save("la.png", img("LA"), "PNG")
save("l.png", img("L"), "PNG")
save("one_bit.png", img("1"), "PNG")
save("palette.png", img("P"), "PNG", transparency=3)
save("palette4.png", img("RGB").convert("P", colors=16), "PNG", bits=4)
save("interlaced.png", img("RGB"), "PNG", interlace=1)
save("i16.png", img("L").convert("I;16"), "PNG")
save("exif.png", img("RGB"), "PNG", exif=exif.tobytes())
save("one_px.png", img("RGB", (1, 1)), "PNG")
save("lossy.webp", img("RGB"), "WEBP", quality=50)
save("lossless.webp", img("RGB"), "WEBP", lossless=True)
save("alpha.webp", img("RGBA"), "WEBP")
frames = [img("RGB"), img("RGB").rotate(90, expand=False)]
save("animated.webp", frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100, loop=0)
PY
