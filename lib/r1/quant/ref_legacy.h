// r1/quant/ref_legacy.h — scalar reference for the 32-element block types Q4_0 … Q8_1.
//
// DequantizeRow* and the activation quantizers QuantizeRowQ8_0 / QuantizeRowQ8_1 produce
// exactly what ggml's dequantize_row_* / quantize_row_q8_{0,1}_ref produce. The weight
// quantizers follow ggml's *_ref rounding. VecDot* sum integer products per block and scale
// once per block, as ggml's scalar ggml_vec_dot_* do. `n` is the element count, a multiple of 32.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "r1/quant/ref_common.h"

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
inline void MinMax(const float* x, int n, float* min, float* max) {
  *min = x[0];
  *max = x[0];
  for (int j = 1; j < n; ++j) {
    *min = std::min(*min, x[j]);
    *max = std::max(*max, x[j]);
  }
}

// floor(v + offset) clamped to [0, hi]; the ggml references truncate `x * id + offset`.
inline int TruncClamp(float v, float offset, int hi) {
  return std::clamp(static_cast<int>(std::floor(v + offset)), 0, hi);
}
}  // namespace internal

inline void QuantizeRowQ4_0(const float* x, BlockQ4_0* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    const float d = internal::SignedAbsMax(x, kQK) / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = F32ToF16(d);
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = internal::TruncClamp(x[j] * id, 8.5f, 15);
      const int q1 = internal::TruncClamp(x[j + kQK / 2] * id, 8.5f, 15);
      y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

inline void QuantizeRowQ4_1(const float* x, BlockQ4_1* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    float min, max;
    internal::MinMax(x, kQK, &min, &max);
    const float d = (max - min) / 15.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = F32ToF16(d);
    y[i].m = F32ToF16(min);
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = internal::TruncClamp((x[j] - min) * id, 0.5f, 15);
      const int q1 = internal::TruncClamp((x[j + kQK / 2] - min) * id, 0.5f, 15);
      y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

inline void QuantizeRowQ5_0(const float* x, BlockQ5_0* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    const float d = internal::SignedAbsMax(x, kQK) / -16.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = F32ToF16(d);
    uint32_t qh = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = internal::TruncClamp(x[j] * id, 16.5f, 31);
      const int q1 = internal::TruncClamp(x[j + kQK / 2] * id, 16.5f, 31);
      y[i].qs[j] = static_cast<uint8_t>((q0 & 0xf) | ((q1 & 0xf) << 4));
      qh |= static_cast<uint32_t>(q0 >> 4) << j;
      qh |= static_cast<uint32_t>(q1 >> 4) << (j + kQK / 2);
    }
    std::memcpy(y[i].qh, &qh, sizeof(qh));
  }
}

inline void QuantizeRowQ5_1(const float* x, BlockQ5_1* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    float min, max;
    internal::MinMax(x, kQK, &min, &max);
    const float d = (max - min) / 31.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = F32ToF16(d);
    y[i].m = F32ToF16(min);
    uint32_t qh = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = internal::TruncClamp((x[j] - min) * id, 0.5f, 31);
      const int q1 = internal::TruncClamp((x[j + kQK / 2] - min) * id, 0.5f, 31);
      y[i].qs[j] = static_cast<uint8_t>((q0 & 0xf) | ((q1 & 0xf) << 4));
      qh |= static_cast<uint32_t>(q0 >> 4) << j;
      qh |= static_cast<uint32_t>(q1 >> 4) << (j + kQK / 2);
    }
    std::memcpy(y[i].qh, &qh, sizeof(qh));
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
