#!/usr/bin/env bash
# Installs what a fresh Debian 12 + Node 20 machine lacks to run this project. Idempotent and
# quiet when everything is present.
#   bash scripts/setup.sh          pnpm + ffmpeg (enough to build and run the server)
#   bash scripts/setup.sh --test   also the real peers the tests use: GStreamer publishers
#                                  (rtmp2sink, rtmpsink/librtmp, x264, AAC), nginx with the RTMP
#                                  module, rtmpdump, Chromium (Debian's, for browser tests) and
#                                  OBS Studio run headless (Xvfb) as a publisher
#   bash scripts/setup.sh --bench  also what the load benchmark (bench/load) runs: nginx with the
#                                  RTMP module (the peer), ffmpeg (publishers, clip) and wrk (HTTP)
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

want_test=0
want_bench=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    --bench) want_bench=1 ;;
    *) echo "setup.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "setup.sh: Node.js >= 20 is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

# pnpm via npm: corepack's signature check fails with this Node.
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version | cut -d. -f1)" != "10" ]; then
  echo "setup.sh: installing pnpm 10"
  npm install -g --silent pnpm@10 >/dev/null
fi

packages=(ffmpeg)
# Installed without their recommended packages.
lean_packages=()
if [ "$want_test" = 1 ]; then
  packages+=(
    gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
    gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
    # glib-networking: GLib's TLS backend, which rtmp2sink needs for rtmps:// (the RTMPS tests)
    glib-networking
    nginx libnginx-mod-rtmp rtmpdump chromium
  )
  # OBS Studio 29 as a publisher (test/e2e/obs.test.ts, the obs-* captures), without its
  # recommends (obs-plugins: capture sources the tests do not use; the media source, x264, AAC and
  # the RTMP output are in obs-studio itself). xvfb: a display for its Qt window; xdotool: presses
  # its start/stop streaming hotkeys; libgl1-mesa-dri: Mesa's software OpenGL (llvmpipe), which
  # OBS needs for its renderer when there is no GPU (LIBGL_ALWAYS_SOFTWARE=1).
  lean_packages+=(obs-studio xvfb xdotool libgl1-mesa-dri)
fi
if [ "$want_bench" = 1 ]; then
  packages+=(nginx libnginx-mod-rtmp wrk)
fi

missing=()
for p in "${packages[@]}"; do
  installed "$p" || missing+=("$p")
done
missing_lean=()
for p in "${lean_packages[@]}"; do
  installed "$p" || missing_lean+=("$p")
done

if [ "$((${#missing[@]} + ${#missing_lean[@]}))" -gt 0 ]; then
  echo "setup.sh: installing Debian packages: ${missing[*]} ${missing_lean[*]}"
  need_root setup.sh "apt-get install: ${missing[*]} ${missing_lean[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${AS_ROOT[@]}" apt-get update -qq
  if [ "${#missing[@]}" -gt 0 ]; then
    "${AS_ROOT[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  if [ "${#missing_lean[@]}" -gt 0 ]; then
    "${AS_ROOT[@]}" apt-get install -y -qq --no-install-recommends "${missing_lean[@]}" >/dev/null
  fi
fi

# The server's own FFmpeg: a lean static build of Debian's ffmpeg source (see the script). Without
# it the server runs the ffmpeg on PATH (more memory per stream), so a failed build only warns,
# except in CI (CI=true), where the tests must run on what the server ships with.
if ! bash "$(dirname "${BASH_SOURCE[0]}")/build-ffmpeg.sh"; then
  if [ "${CI:-}" = true ]; then exit 1; fi
  echo "setup.sh: warning: the lean FFmpeg build failed (see above); the server will use the ffmpeg on PATH" >&2
fi
