#!/usr/bin/env bash
# Compares libr1's C ABI with the committed baseline. Additions are compatible; anything
# removed or changed fails. Usage: check_abi.sh BASELINE LIBRARY HEADERS_DIR SUPPRESSIONS
set -u
baseline=$1 library=$2 headers=$3 suppressions=$4
if ! command -v abidiff >/dev/null; then
  echo "SKIPPED: abidiff not found (Debian package abigail-tools)"
  exit 77
fi
report=$(abidiff --suppressions "$suppressions" --headers-dir2 "$headers" --drop-private-types "$baseline" "$library")
rc=$?
if [ $rc -eq 0 ]; then
  echo "C ABI unchanged against $baseline"
  exit 0
fi
echo "$report"
if (( rc & 3 )); then
  echo "abidiff could not compare (status $rc)"
  exit 1
fi
if ! (( rc & 8 )) &&
   grep -qE '^Functions changes summary: 0 Removed, 0 Changed' <<<"$report" &&
   grep -qE '^Variables changes summary: 0 Removed, 0 Changed' <<<"$report"; then
  echo "C ABI extended compatibly; record the additions with: abidw (see doc/capi.md)"
  exit 0
fi
echo "C ABI break against $baseline"
exit 1
