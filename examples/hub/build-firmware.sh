#!/usr/bin/env bash
# build-firmware.sh [BUILD_DIR] [extra meson options...]
#
# The firmware profile of r1: a static libr1 without oneDNN, Vulkan or Python, compiled for
# size with link-time optimisation and section garbage collection, and the one-shot `hub`
# program linked statically against it. Prints the stripped size of hub and its peak memory
# (/usr/bin/time -v) while it answers with the tiny model in the shared test data.
#
# Cross builds: pass --cross-file doc/cross/aarch64-linux-gnu.ini; the run then goes through
# qemu-aarch64-static, whose own memory the peak then includes.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build-hub}
shift || true
shared=${R1_SHARED_DIR:-$src/../shared}
model=$shared/models/stories260K-q8dequant.gguf

arch=$(uname -m)
wrapper=()
if [[ " $* " == *aarch64* ]]; then
  arch=aarch64
  [[ $(uname -m) == aarch64 ]] || wrapper=(qemu-aarch64-static)
fi
case $arch in
  x86_64) isa=avx2 ;;
  aarch64) isa=neon ;;
  *) isa=[] ;;
esac
strip_tool=strip
[[ $arch == aarch64 && $(uname -m) != aarch64 ]] && strip_tool=aarch64-linux-gnu-strip

if [[ ! -f $build/build.ninja ]]; then
  meson setup "$build" "$src" \
    -Ddefault_library=static -Dprefer_static=true \
    -Donednn=disabled -Dvulkan=disabled -Dpython=disabled -Dtests=disabled -Dexamples=true \
    -Disa_targets="$isa" -Dbuildtype=minsize -Db_lto=true -Db_ndebug=true \
    -Dcpp_args='-ffunction-sections -fdata-sections' -Dc_args='-ffunction-sections -fdata-sections' \
    -Dshared_dir="$shared" "$@"
fi
ninja -C "$build" examples/hub/hub
hub=$build/examples/hub/hub
"$strip_tool" -o "$hub.stripped" "$hub"
size=$(stat -c %s "$hub.stripped")
echo "hub (stripped): $size bytes ($(( (size + 1023) / 1024 )) KiB)"
file "$hub.stripped" || true
if [[ -f $model ]]; then
  log=$(mktemp)
  /usr/bin/time -v "${wrapper[@]}" "$hub.stripped" "$model" "Once upon a time" --max-tokens 64 2>"$log"
  grep -E 'Maximum resident set size|Elapsed \(wall clock\)' "$log"
  rm -f "$log"
fi
