#!/usr/bin/env bash
# Builds the server's own FFmpeg: Debian's ffmpeg source package (the same version and patches as
# the installed `ffmpeg` package), configured with only what the ingest needs (FLV in on a pipe,
# H.264 / AAC / MP3 copied into HLS + MPEG-TS files), statically linked. Output: .ffmpeg/bin/ffmpeg,
# which the server prefers to the ffmpeg on PATH (see apps/server/src/ffmpeg-resolve.ts).
#
# Why: one FFmpeg runs per stream, and Debian's build loads ~100 shared libraries whose relocated
# pages are private to each process: 14.4 MB of private dirty memory per stream against 4.3 MB for
# this build (docs/benchmarks-history.md). It also exposes only the FLV demuxer and three parsers to what
# publishers send, instead of every demuxer and decoder Debian enables.
#
# Patches: scripts/ffmpeg-patches/*.patch, applied in name order (each one says why).
#
# Idempotent: does nothing when .ffmpeg/stamp matches the Debian version, the flags and the patches.
# Needs root (or sudo) once, to add deb-src entries and fetch the source package.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out="$root/.ffmpeg"

flags=(
  --disable-everything --disable-autodetect --disable-network --disable-doc --disable-debug
  --disable-ffplay --disable-ffprobe --disable-avdevice --disable-swscale --disable-postproc
  --disable-x86asm --extra-version=lean
  --enable-protocol=pipe,file
  --enable-demuxer=flv
  --enable-muxer=hls,mpegts
  --enable-parser=h264,aac,mpegaudio
  --enable-decoder=h264,aac,mp3,mp3float
  --enable-bsf=h264_mp4toannexb,aac_adtstoasc
  --enable-static --disable-shared
  --extra-cflags=-fno-pie --extra-ldflags=-static --extra-ldflags=-no-pie
)

version=$(dpkg-query -W -f='${Version}' ffmpeg 2>/dev/null || true)
if [ -z "$version" ]; then
  echo "build-ffmpeg.sh: Debian's ffmpeg package is not installed (run scripts/setup.sh)" >&2
  exit 1
fi
shopt -s nullglob
patches=("$root"/scripts/ffmpeg-patches/*.patch)
shopt -u nullglob
want="$version $({ printf '%s\n' "${flags[@]}"; cat "${patches[@]}" </dev/null; } | sha256sum | cut -c1-16)"
if [ -x "$out/bin/ffmpeg" ] && [ "$(cat "$out/stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi

need_root build-ffmpeg.sh "fetch Debian's ffmpeg source package"
export DEBIAN_FRONTEND=noninteractive

echo "build-ffmpeg.sh: building a lean static FFmpeg from Debian's ffmpeg $version source (about a minute)"
# Source indices for the suites the binary packages come from.
srcfile=/etc/apt/sources.list.d/rtmp-hls-ingest-src.sources
if [ ! -f "$srcfile" ]; then
  # shellcheck disable=SC1091
  codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
  "${AS_ROOT[@]}" tee "$srcfile" >/dev/null <<EOF
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $codename $codename-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: $codename-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
fi
need=()
for p in build-essential dpkg-dev patch; do
  installed "$p" || need+=("$p")
done
"${AS_ROOT[@]}" apt-get update -qq
if [ "${#need[@]}" -gt 0 ]; then "${AS_ROOT[@]}" apt-get install -y -qq "${need[@]}" >/dev/null; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(
  cd "$work"
  # The installed version's source; if the mirror has moved on since it was installed, the newest.
  apt-get source -qq --only-source "ffmpeg=$version" >/dev/null 2>"$work/source.log" ||
    apt-get source -qq --only-source ffmpeg >/dev/null 2>>"$work/source.log" || {
    cat "$work/source.log" >&2
    exit 1
  }
  src=$(find . -maxdepth 1 -type d -name 'ffmpeg-*' | head -1)
  cd "$src"
  for p in "${patches[@]}"; do
    patch -p1 --forward --quiet <"$p" >"$work/patch.log" 2>&1 || {
      echo "build-ffmpeg.sh: $(basename "$p") does not apply to ffmpeg $version:" >&2
      cat "$work/patch.log" >&2
      exit 1
    }
  done
  ./configure "${flags[@]}" >"$work/configure.log" 2>&1 || {
    tail -20 "$work/configure.log" >&2
    exit 1
  }
  make -j"$(nproc)" ffmpeg >"$work/make.log" 2>&1 || {
    tail -30 "$work/make.log" >&2
    exit 1
  }
  mkdir -p "$out/bin"
  install -m 0755 ffmpeg "$out/bin/ffmpeg.new"
  mv -f "$out/bin/ffmpeg.new" "$out/bin/ffmpeg"
)
"$out/bin/ffmpeg" -hide_banner -version | head -1
printf '%s\n' "$want" >"$out/stamp"
