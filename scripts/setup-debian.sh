#!/usr/bin/env bash
# Installs every Debian package Ocular needs to build, test and serve.
# Idempotent; run as root (or with sudo) on Debian 12 (bookworm).
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git clang clang-format
  libclang-rt-14-dev llvm
  # core libraries
  libfmt-dev libspdlog-dev libcli11-dev nlohmann-json3-dev libssl-dev libxxhash-dev
  # tokenizer
  libpcre2-dev libutf8proc-dev
  # media
  libturbojpeg0-dev libjpeg62-turbo-dev libpng-dev libwebp-dev zlib1g-dev
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev
  # compute
  libdnnl-dev ocl-icd-opencl-dev opencl-headers
  # server
  libcpp-httplib-dev libhiredis-dev
  # tests
  libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev
  # test oracles and services
  python3 python3-numpy python3-pil redis-server haproxy curl
  # media benchmark baseline (PyAV: same FFmpeg libraries, for the Python video decode)
  python3-av
  # web UI browser tests (driven by npm playwright-core; never a downloaded browser)
  chromium
  # web UI build (some Node.js builds bundle npm and conflict with Debian's npm package)
  nodejs
)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
