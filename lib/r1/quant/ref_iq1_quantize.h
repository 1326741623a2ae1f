// r1/quant/ref_iq1_quantize.h — quantizers from f32 into IQ1_S and IQ1_M.
//
// Every element decodes to d (2 s + 1) (v + δ), v in {-1, 0, 1} from a grid point per 8 elements
// and δ = ±1/8, one sign per group of 32 (IQ1_S) or per 8 (IQ1_M, which has a 3-bit s per 16
// instead of per 32). With three values a group's best assignment is a split of its sorted
// elements into a low, middle and high part: all splits and δ signs are scored exactly from prefix
// sums, then each unit of 8 off the grid moves to its best neighbouring grid point. Weights: with
// an importance matrix imatrix · sqrt(σ² + x²), σ² twice the block's mean x²; without one
// x² + half the block's mean x², as for IQ2.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numeric>

#include "r1/quant/iquant_grid_quantize.h"
#include "r1/quant/iquant_grid_search.h"
#include "r1/quant/ref_common.h"

namespace r1::quant::ref {
namespace internal {

inline constexpr float kIq1Delta = 0.125f;

// One group of n (16 or 32) elements whose δ sign changes every `span` elements (8 or 32). Returns
// the scale (>= 0), writes the grid index of each unit of 8, the δ sign (+1 / -1) of each span and
// v + δ of each element to `a`.
inline float QuantizeIq1Group(const float* x, const float* w, int n, int span, int* index, int* delta_sign, float* a) {
  const GridSearch& gs = Iq1sSearch();
  const int spans = n / span;
  int8_t l[32];
  std::fill(l, l + n, int8_t{1});
  std::fill(delta_sign, delta_sign + spans, 1);
  float max = 0.0f;
  for (int j = 0; j < n; ++j) max = std::max(max, std::fabs(x[j]));
  float scale = 0.0f;
  if (max > 1e-12f) {
    int order[32];
    std::iota(order, order + n, 0);
    std::sort(order, order + n, [x](int p, int q) { return x[p] < x[q]; });
    // Per span, Σ w x and Σ w over the first i sorted elements.
    float sum_wx[2][33] = {}, sum_w[2][33] = {};
    for (int i = 0; i < n; ++i) {
      for (int r = 0; r < spans; ++r) sum_wx[r][i + 1] = sum_wx[r][i], sum_w[r][i + 1] = sum_w[r][i];
      const int j = order[i], r = j / span;
      sum_wx[r][i + 1] += w[j] * x[j];
      sum_w[r][i + 1] += w[j];
    }
    // Sorted elements [0, lo) take v = -1, [lo, hi) v = 0, [hi, n) v = 1.
    float best = -1.0f;
    int best_lo = -1, best_hi = -1, best_signs = 0;
    for (int lo = 0; lo <= n; ++lo) {
      for (int hi = lo; hi <= n; ++hi) {
        for (int signs = 0; signs < (1 << spans); ++signs) {
          float sum_qx = 0.0f, sum_q2 = 0.0f;
          for (int r = 0; r < spans; ++r) {
            const float delta = (signs >> r) & 1 ? -kIq1Delta : kIq1Delta;
            const float v[3] = {delta - 1.0f, delta, delta + 1.0f};
            const float part_wx[3] = {sum_wx[r][lo], sum_wx[r][hi] - sum_wx[r][lo], sum_wx[r][n] - sum_wx[r][hi]};
            const float part_w[3] = {sum_w[r][lo], sum_w[r][hi] - sum_w[r][lo], sum_w[r][n] - sum_w[r][hi]};
            for (int c = 0; c < 3; ++c) sum_qx += v[c] * part_wx[c], sum_q2 += v[c] * v[c] * part_w[c];
          }
          if (sum_q2 > 0.0f && sum_qx * sum_qx > best * sum_q2) {
            scale = sum_qx / sum_q2;
            best = scale * sum_qx;
            best_lo = lo, best_hi = hi, best_signs = signs;
          }
        }
      }
    }
    if (best_lo < 0) {
      scale = 0.0f;
    } else {
      for (int i = 0; i < n; ++i) l[order[i]] = static_cast<int8_t>(i < best_lo ? 0 : i < best_hi ? 1 : 2);
      for (int r = 0; r < spans; ++r) delta_sign[r] = (best_signs >> r) & 1 ? -1 : 1;
      if (scale < 0.0f) {  // mirror: v -> -v, δ -> -δ
        scale = -scale;
        for (int j = 0; j < n; ++j) l[j] = static_cast<int8_t>(2 - l[j]);
        for (int r = 0; r < spans; ++r) delta_sign[r] = -delta_sign[r];
      }
    }
  }
  bool moved = false;
  for (int u = 0; u < n / 8; ++u) {
    const float delta = kIq1Delta * static_cast<float>(delta_sign[8 * u / span]);
    const float v[3] = {delta - 1.0f, delta, delta + 1.0f};
    moved |= gs.IndexOf(l + 8 * u) < 0;
    index[u] = gs.Nearest(l + 8 * u, x + 8 * u, w + 8 * u, scale, v);
    for (int e = 0; e < 8; ++e) a[8 * u + e] = v[l[8 * u + e]];
  }
  if (moved && scale > 0.0f) {
    float sum_qx = 0.0f, sum_q2 = 0.0f;
    for (int j = 0; j < n; ++j) sum_qx += w[j] * a[j] * x[j], sum_q2 += w[j] * a[j] * a[j];
    if (sum_qx > 0.0f && sum_q2 > 0.0f) scale = sum_qx / sum_q2;
  }
  return scale;
}

}  // namespace internal

// `importance` (n values or null) weighs each column's error, as an importance matrix does.
inline void QuantizeRowIQ1_S(const float* x, BlockIQ1_S* y, int64_t n, const float* importance = nullptr) {
  float w[kQK_K], a[kQK_K], group_scale[kQK_K / 32];
  int index[kQK_K / 8], delta_sign[kQK_K / 32], s[kQK_K / 32];
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float* xb = x + i * kQK_K;
    internal::GridBlockWeights(xb, importance ? importance + i * kQK_K : nullptr, 2.0f, internal::NullImportance::kOnes,
                               w);
    for (int g = 0; g < kQK_K / 32; ++g) {
      group_scale[g] =
          internal::QuantizeIq1Group(xb + 32 * g, w + 32 * g, 32, 32, index + 4 * g, delta_sign + g, a + 32 * g);
    }
    BlockIQ1_S& b = y[i];
    b.d = internal::FitBlockScale(xb, w, a, group_scale, 32, 7, s);
    for (int g = 0; g < kQK_K / 32; ++g) {
      int h = s[g] << 12 | (delta_sign[g] < 0 ? 0x8000 : 0);
      for (int k = 0; k < 4; ++k) {
        b.qs[4 * g + k] = static_cast<uint8_t>(index[4 * g + k] & 255);
        h |= (index[4 * g + k] >> 8) << (3 * k);
      }
      b.qh[g] = static_cast<uint16_t>(h);
    }
  }
}

inline void QuantizeRowIQ1_M(const float* x, BlockIQ1_M* y, int64_t n, const float* importance = nullptr) {
  float w[kQK_K], a[kQK_K], group_scale[kQK_K / 16];
  int index[kQK_K / 8], delta_sign[kQK_K / 8], s[kQK_K / 16];
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float* xb = x + i * kQK_K;
    internal::GridBlockWeights(xb, importance ? importance + i * kQK_K : nullptr, 2.0f,
                               internal::NullImportance::kSquaresPlusMean, w);
    for (int g = 0; g < kQK_K / 16; ++g) {
      group_scale[g] =
          internal::QuantizeIq1Group(xb + 16 * g, w + 16 * g, 16, 8, index + 2 * g, delta_sign + 2 * g, a + 16 * g);
    }
    BlockIQ1_M& b = y[i];
    const uint16_t d = internal::FitBlockScale(xb, w, a, group_scale, 16, 7, s);
    uint16_t words[4] = {};
    for (int g = 0; g < kQK_K / 16; ++g) words[g / 4] = static_cast<uint16_t>(words[g / 4] | s[g] << (3 * (g % 4)));
    for (int k = 0; k < 4; ++k) words[k] = static_cast<uint16_t>(words[k] | ((d >> (4 * k)) & 0xf) << 12);
    std::memcpy(b.scales, words, sizeof(words));
    std::memset(b.qh, 0, sizeof(b.qh));
    for (int u = 0; u < kQK_K / 8; ++u) {
      b.qs[u] = static_cast<uint8_t>(index[u] & 255);
      const int nibble = (index[u] >> 8) | (delta_sign[u] < 0 ? 8 : 0);
      b.qh[u / 2] = static_cast<uint8_t>(b.qh[u / 2] | nibble << (4 * (u % 2)));
    }
  }
}

}  // namespace r1::quant::ref
