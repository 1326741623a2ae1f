#!/usr/bin/env bash
# test_hub.sh HUB MODEL — the one-shot answer is llama.cpp's greedy continuation; errors are
# reported, not crashes.
set -euo pipefail
hub=$1 model=$2
out=$("$hub" "$model" "Once upon a time" --max-tokens 16)
echo "$out"
[[ $out == ", there was a little girl named Lily. She loved to play"* ]] || { echo "FAIL: unexpected answer"; exit 1; }
set +e
"$hub" /nonexistent.gguf "hi" 2>&1; rc=$?
set -e
[[ $rc -eq 1 ]] || { echo "FAIL: missing model gave exit status $rc"; exit 1; }
# Malformed flags are usage errors (status 2), found before the model is read.
for bad in "--bogus 1" "--max-tokens" "--max-tokens abc" "--threads 0" "--threads 2.5"; do
  set +e
  # shellcheck disable=SC2086
  "$hub" /nonexistent.gguf "hi" $bad 2>/dev/null; rc=$?
  set -e
  [[ $rc -eq 2 ]] || { echo "FAIL: 'hub MODEL QUESTION $bad' gave exit status $rc, not 2"; exit 1; }
done
echo OK
