// r1/quant/ref_rounding.h — float-to-int rounding for the weight quantizers, without a library
// call per value on x86-64 targets that lack SSE4.1's rounding instructions.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

#include "r1/quant/ref_common.h"

// For the candidate searches: kept out of line and out of interprocedural constant
// propagation. A copy specialised on constant bounds can lose its vectorization (several times
// slower with GCC 12), which a caller of a single type would otherwise get.
#if defined(__GNUC__) && !defined(__clang__)
#define R1_QUANT_SEARCH_FN [[gnu::noipa]]
#elif defined(__GNUC__)
#define R1_QUANT_SEARCH_FN [[gnu::noinline]]
#else
#define R1_QUANT_SEARCH_FN
#endif

namespace r1::quant::ref {

// The same value as NearestInt (round to nearest, ties to even) for every input. Below 2^22 in
// magnitude, adding 1.5 * 2^23 leaves the rounded integer in the low mantissa bits.
inline int RoundToNearest(float x) {
  if (std::fabs(x) < 4194304.0f) {
    const int32_t bits = std::bit_cast<int32_t>(x + 12582912.0f);
    return (bits & 0x007fffff) - 0x00400000;
  }
  return NearestInt(x);
}

// RoundToNearest of a v with |v| < 2^22, kept as a float (and free of branches).
inline float RoundSmall(float v) { return (v + 12582912.0f) - 12582912.0f; }

}  // namespace r1::quant::ref
