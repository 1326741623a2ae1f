// r1/quant/ref_legacy.h — scalar reference for the 32-element block types Q4_0 … Q8_1.
//
// DequantizeRow* and the activation quantizers QuantizeRowQ8_0 / QuantizeRowQ8_1 produce
// exactly what ggml's dequantize_row_* / quantize_row_q8_{0,1}_ref produce. The weight
// quantizers follow ggml's *_ref rounding, or with an importance vector ggml's weighted search.
// VecDot* sum integer products per block and scale once per block, as ggml's scalar
// ggml_vec_dot_* do. `n` is the element count, a multiple of 32.
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

// ---- dequantization ----

inline void DequantizeRowQ4_0(const BlockQ4_0* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = F16ToF32(x[i].d);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = static_cast<float>((x[i].qs[j] & 0xf) - 8) * d;
      y[j + kQK / 2] = static_cast<float>((x[i].qs[j] >> 4) - 8) * d;
    }
  }
}

inline void DequantizeRowQ4_1(const BlockQ4_1* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = F16ToF32(x[i].d);
    const float m = F16ToF32(x[i].m);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = Mul(static_cast<float>(x[i].qs[j] & 0xf), d) + m;
      y[j + kQK / 2] = Mul(static_cast<float>(x[i].qs[j] >> 4), d) + m;
    }
  }
}

inline void DequantizeRowQ5_0(const BlockQ5_0* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = F16ToF32(x[i].d);
    const uint32_t qh = LoadU32(x[i].qh);
    for (int j = 0; j < kQK / 2; ++j) {
      const int h0 = ((qh >> j) & 1) << 4;
      const int h1 = ((qh >> (j + 16)) & 1) << 4;
      y[j] = static_cast<float>(((x[i].qs[j] & 0xf) | h0) - 16) * d;
      y[j + kQK / 2] = static_cast<float>(((x[i].qs[j] >> 4) | h1) - 16) * d;
    }
  }
}

inline void DequantizeRowQ5_1(const BlockQ5_1* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = F16ToF32(x[i].d);
    const float m = F16ToF32(x[i].m);
    const uint32_t qh = LoadU32(x[i].qh);
    for (int j = 0; j < kQK / 2; ++j) {
      const int h0 = ((qh >> j) & 1) << 4;
      const int h1 = ((qh >> (j + 16)) & 1) << 4;
      y[j] = Mul(static_cast<float>((x[i].qs[j] & 0xf) | h0), d) + m;
      y[j + kQK / 2] = Mul(static_cast<float>((x[i].qs[j] >> 4) | h1), d) + m;
    }
  }
}

inline void DequantizeRowQ8_0(const BlockQ8_0* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = F16ToF32(x[i].d);
    for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(x[i].qs[j]) * d;
  }
}

inline void DequantizeRowQ8_1(const BlockQ8_1* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = F16ToF32(x[i].d);
    for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(x[i].qs[j]) * d;
  }
}

// ---- activation quantizers (bit-exact with ggml's quantize_row_q8_0_ref / _q8_1_ref) ----

inline float AbsMax(const float* x, int n) {
  float amax = 0.0f;
  for (int j = 0; j < n; ++j) amax = amax > std::fabs(x[j]) ? amax : std::fabs(x[j]);
  return amax;
}

inline void QuantizeRowQ8_0(const float* x, BlockQ8_0* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    const float d = AbsMax(x, kQK) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = F32ToF16(d);
    for (int j = 0; j < kQK; ++j) y[i].qs[j] = static_cast<int8_t>(std::round(x[j] * id));
  }
}

inline void QuantizeRowQ8_1(const float* x, BlockQ8_1* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    const float d = AbsMax(x, kQK) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = F32ToF16(d);
    int sum = 0;
    for (int j = 0; j < kQK; ++j) {
      y[i].qs[j] = static_cast<int8_t>(std::round(x[j] * id));
      sum += y[i].qs[j];
    }
    y[i].s = F32ToF16(static_cast<float>(sum) * d);
  }
}

// ---- weight quantizers (ggml's *_ref rounding; not used at run time) ----

namespace internal {
// clamp(floor((x - sub) * id + offset), 0, hi) for the values of one block (ggml's references
// truncate `x * id + offset`), without branches: clamping in float before truncating gives the
// same quants, and a value at or above 2^31 (or NaN) clamps to 0 as its conversion to int,
// INT_MIN on x86-64, does.
inline void FloorClampedBlock(const float* x, float sub, float id, float offset, int hi, uint8_t L[kQK]) {
  const float top = static_cast<float>(hi);
  for (int j = 0; j < kQK; ++j) {
    const float v = (x[j] - sub) * id + offset;
    float c = v > 0.0f ? v : 0.0f;
    c = c < top ? c : top;
    c = v < 2147483648.0f ? c : 0.0f;
    L[j] = static_cast<uint8_t>(static_cast<int>(c));
  }
}

inline void PackNibbles(const uint8_t L[kQK], uint8_t qs[kQK / 2]) {
  for (int j = 0; j < kQK / 2; ++j) qs[j] = static_cast<uint8_t>(L[j] | (L[j + kQK / 2] << 4));
}
}  // namespace internal

// ---- importance-weighted blocks (ggml's quantize_row_q*_impl searches) ----
//
// Element weights are importance * sqrt(σ² + x²), σ² the mean square of the whole row. Q4_0 and
// Q5_0 fit a signed scale, Q4_1 and Q5_1 a scale and a min, by the searches of
// ref_weighted_fit.h; the quants are those of the search (not recomputed from the f16 scale).

namespace internal {
inline float MeanSquare(const float* x, int64_t n) { return SumOfSquares(x, n) / static_cast<float>(n); }

inline void QuantizeBlockQ4_0Weighted(const float* x, const float* importance, float sigma2, BlockQ4_0* y) {
  float w[kQK];
  uint8_t L[kQK];
  ImportanceWeights(x, importance, kQK, sigma2, w);
  y->d = F32ToF16(WeightedFitSymmetric(x, w, kQK, 8, L));
  PackNibbles(L, y->qs);
}

inline void QuantizeBlockQ4_1Weighted(const float* x, const float* importance, float sigma2, BlockQ4_1* y) {
  float w[kQK], min;
  uint8_t L[kQK];
  ImportanceWeights(x, importance, kQK, sigma2, w);
  y->d = F32ToF16(WeightedFitScaleMin(x, w, kQK, 15, L, &min));
  y->m = F32ToF16(-min);
  PackNibbles(L, y->qs);
}

// Five-bit quants: low nibbles as Q4, the fifth bit of element j in bit j of qh.
inline void PackFiveBitQuants(const uint8_t L[kQK], uint8_t qs[kQK / 2], uint8_t qh_bytes[4]) {
  uint32_t qh = 0;
  for (int j = 0; j < kQK / 2; ++j) {
    qs[j] = static_cast<uint8_t>((L[j] & 0xf) | ((L[j + kQK / 2] & 0xf) << 4));
    qh |= static_cast<uint32_t>(L[j] >> 4) << j;
    qh |= static_cast<uint32_t>(L[j + kQK / 2] >> 4) << (j + kQK / 2);
  }
  std::memcpy(qh_bytes, &qh, sizeof(qh));
}

inline void QuantizeBlockQ5_0Weighted(const float* x, const float* importance, float sigma2, BlockQ5_0* y) {
  float w[kQK];
  uint8_t L[kQK];
  ImportanceWeights(x, importance, kQK, sigma2, w);
  y->d = F32ToF16(WeightedFitSymmetric(x, w, kQK, 16, L));
  PackFiveBitQuants(L, y->qs, y->qh);
}

inline void QuantizeBlockQ5_1Weighted(const float* x, const float* importance, float sigma2, BlockQ5_1* y) {
  float w[kQK], min;
  uint8_t L[kQK];
  ImportanceWeights(x, importance, kQK, sigma2, w);
  y->d = F32ToF16(WeightedFitScaleMin(x, w, kQK, 31, L, &min));
  y->m = F32ToF16(-min);
  PackFiveBitQuants(L, y->qs, y->qh);
}

// Runs quantize_block(x, importance, σ², block) over the row's blocks.
template <class Block, class QuantizeBlock>
void QuantizeRowWeighted(const float* x, const float* importance, Block* y, int64_t n, QuantizeBlock quantize_block) {
  const float sigma2 = MeanSquare(x, n);
  for (int64_t i = 0; i < n / kQK; ++i) quantize_block(x + i * kQK, importance + i * kQK, sigma2, &y[i]);
}
}  // namespace internal

// `importance`: null (ggml's *_ref rounding), or n per-column weights for the weighted search.

inline void QuantizeRowQ4_0(const float* x, BlockQ4_0* y, int64_t n, const float* importance = nullptr) {
  if (importance != nullptr) {
    return internal::QuantizeRowWeighted(x, importance, y, n, internal::QuantizeBlockQ4_0Weighted);
  }
  uint8_t L[kQK];
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    const float d = internal::FirstSignedAbsMax(x, kQK) / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = F32ToF16(d);
    internal::FloorClampedBlock(x, 0.0f, id, 8.5f, 15, L);
    internal::PackNibbles(L, y[i].qs);
  }
}

inline void QuantizeRowQ4_1(const float* x, BlockQ4_1* y, int64_t n, const float* importance = nullptr) {
  if (importance != nullptr) {
    return internal::QuantizeRowWeighted(x, importance, y, n, internal::QuantizeBlockQ4_1Weighted);
  }
  uint8_t L[kQK];
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    float min, max;
    internal::FirstMinMax(x, kQK, &min, &max);
    const float d = (max - min) / 15.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = F32ToF16(d);
    y[i].m = F32ToF16(min);
    internal::FloorClampedBlock(x, min, id, 0.5f, 15, L);
    internal::PackNibbles(L, y[i].qs);
  }
}

inline void QuantizeRowQ5_0(const float* x, BlockQ5_0* y, int64_t n, const float* importance = nullptr) {
  if (importance != nullptr) {
    return internal::QuantizeRowWeighted(x, importance, y, n, internal::QuantizeBlockQ5_0Weighted);
  }
  uint8_t L[kQK];
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    const float d = internal::FirstSignedAbsMax(x, kQK) / -16.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = F32ToF16(d);
    internal::FloorClampedBlock(x, 0.0f, id, 16.5f, 31, L);
    internal::PackFiveBitQuants(L, y[i].qs, y[i].qh);
  }
}

inline void QuantizeRowQ5_1(const float* x, BlockQ5_1* y, int64_t n, const float* importance = nullptr) {
  if (importance != nullptr) {
    return internal::QuantizeRowWeighted(x, importance, y, n, internal::QuantizeBlockQ5_1Weighted);
  }
  uint8_t L[kQK];
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    float min, max;
    internal::FirstMinMax(x, kQK, &min, &max);
    const float d = (max - min) / 31.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = F32ToF16(d);
    y[i].m = F32ToF16(min);
    internal::FloorClampedBlock(x, min, id, 0.5f, 31, L);
    internal::PackFiveBitQuants(L, y[i].qs, y[i].qh);
  }
}

// ---- dot products ----

namespace internal {
// The quants of one block in element order.
inline void DecodeNibbles(const uint8_t qs[kQK / 2], int offset, int8_t q[kQK]) {
  for (int j = 0; j < kQK / 2; ++j) {
    q[j] = static_cast<int8_t>((qs[j] & 0xf) - offset);
    q[j + kQK / 2] = static_cast<int8_t>((qs[j] >> 4) - offset);
  }
}
inline void DecodeFiveBits(const uint8_t qs[kQK / 2], const uint8_t qh_bytes[4], int offset,
                           int8_t q[kQK]) {
  const uint32_t qh = LoadU32(qh_bytes);
  for (int j = 0; j < kQK / 2; ++j) {
    q[j] = static_cast<int8_t>(((qs[j] & 0xf) | (((qh >> j) & 1) << 4)) - offset);
    q[j + kQK / 2] = static_cast<int8_t>(((qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - offset);
  }
}
inline int BlockDot(const int8_t* a, const int8_t* b) {
  int s = 0;
  for (int j = 0; j < kQK; ++j) s += a[j] * b[j];
  return s;
}
}  // namespace internal

inline float VecDotQ4_0Q8_0(int64_t n, const BlockQ4_0* x, const BlockQ8_0* y) {
  float sumf = 0.0f;
  int8_t q[kQK];
  for (int64_t i = 0; i < n / kQK; ++i) {
    internal::DecodeNibbles(x[i].qs, 8, q);
    const int sumi = internal::BlockDot(q, y[i].qs);
    sumf += static_cast<float>(sumi) * F16ToF32(x[i].d) * F16ToF32(y[i].d);
  }
  return sumf;
}

inline float VecDotQ4_1Q8_1(int64_t n, const BlockQ4_1* x, const BlockQ8_1* y) {
  float sumf = 0.0f;
  int8_t q[kQK];
  for (int64_t i = 0; i < n / kQK; ++i) {
    internal::DecodeNibbles(x[i].qs, 0, q);
    const int sumi = internal::BlockDot(q, y[i].qs);
    sumf += (F16ToF32(x[i].d) * F16ToF32(y[i].d)) * static_cast<float>(sumi) +
            F16ToF32(x[i].m) * F16ToF32(y[i].s);
  }
  return sumf;
}

inline float VecDotQ5_0Q8_0(int64_t n, const BlockQ5_0* x, const BlockQ8_0* y) {
  float sumf = 0.0f;
  int8_t q[kQK];
  for (int64_t i = 0; i < n / kQK; ++i) {
    internal::DecodeFiveBits(x[i].qs, x[i].qh, 16, q);
    const int sumi = internal::BlockDot(q, y[i].qs);
    sumf += (F16ToF32(x[i].d) * F16ToF32(y[i].d)) * static_cast<float>(sumi);
  }
  return sumf;
}

inline float VecDotQ5_1Q8_1(int64_t n, const BlockQ5_1* x, const BlockQ8_1* y) {
  float sumf = 0.0f;
  int8_t q[kQK];
  for (int64_t i = 0; i < n / kQK; ++i) {
    internal::DecodeFiveBits(x[i].qs, x[i].qh, 0, q);
    const int sumi = internal::BlockDot(q, y[i].qs);
    sumf += (F16ToF32(x[i].d) * F16ToF32(y[i].d)) * static_cast<float>(sumi) +
            F16ToF32(x[i].m) * F16ToF32(y[i].s);
  }
  return sumf;
}

inline float VecDotQ8_0Q8_0(int64_t n, const BlockQ8_0* x, const BlockQ8_0* y) {
  float sumf = 0.0f;
  for (int64_t i = 0; i < n / kQK; ++i) {
    const int sumi = internal::BlockDot(x[i].qs, y[i].qs);
    sumf += static_cast<float>(sumi) * (F16ToF32(x[i].d) * F16ToF32(y[i].d));
  }
  return sumf;
}

}  // namespace r1::quant::ref
