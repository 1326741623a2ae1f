// r1/quant/ref_kquants_quantize.h — reference quantizers from f32 into the K weight types.
//
// These make valid blocks with small round-trip error (for tests and tools); they are not
// bit-exact with llama-quantize, whose searches are more elaborate. Each group of 16 or 32
// values gets a scale (and, for Q2_K/Q4_K/Q5_K, a non-negative min subtracted from it) found by
// trying a range of candidate step sizes and refitting by least squares; the group scales are
// then quantized against a per-super-block f16 scale and the quants recomputed with the
// scales as stored.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "r1/quant/ref_common.h"

namespace r1::quant::ref {
namespace internal {

// Fits x ~ scale * L - min with L in [0, nmax] and min >= 0 (ggml's convention: mins are
// subtracted and never negative). Returns the scale, writes L and min.
inline float FitScaleMin(const float* x, int n, int nmax, uint8_t* L, float* the_min) {
  float lo = x[0], hi = x[0];
  for (int i = 1; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  lo = std::min(lo, 0.0f);
  if (hi <= lo) {
    std::fill(L, L + n, 0);
    *the_min = -lo;
    return 0.0f;
  }
  uint8_t cand[32];
  float best_err = INFINITY, best_scale = 0.0f, best_min = lo;
  for (int step = -10; step <= 10; ++step) {
    const float iscale = (static_cast<float>(nmax) + 0.1f * static_cast<float>(step)) / (hi - lo);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0, sum_x = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::clamp(NearestInt(iscale * (x[i] - lo)), 0, nmax);
      cand[i] = static_cast<uint8_t>(l);
      sum_l += static_cast<float>(l);
      sum_l2 += static_cast<float>(l * l);
      sum_xl += static_cast<float>(l) * x[i];
      sum_x += x[i];
    }
    // Least squares for x ~ scale * l + offset, with offset <= 0.
    const float det = static_cast<float>(n) * sum_l2 - sum_l * sum_l;
    if (!(det > 0)) continue;
    float scale = (static_cast<float>(n) * sum_xl - sum_x * sum_l) / det;
    float offset = (sum_l2 * sum_x - sum_l * sum_xl) / det;
    if (offset > 0) {
      offset = 0;
      scale = sum_xl / sum_l2;
    }
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

// Fits x ~ scale * L with L in [-nmax, nmax - 1]; returns the (signed) scale.
inline float FitScale(const float* x, int n, int nmax) {
  const float max = SignedAbsMax(x, n);
  if (std::fabs(max) < 1e-15f) return 0.0f;
  float best_err = INFINITY, best_scale = 0.0f;
  for (int step = -9; step <= 9; ++step) {
    const float iscale = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(step)) / max;
    float sum_xl = 0, sum_l2 = 0;
    int l[32];
    for (int i = 0; i < n; ++i) {
      l[i] = std::clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1);
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

// Quantizes group scales/mins (all >= 0) to [0, qmax] against one super-block step.
inline float QuantizeGroupValues(const float* v, int n, int qmax, uint8_t* out) {
  const float max = *std::max_element(v, v + n);
  if (!(max > 0)) {
    std::fill(out, out + n, 0);
    return 0.0f;
  }
  const float inv = static_cast<float>(qmax) / max;
  for (int j = 0; j < n; ++j)
    out[j] = static_cast<uint8_t>(std::clamp(NearestInt(inv * v[j]), 0, qmax));
  return max / static_cast<float>(qmax);
}

}  // namespace internal

inline void QuantizeRowQ2_K(const float* x, BlockQ2_K* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
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
      const float ml = dmin * static_cast<float>(qm[g]);
      for (int l = 0; l < 16; ++l)
        L[16 * g + l] =
            static_cast<uint8_t>(std::clamp(NearestInt((x[16 * g + l] + ml) / dl), 0, 3));
    }
    for (int h = 0; h < 2; ++h) {
      for (int l = 0; l < 32; ++l) {
        const uint8_t* s = L + 128 * h + l;
        y[i].qs[32 * h + l] =
            static_cast<uint8_t>(s[0] | (s[32] << 2) | (s[64] << 4) | (s[96] << 6));
      }
    }
  }
}

inline void QuantizeRowQ3_K(const float* x, BlockQ3_K* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    float scales[16];
    for (int g = 0; g < 16; ++g) scales[g] = internal::FitScale(x + 16 * g, 16, 4);
    const float max_scale = internal::SignedAbsMax(scales, 16);
    int ls[16] = {};
    if (max_scale != 0.0f) {
      const float iscale = -32.0f / max_scale;
      for (int g = 0; g < 16; ++g) ls[g] = std::clamp(NearestInt(iscale * scales[g]), -32, 31) + 32;
      y[i].d = F32ToF16(1.0f / iscale);
    } else {
      for (int g = 0; g < 16; ++g) ls[g] = 32;
      y[i].d = F32ToF16(0.0f);
    }
    PackQ3KScales(ls, y[i].scales);
    int8_t sc[16];
    UnpackQ3KScales(y[i].scales, sc);
    uint8_t L[kQK_K];
    for (int g = 0; g < 16; ++g) {
      const float dl = F16ToF32(y[i].d) * static_cast<float>(sc[g]);
      for (int l = 0; l < 16; ++l) {
        L[16 * g + l] =
            dl == 0.0f
                ? 4
                : static_cast<uint8_t>(std::clamp(NearestInt(x[16 * g + l] / dl), -4, 3) + 4);
      }
    }
    std::memset(y[i].hmask, 0, sizeof(y[i].hmask));
    for (int j = 0; j < kQK_K; ++j) {
      if (L[j] > 3) {
        y[i].hmask[j % 32] |= static_cast<uint8_t>(1u << (j / 32));
        L[j] -= 4;
      }
    }
    for (int h = 0; h < 2; ++h) {
      for (int l = 0; l < 32; ++l) {
        const uint8_t* s = L + 128 * h + l;
        y[i].qs[32 * h + l] =
            static_cast<uint8_t>(s[0] | (s[32] << 2) | (s[64] << 4) | (s[96] << 6));
      }
    }
  }
}

namespace internal {
// Shared by Q4_K and Q5_K: 8 groups of 32 with 6-bit scales and mins; returns the quants.
template <class Block>
void QuantizeK4Groups(const float* x, Block* y, int nmax, uint8_t L[kQK_K]) {
  float scales[8], mins[8];
  for (int g = 0; g < 8; ++g) scales[g] = FitScaleMin(x + 32 * g, 32, nmax, L + 32 * g, &mins[g]);
  uint8_t qs[8], qm[8];
  y->d = F32ToF16(QuantizeGroupValues(scales, 8, 63, qs));
  y->dmin = F32ToF16(QuantizeGroupValues(mins, 8, 63, qm));
  PackK4ScaleMin(qs, qm, y->scales);
  const float d = F16ToF32(y->d), dmin = F16ToF32(y->dmin);
  for (int g = 0; g < 8; ++g) {
    const float dl = d * static_cast<float>(qs[g]);
    if (dl == 0.0f) continue;
    const float ml = dmin * static_cast<float>(qm[g]);
    for (int l = 0; l < 32; ++l)
      L[32 * g + l] =
          static_cast<uint8_t>(std::clamp(NearestInt((x[32 * g + l] + ml) / dl), 0, nmax));
  }
}
}  // namespace internal

inline void QuantizeRowQ4_K(const float* x, BlockQ4_K* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    uint8_t L[kQK_K];
    internal::QuantizeK4Groups(x, &y[i], 15, L);
    for (int k = 0; k < 4; ++k) {
      for (int l = 0; l < 32; ++l)
        y[i].qs[32 * k + l] = static_cast<uint8_t>(L[64 * k + l] | (L[64 * k + 32 + l] << 4));
    }
  }
}

inline void QuantizeRowQ5_K(const float* x, BlockQ5_K* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    uint8_t L[kQK_K];
    internal::QuantizeK4Groups(x, &y[i], 31, L);
    std::memset(y[i].qh, 0, sizeof(y[i].qh));
    for (int k = 0; k < 4; ++k) {
      for (int l = 0; l < 32; ++l) {
        const int lo = L[64 * k + l], hi = L[64 * k + 32 + l];
        y[i].qs[32 * k + l] = static_cast<uint8_t>((lo & 0xf) | ((hi & 0xf) << 4));
        y[i].qh[l] |= static_cast<uint8_t>(((lo >> 4) << (2 * k)) | ((hi >> 4) << (2 * k + 1)));
      }
    }
  }
}

inline void QuantizeRowQ6_K(const float* x, BlockQ6_K* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    float scales[16];
    for (int g = 0; g < 16; ++g) scales[g] = internal::FitScale(x + 16 * g, 16, 32);
    const float max_scale = internal::SignedAbsMax(scales, 16);
    std::memset(&y[i], 0, sizeof(y[i]));
    uint8_t L[kQK_K];
    std::fill(L, L + kQK_K, 32);
    if (std::fabs(max_scale) >= 1e-15f) {
      const float iscale = -128.0f / max_scale;
      y[i].d = F32ToF16(1.0f / iscale);
      for (int g = 0; g < 16; ++g)
        y[i].scales[g] = static_cast<int8_t>(std::min(127, NearestInt(iscale * scales[g])));
      for (int g = 0; g < 16; ++g) {
        const float dl = F16ToF32(y[i].d) * static_cast<float>(y[i].scales[g]);
        if (dl == 0.0f) continue;
        for (int l = 0; l < 16; ++l)
          L[16 * g + l] =
              static_cast<uint8_t>(std::clamp(NearestInt(x[16 * g + l] / dl), -32, 31) + 32);
      }
    }
    for (int h = 0; h < 2; ++h) {
      for (int l = 0; l < 32; ++l) {
        const uint8_t* s = L + 128 * h + l;
        y[i].ql[64 * h + l] = static_cast<uint8_t>((s[0] & 0xf) | ((s[64] & 0xf) << 4));
        y[i].ql[64 * h + l + 32] = static_cast<uint8_t>((s[32] & 0xf) | ((s[96] & 0xf) << 4));
        y[i].qh[32 * h + l] = static_cast<uint8_t>((s[0] >> 4) | ((s[32] >> 4) << 2) |
                                                   ((s[64] >> 4) << 4) | ((s[96] >> 4) << 6));
      }
    }
  }
}

}  // namespace r1::quant::ref
