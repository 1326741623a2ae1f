// resource_limits.h — how many threads and positions a caller may ask for.
//
// Options that size thread pools and buffers come from callers (C ABI, Python, command line);
// an absurd value must be a clear error, not hundreds of thousands of threads or an allocation
// that kills the process.
#pragma once

#include <cstdint>
#include <string_view>

#include "r1/status.h"

namespace r1 {

// The most threads a pool may have: 4 per hardware thread, and never fewer than 64 so that a
// machine that reports few cores (containers, hardware_concurrency() == 0) still allows any
// sensible count. More threads than that only oversubscribe the cores.
int MaxThreadCount();

// InvalidArgument naming `what` (e.g. "n_threads"), the value and the limit when `n` is not in
// [1, MaxThreadCount()]. Callers resolve their "0 = default" before asking.
Status CheckThreadCount(int64_t n, std::string_view what);

// Positions of one context: 16M, 128 times the longest context of the R1 family (131,072).
// Buffers that grow with the context (token ids, exact attention scores) stay allocatable.
inline constexpr int64_t kMaxContextPositions = int64_t{1} << 24;
// Prompt tokens of one forward pass: activations grow with it by the model's widths.
inline constexpr int64_t kMaxBatchTokens = int64_t{1} << 16;

// InvalidArgument unless 0 < n_ctx <= kMaxContextPositions and 0 < n_batch <= kMaxBatchTokens.
Status CheckContextSizes(int64_t n_ctx, int64_t n_batch);

}  // namespace r1
