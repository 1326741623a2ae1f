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
echo OK
