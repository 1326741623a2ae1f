#!/usr/bin/env bash
# libr1's dynamic symbol table holds the C ABI only: every defined symbol is r1_* (or the
# version node the linker adds), so no C++ or third-party type leaks into what callers link.
# Usage: check_exports.sh LIBRARY
set -u
library=$1
if ! command -v nm >/dev/null; then
  echo "SKIPPED: nm not found (Debian package binutils)"
  exit 77
fi
symbols=$(nm -D --defined-only "$library" | awk '{print $3}') || exit 1
others=$(grep -vE '^(r1_[A-Za-z0-9_]+(@@?R1_[0-9]+)?|R1_[0-9]+)$' <<<"$symbols")
count=$(grep -cE '^r1_' <<<"$symbols")
if [ -n "$others" ]; then
  echo "libr1 exports symbols outside the C ABI:"
  echo "$others"
  exit 1
fi
if [ "$count" -lt 20 ]; then
  echo "libr1 exports only $count r1_* symbols; the C ABI is missing"
  exit 1
fi
echo "libr1 exports $count r1_* symbols and nothing else"
