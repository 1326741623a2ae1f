// r1/quant/ref_iquants_quantize.h — quantizers from f32 into IQ4_NL and IQ4_XS.
//
// Each group of 32 gets the scale that minimises the weighted squared error Σ w (x - d v[q])²
// over the non-linear values v: candidate inverse scales around the one that maps the group's
// largest magnitude onto the table's end are tried, each with every element rounded to its
// nearest value, and the least-squares d of the best is kept. The weights are x² (large values
// matter most) or, with an importance matrix, imatrix · sqrt(σ² + x²), σ² the mean square of the
// row's block. IQ4_XS then stores the group scales as 6-bit multiples of one f16 step per 256.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "r1/quant/iquant_grids.h"
#include "r1/quant/ref_common.h"

namespace r1::quant::ref {
namespace internal {

// Index of the table value nearest to v (the upper one on ties).
inline int NearestIq4(float v) {
  const int8_t* t = grids::kIq4Values;
  if (v <= t[0]) return 0;
  if (v >= t[15]) return 15;
  int lo = 0, hi = 15;
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    (v < t[mid] ? hi : lo) = mid;
  }
  return v - t[lo] < t[hi] - v ? lo : hi;
}

// Importance of each element of a block of n: see the header comment. `importance` may be null.
inline void Iq4Weights(const float* x, int n, const float* importance, float* w) {
  if (importance == nullptr) {
    for (int j = 0; j < n; ++j) w[j] = x[j] * x[j];
    return;
  }
  float sigma2 = 0.0f;
  for (int j = 0; j < n; ++j) sigma2 += x[j] * x[j];
  sigma2 *= 2.0f / static_cast<float>(n);
  for (int j = 0; j < n; ++j) w[j] = importance[j] * std::sqrt(sigma2 + x[j] * x[j]);
}

// The best scale of a group of 32 for weights w (0 for a group of zeros).
inline float BestIq4Scale(const float* x, const float* w) {
  constexpr int kTries = 7;
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < 32; ++j) {
    if (std::fabs(x[j]) > amax) amax = std::fabs(x[j]), max = x[j];
  }
  if (amax < 1e-15f) return 0.0f;
  const float t0 = grids::kIq4Values[0];
  float best_d = 0.0f, best = 0.0f;
  // Candidate inverse scales: the largest value onto +127 (clamped to the table's 113), then
  // onto -127 and the 14 steps around it.
  for (int k = -kTries - 1; k <= kTries; ++k) {
    const float inv = k < -kTries ? -t0 / max : (static_cast<float>(k) + t0) / max;
    float sum_qx = 0.0f, sum_q2 = 0.0f;
    for (int j = 0; j < 32; ++j) {
      const float q = grids::kIq4Values[NearestIq4(inv * x[j])];
      sum_qx += w[j] * q * x[j];
      sum_q2 += w[j] * q * q;
    }
    // Keep the candidate that removes the most error: (Σ w q x)² / Σ w q².
    if (sum_q2 > 0.0f && sum_qx * sum_qx > best * sum_q2) {
      best_d = sum_qx / sum_q2;
      best = best_d * sum_qx;
    }
  }
  return best_d;
}

inline void PackIq4Nibbles(const float* x, float d, uint8_t* qs) {
  const float inv = d != 0.0f ? 1.0f / d : 0.0f;
  for (int j = 0; j < 16; ++j) {
    qs[j] = static_cast<uint8_t>(NearestIq4(inv * x[j]) | NearestIq4(inv * x[j + 16]) << 4);
  }
}

}  // namespace internal

// `importance` (n values or null) weighs each column's error, as an importance matrix does.
inline void QuantizeRowIQ4_NL(const float* x, BlockIQ4_NL* y, int64_t n, const float* importance = nullptr) {
  float w[kQK];
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float* xb = x + i * kQK;
    internal::Iq4Weights(xb, kQK, importance ? importance + i * kQK : nullptr, w);
    const float d = internal::BestIq4Scale(xb, w);
    y[i].d = F32ToF16(d);
    internal::PackIq4Nibbles(xb, F16ToF32(y[i].d), y[i].qs);
  }
}

inline void QuantizeRowIQ4_XS(const float* x, BlockIQ4_XS* y, int64_t n, const float* importance = nullptr) {
  float w[kQK_K], scales[kQK_K / 32];
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float* xb = x + i * kQK_K;
    BlockIQ4_XS& b = y[i];
    internal::Iq4Weights(xb, kQK_K, importance ? importance + i * kQK_K : nullptr, w);
    float max_scale = 0.0f;
    for (int g = 0; g < kQK_K / 32; ++g) {
      scales[g] = internal::BestIq4Scale(xb + 32 * g, w + 32 * g);
      if (std::fabs(scales[g]) > std::fabs(max_scale)) max_scale = scales[g];
    }
    // The largest group scale becomes -32 steps: the 6-bit range [-32, 31] is asymmetric.
    const float step = -max_scale / 32.0f;
    b.d = F32ToF16(step);
    const float d = F16ToF32(b.d), inv = d != 0.0f ? 1.0f / d : 0.0f;
    b.scales_h = 0;
    std::memset(b.scales_l, 0, sizeof(b.scales_l));
    for (int g = 0; g < kQK_K / 32; ++g) {
      const int l = std::clamp(NearestInt(inv * scales[g]), -32, 31);
      internal::PackIq4Nibbles(xb + 32 * g, d * static_cast<float>(l), b.qs + 16 * g);
      const int s = l + 32;
      b.scales_l[g / 2] = static_cast<uint8_t>(b.scales_l[g / 2] | (s & 0xf) << (4 * (g % 2)));
      b.scales_h = static_cast<uint16_t>(b.scales_h | (s >> 4) << (2 * g));
    }
  }
}

}  // namespace r1::quant::ref
