#!/usr/bin/env bash
# Writes a seed corpus for fuzz_url into OUTDIR: ordinary URLs and the address spellings the
# fetcher must refuse (short, octal, hex, decimal IPv4; IPv6 brackets, zone ids, mapped forms).
set -euo pipefail
out="${1:?usage: make_fuzz_url.sh OUTDIR}"
mkdir -p "$out"
i=0
while IFS= read -r url; do
  printf '%s' "$url" > "$out/seed_$i"
  i=$((i + 1))
done <<'URLS'
http://example.com/a.png
https://images.example.org:8443/x/y.jpg?size=large#top
http://93.184.216.34/
http://[2001:db8::1]:8080/p
http://127.1/
http://0x7f.0.0.1/
http://0177.0.0.1/
http://2130706433/
http://[::ffff:127.0.0.1]/
http://[fe80::1%25eth0]/
http://user:pass@example.com/
http://example.com\@evil.com/
http://localhost./
http://example.com:0/
ftp://example.com/
URLS
