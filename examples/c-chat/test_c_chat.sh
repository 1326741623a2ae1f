#!/usr/bin/env bash
# test_c_chat.sh C_CHAT MODEL — two turns through c_chat; skips (77) without the model.
set -euo pipefail
c_chat=$1 model=$2
# Malformed flags are usage errors (status 2), found before the model is read.
for bad in "--bogus" "--max-tokens" "--max-tokens abc" "--max-tokens 12x" "--max-tokens -3"; do
  set +e
  # shellcheck disable=SC2086
  "$c_chat" /nonexistent.gguf $bad </dev/null 2>/dev/null; rc=$?
  set -e
  [[ $rc -eq 2 ]] || { echo "FAIL: 'c_chat MODEL $bad' gave exit status $rc, not 2"; exit 1; }
done
[[ -f $model ]] || { echo "SKIP: $model not found"; exit 77; }
out=$(printf 'Once upon a time\nTell me more\n' | "$c_chat" "$model" --template chatml --max-tokens 24 2>/dev/null)
lines=$(printf '%s\n' "$out" | grep -c . || true)
echo "$out"
[[ $lines -ge 1 ]] || { echo "FAIL: no answer streamed"; exit 1; }
# A missing model is an error with r1's message, not a crash.
err=$(mktemp)
trap 'rm -f "$err"' EXIT
if "$c_chat" /nonexistent.gguf </dev/null 2>"$err"; then echo "FAIL: missing model accepted"; exit 1; fi
grep -q 'R1_ERR_NOT_FOUND' "$err" || { cat "$err"; echo "FAIL: no error message"; exit 1; }
echo "OK"
