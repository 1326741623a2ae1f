#!/usr/bin/env bash
# test_subproject.sh [subproject|installed|all] — builds examples/subproject in a temporary
# directory against this checkout of r1, and runs it with the tiny model:
#   subproject  r1 as a Meson subproject (subprojects/r1 linked to this checkout);
#   installed   r1 built static, `meson install`ed into a temporary prefix and found through
#               its r1.pc (pkg-config), as a distribution package would provide it.
set -euo pipefail
mode=${1:-all}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
shared=${R1_SHARED_DIR:-$src/../shared}
model=$shared/models/stories260K-q8dequant.gguf
[[ -f $model ]] || model=""
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
jobs=$(nproc)
# Only what r1 needs to be used: no tests, tools, Python or oneDNN, one SIMD ISA.
r1_opts=(-Dtests=disabled -Dexamples=false -Dpython=disabled -Donednn=disabled)
case $(uname -m) in x86_64) r1_opts+=(-Disa_targets=avx2) ;; aarch64) r1_opts+=(-Disa_targets=neon) ;; esac

copy_project() {
  mkdir -p "$1"
  cp "$here/meson.build" "$here/meson_options.txt" "$here/answer.c" "$1/"
  mkdir -p "$1/subprojects"
  cp "$here/subprojects/r1.wrap" "$1/subprojects/"
}

check_output() {
  local log=$1
  if [[ -n $model ]]; then
    grep -q ", there was a little girl named Lily" "$log" || { cat "$log"; echo "FAIL: unexpected answer"; exit 1; }
  fi
}

if [[ $mode == subproject || $mode == all ]]; then
  echo "== r1 as a subproject"
  copy_project "$tmp/sub"
  ln -s "$src" "$tmp/sub/subprojects/r1"
  sub_opts=()
  for o in "${r1_opts[@]}"; do sub_opts+=("-Dr1:${o#-D}"); done
  meson setup "$tmp/sub-build" "$tmp/sub" --force-fallback-for=r1 -Dmodel="$model" "${sub_opts[@]}" >/dev/null
  ninja -C "$tmp/sub-build" -j "$jobs" answer >/dev/null
  "$tmp/sub-build/answer" "$model" | tee "$tmp/sub.log"
  check_output "$tmp/sub.log"
fi

if [[ $mode == installed || $mode == all ]]; then
  echo "== r1 installed (static) and found with pkg-config"
  meson setup "$tmp/r1-build" "$src" --prefix="$tmp/prefix" --libdir=lib -Ddefault_library=static \
    "${r1_opts[@]}" >/dev/null
  ninja -C "$tmp/r1-build" -j "$jobs" >/dev/null
  meson install -C "$tmp/r1-build" --quiet >/dev/null
  test -f "$tmp/prefix/lib/libr1.a" && test -f "$tmp/prefix/include/r1.h" && test -f "$tmp/prefix/include/r1/r1.hpp"
  # libr1.a carries the whole library: the C ABI and the core.
  nm -C "$tmp/prefix/lib/libr1.a" >"$tmp/nm.txt" 2>/dev/null || true
  grep -q ' T r1_session_generate' "$tmp/nm.txt" || { echo "FAIL: libr1.a lacks the C ABI"; exit 1; }
  grep -q ' T r1::Session::Generate' "$tmp/nm.txt" || { echo "FAIL: libr1.a lacks the core"; exit 1; }
  export PKG_CONFIG_PATH=$tmp/prefix/lib/pkgconfig
  pkg-config --exists r1 && pkg-config --modversion r1
  copy_project "$tmp/inst"
  meson setup "$tmp/inst-build" "$tmp/inst" --wrap-mode=nofallback -Dstatic_r1=true -Dmodel="$model" >/dev/null
  ninja -C "$tmp/inst-build" answer >/dev/null
  "$tmp/inst-build/answer" "$model" | tee "$tmp/inst.log"
  check_output "$tmp/inst.log"
  if ldd "$tmp/inst-build/answer" 2>/dev/null | grep libr1; then echo "FAIL: answer is linked to a shared libr1"; exit 1; fi
fi
echo OK
