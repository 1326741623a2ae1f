// r1/quant/ref_kquants_quantize.h — reference quantizers from f32 into the K weight types.
//
// These make valid blocks with small round-trip error (for tests and tools); they are not
// bit-exact with llama-quantize, whose searches are more elaborate. Each group of 16 or 32
// values gets a scale (and, for Q2_K/Q4_K/Q5_K, a non-negative min subtracted from it) found by
// trying a range of candidate step sizes and refitting by least squares; the group scales are
// then quantized against a per-super-block f16 scale and the quants recomputed with the
// scales as stored. Given an importance vector, the group and super-block fits are the weighted
// searches of ggml's quantize_row_q*_K_impl instead (see ref_weighted_fit.h).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "r1/quant/ref_block_extremes.h"
#include "r1/quant/ref_common.h"
#include "r1/quant/ref_rounding.h"
#include "r1/quant/ref_weighted_fit.h"

namespace r1::quant::ref {
namespace internal {

// The candidate steps of the plain searches below: FitScaleMin tries (nmax + 0.1 k) / range
// for k in [-10, 10], FitScale (nmax + 0.1 k) / |max| for k in [-9, 9]. The fast forms evaluate
// all candidates side by side, each with exactly the operations (and the order of additions) of
// the one-at-a-time forms, so both give the same bits; the one-at-a-time forms remain for
// groups whose step sizes overflow. Lanes pad the candidates to whole vectors; padding lanes
// have a step of zero and are never chosen.
inline constexpr int kScaleMinSteps = 21;
inline constexpr int kScaleSteps = 19;
inline constexpr int kScaleMinLanes = 24;
inline constexpr int kScaleLanes = 20;

// Least squares for x ~ scale * l + offset (offset <= 0) from the sums of a candidate; false
// when the candidate put every value on one level.
inline bool SolveScaleOffset(float n, float sum_l, float sum_l2, float sum_xl, float sum_x, float* scale,
                             float* offset) {
  const float det = n * sum_l2 - sum_l * sum_l;
  if (!(det > 0)) return false;
  *scale = (n * sum_xl - sum_x * sum_l) / det;
  *offset = (sum_l2 * sum_x - sum_l * sum_xl) / det;
  if (*offset > 0) {
    *offset = 0;
    *scale = sum_xl / sum_l2;
  }
  return true;
}

inline float FitScaleMinOneAtATime(const float* x, int n, int nmax, float lo, float hi, uint8_t* L,
                                   float* the_min) {
  uint8_t cand[32];
  float best_err = INFINITY, best_scale = 0.0f, best_min = lo;
  for (int step = -10; step <= 10; ++step) {
    const float iscale = (static_cast<float>(nmax) + 0.1f * static_cast<float>(step)) / (hi - lo);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0, sum_x = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::clamp(RoundToNearest(iscale * (x[i] - lo)), 0, nmax);
      cand[i] = static_cast<uint8_t>(l);
      sum_l += static_cast<float>(l);
      sum_l2 += static_cast<float>(l * l);
      sum_xl += static_cast<float>(l) * x[i];
      sum_x += x[i];
    }
    float scale, offset;
    if (!SolveScaleOffset(static_cast<float>(n), sum_l, sum_l2, sum_xl, sum_x, &scale, &offset)) continue;
    float err = 0;
    for (int i = 0; i < n; ++i) {
      const float diff = scale * static_cast<float>(cand[i]) + offset - x[i];
      err += diff * diff;
    }
    if (err < best_err) {
      best_err = err;
      best_scale = scale;
      best_min = offset;
      std::copy(cand, cand + n, L);
    }
  }
  if (best_err == INFINITY) {  // degenerate: every candidate put all values on one level
    std::fill(L, L + n, 0);
    *the_min = -lo;
    return 0.0f;
  }
  *the_min = -best_min;
  return best_scale;
}

// FitScaleMinOneAtATime for finite step sizes: every scaled value iscale * (x - lo) then lies
// in [0, nmax + 1], where clamping before rounding equals clamping after.
R1_QUANT_SEARCH_FN inline float FitScaleMinSideBySide(const float* x, int n, int nmax, float lo,
                                                      const float iscale[kScaleMinLanes], uint8_t* L, float* the_min) {
  const float top = static_cast<float>(nmax);
  float cand[32][kScaleMinLanes];
  float sum_l[kScaleMinLanes] = {}, sum_l2[kScaleMinLanes] = {}, sum_xl[kScaleMinLanes] = {};
  float sum_x = 0;
  for (int i = 0; i < n; ++i) sum_x += x[i];
  for (int i = 0; i < n; ++i) {
    const float xi = x[i], d = x[i] - lo;
    for (int s = 0; s < kScaleMinLanes; ++s) {
      const float l = RoundSmall(std::min(iscale[s] * d, top));
      cand[i][s] = l;
      sum_l[s] += l;
      sum_l2[s] += l * l;
      sum_xl[s] += l * xi;
    }
  }
  float scale[kScaleMinLanes] = {}, offset[kScaleMinLanes] = {}, err[kScaleMinLanes] = {};
  bool valid[kScaleMinSteps];
  for (int s = 0; s < kScaleMinSteps; ++s) {
    scale[s] = offset[s] = 0.0f;
    valid[s] = SolveScaleOffset(static_cast<float>(n), sum_l[s], sum_l2[s], sum_xl[s], sum_x, &scale[s], &offset[s]);
  }
  for (int i = 0; i < n; ++i) {
    for (int s = 0; s < kScaleMinLanes; ++s) {
      const float diff = scale[s] * cand[i][s] + offset[s] - x[i];
      err[s] += diff * diff;
    }
  }
  int best = -1;
  float best_err = INFINITY;
  for (int s = 0; s < kScaleMinSteps; ++s) {
    if (valid[s] && err[s] < best_err) {
      best_err = err[s];
      best = s;
    }
  }
  if (best < 0) {  // degenerate: every candidate put all values on one level
    std::fill(L, L + n, 0);
    *the_min = -lo;
    return 0.0f;
  }
  for (int i = 0; i < n; ++i) L[i] = static_cast<uint8_t>(cand[i][best]);
  *the_min = -offset[best];
  return scale[best];
}

// Fits x ~ scale * L - min with L in [0, nmax] and min >= 0 (ggml's convention: mins are
// subtracted and never negative). Returns the scale, writes L and min.
inline float FitScaleMin(const float* x, int n, int nmax, uint8_t* L, float* the_min) {
  float lo, hi;
  FirstMinMax(x, n, &lo, &hi);
  lo = std::min(lo, 0.0f);
  if (hi <= lo) {
    std::fill(L, L + n, 0);
    *the_min = -lo;
    return 0.0f;
  }
  float iscale[kScaleMinLanes] = {};
  bool finite = std::isfinite(hi - lo);
  for (int s = 0; s < kScaleMinSteps; ++s) {
    iscale[s] = (static_cast<float>(nmax) + 0.1f * static_cast<float>(s - 10)) / (hi - lo);
    finite = finite && std::isfinite(iscale[s]);
  }
  if (!finite) return FitScaleMinOneAtATime(x, n, nmax, lo, hi, L, the_min);
  return FitScaleMinSideBySide(x, n, nmax, lo, iscale, L, the_min);
}

inline float FitScaleOneAtATime(const float* x, int n, int nmax, float max) {
  float best_err = INFINITY, best_scale = 0.0f;
  for (int step = -9; step <= 9; ++step) {
    const float iscale = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(step)) / max;
    float sum_xl = 0, sum_l2 = 0;
    int l[32];
    for (int i = 0; i < n; ++i) {
      l[i] = std::clamp(RoundToNearest(iscale * x[i]), -nmax, nmax - 1);
      sum_xl += x[i] * static_cast<float>(l[i]);
      sum_l2 += static_cast<float>(l[i] * l[i]);
    }
    if (sum_l2 == 0) continue;
    const float scale = sum_xl / sum_l2;
    float err = 0;
    for (int i = 0; i < n; ++i) {
      const float diff = scale * static_cast<float>(l[i]) - x[i];
      err += diff * diff;
    }
    if (err < best_err) {
      best_err = err;
      best_scale = scale;
    }
  }
  return best_scale;
}

// FitScaleOneAtATime for a finite max and groups of n: every iscale * x is then finite and
// within about nmax + 1 of zero, where clamping before rounding equals clamping after.
template <int n>
R1_QUANT_SEARCH_FN float FitScaleSideBySide(const float* x, int nmax, float max) {
  float iscale[kScaleLanes] = {}, l[n][kScaleLanes], sum_xl[kScaleLanes] = {}, sum_l2[kScaleLanes] = {};
  for (int s = 0; s < kScaleSteps; ++s)
    iscale[s] = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(s - 9)) / max;
  const float lo = static_cast<float>(-nmax), hi = static_cast<float>(nmax - 1);
  for (int i = 0; i < n; ++i) {
    const float xi = x[i];
    for (int s = 0; s < kScaleLanes; ++s) {
      float v = iscale[s] * xi;
      v = v > lo ? v : lo;
      v = v < hi ? v : hi;
      const float q = RoundSmall(v);
      l[i][s] = q;
      sum_xl[s] += xi * q;
      sum_l2[s] += q * q;
    }
  }
  float scale[kScaleLanes], err[kScaleLanes] = {};
  for (int s = 0; s < kScaleLanes; ++s) scale[s] = sum_l2[s] == 0 ? 0.0f : sum_xl[s] / sum_l2[s];
  for (int i = 0; i < n; ++i) {
    for (int s = 0; s < kScaleLanes; ++s) {
      const float diff = scale[s] * l[i][s] - x[i];
      err[s] += diff * diff;
    }
  }
  float best_err = INFINITY, best_scale = 0.0f;
  for (int s = 0; s < kScaleSteps; ++s) {
    if (sum_l2[s] == 0) continue;
    if (err[s] < best_err) {
      best_err = err[s];
      best_scale = scale[s];
    }
  }
  return best_scale;
}

// Fits x ~ scale * L with L in [-nmax, nmax - 1]; returns the (signed) scale.
inline float FitScale(const float* x, int n, int nmax) {
  const float max = FirstSignedAbsMax(x, n);
  if (std::fabs(max) < 1e-15f) return 0.0f;
  if (!std::isfinite(max)) return FitScaleOneAtATime(x, n, nmax, max);
  if (n == 16) return FitScaleSideBySide<16>(x, nmax, max);
  return FitScaleOneAtATime(x, n, nmax, max);
}

// Quantizes group scales/mins (all >= 0) to [0, qmax] against one super-block step.
inline float QuantizeGroupValues(const float* v, int n, int qmax, uint8_t* out) {
  const float max = *std::max_element(v, v + n);
  if (!(max > 0)) {
    std::fill(out, out + n, 0);
    return 0.0f;
  }
  const float inv = static_cast<float>(qmax) / max;
  for (int j = 0; j < n; ++j)
    out[j] = static_cast<uint8_t>(std::clamp(RoundToNearest(inv * v[j]), 0, qmax));
  return max / static_cast<float>(qmax);
}

// Both below compute clamp(RoundToNearest(v), lo, hi) without branches: clamping before
// rounding gives the same integer, and a v at or above 2^31 (or NaN) converts to INT_MIN there,
// so it clamps to lo.
inline float RoundClamped(float v, float lo, float hi) {
  float c = v > lo ? v : lo;
  c = c < hi ? c : hi;
  return RoundSmall(v < 2147483648.0f ? c : lo);
}

// The quants of one group as clamp(round((x + ml) / dl), 0, nmax), dl != 0.
inline void QuantizeWithScaleMin(const float* x, int n, float dl, float ml, int nmax, uint8_t* L) {
  const float top = static_cast<float>(nmax);
  for (int l = 0; l < n; ++l) L[l] = static_cast<uint8_t>(static_cast<int>(RoundClamped((x[l] + ml) / dl, 0.0f, top)));
}

// The quants of one group as clamp(round(x / dl), -nmax, nmax - 1) + nmax, dl != 0.
inline void QuantizeWithScale(const float* x, int n, float dl, int nmax, uint8_t* L) {
  const float lo = static_cast<float>(-nmax), hi = static_cast<float>(nmax - 1);
  for (int l = 0; l < n; ++l)
    L[l] = static_cast<uint8_t>(static_cast<int>(RoundClamped(x[l] / dl, lo, hi)) + nmax);
}

// Two-bit quants, four per byte: byte l of each 32-byte half h holds elements 128 h + l + 32 k
// at bits 2 k.
inline void PackTwoBitQuants(const uint8_t L[kQK_K], uint8_t qs[kQK_K / 4]) {
  for (int h = 0; h < 2; ++h) {
    for (int l = 0; l < 32; ++l) {
      const uint8_t* s = L + 128 * h + l;
      qs[32 * h + l] = static_cast<uint8_t>(s[0] | (s[32] << 2) | (s[64] << 4) | (s[96] << 6));
    }
  }
}

// Q3_K quants in [0, 7]: the high bit of element j into bit j / 32 of hmask[j % 32], the low two
// bits as PackTwoBitQuants.
inline void PackQ3KQuants(uint8_t L[kQK_K], BlockQ3_K* y) {
  std::memset(y->hmask, 0, sizeof(y->hmask));
  for (int k = 0; k < 8; ++k) {
    for (int l = 0; l < 32; ++l) {
      y->hmask[l] = static_cast<uint8_t>(y->hmask[l] | ((L[32 * k + l] >> 2) << k));
      L[32 * k + l] &= 3;
    }
  }
  PackTwoBitQuants(L, y->qs);
}

inline void PackQ4KQuants(const uint8_t L[kQK_K], BlockQ4_K* y) {
  for (int k = 0; k < 4; ++k) {
    for (int l = 0; l < 32; ++l)
      y->qs[32 * k + l] = static_cast<uint8_t>(L[64 * k + l] | (L[64 * k + 32 + l] << 4));
  }
}

inline void PackQ5KQuants(const uint8_t L[kQK_K], BlockQ5_K* y) {
  std::memset(y->qh, 0, sizeof(y->qh));
  for (int k = 0; k < 4; ++k) {
    for (int l = 0; l < 32; ++l) {
      const int lo = L[64 * k + l], hi = L[64 * k + 32 + l];
      y->qs[32 * k + l] = static_cast<uint8_t>((lo & 0xf) | ((hi & 0xf) << 4));
      y->qh[l] |= static_cast<uint8_t>(((lo >> 4) << (2 * k)) | ((hi >> 4) << (2 * k + 1)));
    }
  }
}

inline void PackQ6KQuants(const uint8_t L[kQK_K], BlockQ6_K* y) {
  for (int h = 0; h < 2; ++h) {
    for (int l = 0; l < 32; ++l) {
      const uint8_t* s = L + 128 * h + l;
      y->ql[64 * h + l] = static_cast<uint8_t>((s[0] & 0xf) | ((s[64] & 0xf) << 4));
      y->ql[64 * h + l + 32] = static_cast<uint8_t>((s[32] & 0xf) | ((s[96] & 0xf) << 4));
      y->qh[32 * h + l] = static_cast<uint8_t>((s[0] >> 4) | ((s[32] >> 4) << 2) | ((s[64] >> 4) << 4) |
                                               ((s[96] >> 4) << 6));
    }
  }
}

// Q3_K quants for the scales as stored in y (4 where a group's scale is zero), packed.
inline void RequantizeQ3K(const float* x, BlockQ3_K* y) {
  int8_t sc[16];
  UnpackQ3KScales(y->scales, sc);
  uint8_t L[kQK_K];
  for (int g = 0; g < 16; ++g) {
    const float dl = F16ToF32(y->d) * static_cast<float>(sc[g]);
    if (dl == 0.0f) {
      std::fill(L + 16 * g, L + 16 * g + 16, static_cast<uint8_t>(4));
    } else {
      QuantizeWithScale(x + 16 * g, 16, dl, 4, L + 16 * g);
    }
  }
  PackQ3KQuants(L, y);
}

// Q6_K scales from the 16 group scales (a zero block when all are below 1e-15 in magnitude),
// then the quants for the scales as stored, packed.
inline void FinishQ6K(const float* x, const float scales[16], BlockQ6_K* y) {
  const float max_scale = FirstSignedAbsMax(scales, 16);
  std::memset(y, 0, sizeof(*y));
  uint8_t L[kQK_K];
  std::fill(L, L + kQK_K, 32);
  if (std::fabs(max_scale) >= 1e-15f) {
    const float iscale = -128.0f / max_scale;
    y->d = F32ToF16(1.0f / iscale);
    for (int g = 0; g < 16; ++g)
      y->scales[g] = static_cast<int8_t>(std::min(127, RoundToNearest(iscale * scales[g])));
    for (int g = 0; g < 16; ++g) {
      const float dl = F16ToF32(y->d) * static_cast<float>(y->scales[g]);
      if (dl == 0.0f) continue;
      QuantizeWithScale(x + 16 * g, 16, dl, 32, L + 16 * g);
    }
  }
  PackQ6KQuants(L, y);
}

// Q4_K / Q5_K: stores the quantized group scales and mins (6 bits each) and requantizes every
// group with them; groups whose scale is stored as zero keep their quants.
template <class Block>
void StoreK4ScalesAndRequantize(const float* x, float d, float dmin, const uint8_t qs[8], const uint8_t qm[8],
                                int nmax, Block* y, uint8_t L[kQK_K]) {
  y->d = F32ToF16(d);
  y->dmin = F32ToF16(dmin);
  PackK4ScaleMin(qs, qm, y->scales);
  const float sd = F16ToF32(y->d), smin = F16ToF32(y->dmin);
  for (int g = 0; g < 8; ++g) {
    const float dl = sd * static_cast<float>(qs[g]);
    if (dl == 0.0f) continue;
    QuantizeWithScaleMin(x + 32 * g, 32, dl, smin * static_cast<float>(qm[g]), nmax, L + 32 * g);
  }
}

// Shared by Q4_K and Q5_K: 8 groups of 32 with 6-bit scales and mins; returns the quants.
template <class Block>
void QuantizeK4Groups(const float* x, Block* y, int nmax, uint8_t L[kQK_K]) {
  float scales[8], mins[8];
  for (int g = 0; g < 8; ++g) scales[g] = FitScaleMin(x + 32 * g, 32, nmax, L + 32 * g, &mins[g]);
  uint8_t qs[8], qm[8];
  const float d = QuantizeGroupValues(scales, 8, 63, qs);
  const float dmin = QuantizeGroupValues(mins, 8, 63, qm);
  StoreK4ScalesAndRequantize(x, d, dmin, qs, qm, nmax, y, L);
}

// ---- importance-weighted blocks ----
//
// Element weights are importance * sqrt(σ² + x²) (Q6_K: the importance alone), σ² the block's
// mean square (twice it for Q3_K, Q4_K and Q5_K). Group scales (and mins) come from the weighted
// searches of ref_weighted_fit.h; they are quantized against the super-block scale by a weighted
// search too, each group weighing as the sum of its element weights.

inline void QuantizeBlockQ2_KWeighted(const float* x, const float* importance, BlockQ2_K* y) {
  const float sigma2 = SumOfSquares(x, kQK_K) / kQK_K;
  uint8_t L[kQK_K];
  float scales[16], mins[16], group_weight[16], w[16];
  for (int g = 0; g < 16; ++g) {
    ImportanceWeights(x + 16 * g, importance + 16 * g, 16, sigma2, w);
    group_weight[g] = Sum(w, 16);
    scales[g] = WeightedFitScaleMin(x + 16 * g, w, 16, 3, L + 16 * g, &mins[g]);
  }
  uint8_t qs[16], qm[16];
  y->d = F32ToF16(WeightedFitPositive(scales, group_weight, 16, 15, qs));
  y->dmin = F32ToF16(WeightedFitPositive(mins, group_weight, 16, 15, qm));
  const float d = F16ToF32(y->d), dmin = F16ToF32(y->dmin);
  for (int g = 0; g < 16; ++g) {
    y->scales[g] = static_cast<uint8_t>(qs[g] | (qm[g] << 4));
    const float dl = d * static_cast<float>(qs[g]);
    if (dl == 0.0f) continue;
    QuantizeWithScaleMin(x + 16 * g, 16, dl, dmin * static_cast<float>(qm[g]), 3, L + 16 * g);
  }
  PackTwoBitQuants(L, y->qs);
}

inline void QuantizeBlockQ3_KWeighted(const float* x, const float* importance, BlockQ3_K* y) {
  const float sigma2 = 2.0f * SumOfSquares(x, kQK_K) / kQK_K;
  float scales[16], group_weight[16], w[16];
  uint8_t L[16];
  for (int g = 0; g < 16; ++g) {
    ImportanceWeights(x + 16 * g, importance + 16 * g, 16, sigma2, w);
    group_weight[g] = Sum(w, 16);
    scales[g] = WeightedFitSymmetric(x + 16 * g, w, 16, 4, L);
  }
  uint8_t qs[16];
  const float d = WeightedFitSymmetric(scales, group_weight, 16, 32, qs);
  int ls[16];
  for (int g = 0; g < 16; ++g) ls[g] = qs[g];
  PackQ3KScales(ls, y->scales);
  y->d = F32ToF16(d);
  RequantizeQ3K(x, y);
}

template <class Block>
void QuantizeBlockK4Weighted(const float* x, const float* importance, int nmax, Block* y, uint8_t L[kQK_K]) {
  const float sigma2 = 2.0f * SumOfSquares(x, kQK_K) / kQK_K;
  float scales[8], mins[8], group_weight[8], w[32];
  for (int g = 0; g < 8; ++g) {
    ImportanceWeights(x + 32 * g, importance + 32 * g, 32, sigma2, w);
    group_weight[g] = Sum(w, 32);
    scales[g] = WeightedFitScaleMin(x + 32 * g, w, 32, nmax, L + 32 * g, &mins[g]);
  }
  uint8_t qs[8], qm[8];
  const float d = WeightedFitPositive(scales, group_weight, 8, 63, qs);
  const float dmin = WeightedFitPositive(mins, group_weight, 8, 63, qm);
  StoreK4ScalesAndRequantize(x, d, dmin, qs, qm, nmax, y, L);
}

inline void QuantizeBlockQ6_KWeighted(const float* x, const float* importance, BlockQ6_K* y) {
  float scales[16];
  uint8_t L[16];
  for (int g = 0; g < 16; ++g) scales[g] = WeightedFitSymmetric(x + 16 * g, importance + 16 * g, 16, 32, L);
  FinishQ6K(x, scales, y);
}

}  // namespace internal

// `importance`: null, or n per-column weights for an importance-weighted search.

inline void QuantizeRowQ2_K(const float* x, BlockQ2_K* y, int64_t n, const float* importance = nullptr) {
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    if (importance != nullptr) {
      internal::QuantizeBlockQ2_KWeighted(x, importance + i * kQK_K, &y[i]);
      continue;
    }
    uint8_t L[kQK_K];
    float scales[16], mins[16];
    for (int g = 0; g < 16; ++g)
      scales[g] = internal::FitScaleMin(x + 16 * g, 16, 3, L + 16 * g, &mins[g]);
    uint8_t qs[16], qm[16];
    y[i].d = F32ToF16(internal::QuantizeGroupValues(scales, 16, 15, qs));
    y[i].dmin = F32ToF16(internal::QuantizeGroupValues(mins, 16, 15, qm));
    const float d = F16ToF32(y[i].d), dmin = F16ToF32(y[i].dmin);
    for (int g = 0; g < 16; ++g) {
      y[i].scales[g] = static_cast<uint8_t>(qs[g] | (qm[g] << 4));
      const float dl = d * static_cast<float>(qs[g]);
      if (dl == 0.0f) continue;
      internal::QuantizeWithScaleMin(x + 16 * g, 16, dl, dmin * static_cast<float>(qm[g]), 3, L + 16 * g);
    }
    internal::PackTwoBitQuants(L, y[i].qs);
  }
}

inline void QuantizeRowQ3_K(const float* x, BlockQ3_K* y, int64_t n, const float* importance = nullptr) {
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    if (importance != nullptr) {
      internal::QuantizeBlockQ3_KWeighted(x, importance + i * kQK_K, &y[i]);
      continue;
    }
    float scales[16];
    for (int g = 0; g < 16; ++g) scales[g] = internal::FitScale(x + 16 * g, 16, 4);
    const float max_scale = internal::FirstSignedAbsMax(scales, 16);
    int ls[16] = {};
    if (max_scale != 0.0f) {
      const float iscale = -32.0f / max_scale;
      for (int g = 0; g < 16; ++g) ls[g] = std::clamp(RoundToNearest(iscale * scales[g]), -32, 31) + 32;
      y[i].d = F32ToF16(1.0f / iscale);
    } else {
      for (int g = 0; g < 16; ++g) ls[g] = 32;
      y[i].d = F32ToF16(0.0f);
    }
    PackQ3KScales(ls, y[i].scales);
    internal::RequantizeQ3K(x, &y[i]);
  }
}

inline void QuantizeRowQ4_K(const float* x, BlockQ4_K* y, int64_t n, const float* importance = nullptr) {
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    uint8_t L[kQK_K];
    if (importance != nullptr) {
      internal::QuantizeBlockK4Weighted(x, importance + i * kQK_K, 15, &y[i], L);
    } else {
      internal::QuantizeK4Groups(x, &y[i], 15, L);
    }
    internal::PackQ4KQuants(L, &y[i]);
  }
}

inline void QuantizeRowQ5_K(const float* x, BlockQ5_K* y, int64_t n, const float* importance = nullptr) {
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    uint8_t L[kQK_K];
    if (importance != nullptr) {
      internal::QuantizeBlockK4Weighted(x, importance + i * kQK_K, 31, &y[i], L);
    } else {
      internal::QuantizeK4Groups(x, &y[i], 31, L);
    }
    internal::PackQ5KQuants(L, &y[i]);
  }
}

inline void QuantizeRowQ6_K(const float* x, BlockQ6_K* y, int64_t n, const float* importance = nullptr) {
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    if (importance != nullptr) {
      internal::QuantizeBlockQ6_KWeighted(x, importance + i * kQK_K, &y[i]);
      continue;
    }
    float scales[16];
    for (int g = 0; g < 16; ++g) scales[g] = internal::FitScale(x + 16 * g, 16, 32);
    internal::FinishQ6K(x, scales, &y[i]);
  }
}

}  // namespace r1::quant::ref
