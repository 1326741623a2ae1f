// r1/quant/ref_block_extremes.h — extremes of a block of floats. On x86-64 four interleaved
// lanes are scanned with SSE2 and merged so that the result is the very element a
// one-at-a-time scan returns (among equal values the first, NaN as there); elsewhere the
// one-at-a-time scan itself.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "r1/quant/ref_common.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace r1::quant::ref::internal {

#if defined(__SSE2__)
// Per lane: where `take`, the value and index of the candidate, else the lane's own.
inline void TakeWhere(__m128 take, __m128 value, __m128i index, __m128* best, __m128i* best_at) {
  *best = _mm_or_ps(_mm_and_ps(take, value), _mm_andnot_ps(take, *best));
  const __m128i t = _mm_castps_si128(take);
  *best_at = _mm_or_si128(_mm_and_si128(t, index), _mm_andnot_si128(t, *best_at));
}
#endif

// The first element of largest magnitude, with its sign; 0 when every magnitude is 0 (or NaN).
// n a multiple of 4.
inline float FirstSignedAbsMax(const float* x, int n) {
#if defined(__SSE2__)
  const __m128 magnitude_bits = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff));
  __m128 amax = _mm_setzero_ps();
  __m128i at = _mm_set1_epi32(-1), index = _mm_setr_epi32(0, 1, 2, 3);
  for (int j = 0; j < n; j += 4, index = _mm_add_epi32(index, _mm_set1_epi32(4))) {
    const __m128 a = _mm_and_ps(_mm_loadu_ps(x + j), magnitude_bits);
    TakeWhere(_mm_cmplt_ps(amax, a), a, index, &amax, &at);
  }
  float lane_max[4];
  int32_t lane_at[4];
  _mm_storeu_ps(lane_max, amax);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(lane_at), at);
  int best = 0;
  for (int k = 1; k < 4; ++k) {
    if (lane_max[best] < lane_max[k] || (lane_max[best] == lane_max[k] && lane_at[k] < lane_at[best])) best = k;
  }
  return lane_at[best] < 0 ? 0.0f : x[lane_at[best]];
#else
  return SignedAbsMax(x, n);
#endif
}

// The same as min = max = x[0], then min = std::min(min, x[j]) and max = std::max(max, x[j]) for
// every j. n a multiple of 4. Equal nonzero floats are the same bits, so the lane-wise extremes
// are the scan's unless a NaN is present or an extreme is zero (whose sign depends on which zero
// comes first); then the block is scanned.
inline void FirstMinMax(const float* x, int n, float* min, float* max) {
#if defined(__SSE2__)
  __m128 lo = _mm_loadu_ps(x), hi = lo, nan = _mm_cmpunord_ps(lo, lo);
  for (int j = 4; j < n; j += 4) {
    const __m128 v = _mm_loadu_ps(x + j);
    lo = _mm_min_ps(lo, v);
    hi = _mm_max_ps(hi, v);
    nan = _mm_or_ps(nan, _mm_cmpunord_ps(v, v));
  }
  float lo_v[4], hi_v[4];
  _mm_storeu_ps(lo_v, lo);
  _mm_storeu_ps(hi_v, hi);
  *min = std::min(std::min(lo_v[0], lo_v[1]), std::min(lo_v[2], lo_v[3]));
  *max = std::max(std::max(hi_v[0], hi_v[1]), std::max(hi_v[2], hi_v[3]));
  if (_mm_movemask_ps(nan) == 0 && *min != 0.0f && *max != 0.0f) return;
#endif
  *min = x[0];
  *max = x[0];
  for (int j = 1; j < n; ++j) {
    *min = std::min(*min, x[j]);
    *max = std::max(*max, x[j]);
  }
}

}  // namespace r1::quant::ref::internal
