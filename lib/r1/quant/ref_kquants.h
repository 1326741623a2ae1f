// r1/quant/ref_kquants.h — scalar reference for the K types (256-element super-blocks) and Q8_K.
//
// Decode* unpack a block's quants in element order (the layouts are described in blocks.h).
// DequantizeRow* and QuantizeRowQ8_K produce exactly what ggml's dequantize_row_* /
// quantize_row_q8_K_ref produce. VecDot* take the integer dot product of each super-block with
// its group scales (and the group mins through Q8_K's bsums) exactly, then scale once per
// super-block in f32, as ggml's scalar ggml_vec_dot_*_q8_K do. `n` is a multiple of 256.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "r1/quant/ref_common.h"

namespace r1::quant::ref {

// ---- unpacking: the quants of one block in element order ----

inline void DecodeQ2_K(const BlockQ2_K& b, int8_t q[kQK_K]) {  // [0, 3]
  for (int h = 0; h < 2; ++h) {
    for (int k = 0; k < 4; ++k) {
      for (int l = 0; l < 32; ++l)
        q[128 * h + 32 * k + l] = static_cast<int8_t>((b.qs[32 * h + l] >> (2 * k)) & 3);
    }
  }
}

inline void DecodeQ3_K(const BlockQ3_K& b, int8_t q[kQK_K]) {  // [-4, 3]
  for (int h = 0; h < 2; ++h) {
    for (int k = 0; k < 4; ++k) {
      for (int l = 0; l < 32; ++l) {
        const int low = (b.qs[32 * h + l] >> (2 * k)) & 3;
        const int high = (b.hmask[l] >> (4 * h + k)) & 1;
        q[128 * h + 32 * k + l] = static_cast<int8_t>(low - 4 + 4 * high);
      }
    }
  }
}

inline void DecodeQ4_K(const BlockQ4_K& b, int8_t q[kQK_K]) {  // [0, 15]
  for (int k = 0; k < 4; ++k) {
    for (int l = 0; l < 32; ++l) {
      q[64 * k + l] = static_cast<int8_t>(b.qs[32 * k + l] & 0xf);
      q[64 * k + 32 + l] = static_cast<int8_t>(b.qs[32 * k + l] >> 4);
    }
  }
}

inline void DecodeQ5_K(const BlockQ5_K& b, int8_t q[kQK_K]) {  // [0, 31]
  for (int k = 0; k < 4; ++k) {
    for (int l = 0; l < 32; ++l) {
      q[64 * k + l] =
          static_cast<int8_t>((b.qs[32 * k + l] & 0xf) | (((b.qh[l] >> (2 * k)) & 1) << 4));
      q[64 * k + 32 + l] =
          static_cast<int8_t>((b.qs[32 * k + l] >> 4) | (((b.qh[l] >> (2 * k + 1)) & 1) << 4));
    }
  }
}

inline void DecodeQ6_K(const BlockQ6_K& b, int8_t q[kQK_K]) {  // [-32, 31]
  for (int h = 0; h < 2; ++h) {
    const uint8_t* ql = b.ql + 64 * h;
    const uint8_t* qh = b.qh + 32 * h;
    int8_t* out = q + 128 * h;
    for (int l = 0; l < 32; ++l) {
      out[l] = static_cast<int8_t>(((ql[l] & 0xf) | (((qh[l] >> 0) & 3) << 4)) - 32);
      out[l + 32] = static_cast<int8_t>(((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) - 32);
      out[l + 64] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
      out[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
    }
  }
}

// ---- dequantization ----

inline void DequantizeRowQ2_K(const BlockQ2_K* x, float* y, int64_t n) {
  int8_t q[kQK_K];
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    DecodeQ2_K(x[i], q);
    const float d = F16ToF32(x[i].d);
    const float dmin = F16ToF32(x[i].dmin);
    for (int g = 0; g < 16; ++g) {
      const float dl = d * static_cast<float>(x[i].scales[g] & 0xf);
      const float ml = Mul(dmin, static_cast<float>(x[i].scales[g] >> 4));
      for (int l = 16 * g; l < 16 * g + 16; ++l) *y++ = Mul(dl, static_cast<float>(q[l])) - ml;
    }
  }
}

inline void DequantizeRowQ3_K(const BlockQ3_K* x, float* y, int64_t n) {
  int8_t q[kQK_K], scales[16];
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    DecodeQ3_K(x[i], q);
    UnpackQ3KScales(x[i].scales, scales);
    const float d = F16ToF32(x[i].d);
    for (int g = 0; g < 16; ++g) {
      const float dl = d * static_cast<float>(scales[g]);
      for (int l = 16 * g; l < 16 * g + 16; ++l) *y++ = dl * static_cast<float>(q[l]);
    }
  }
}

namespace internal {
// Shared by Q4_K and Q5_K: x = d * sc * q - dmin * m per group of 32.
inline void DequantizeK4(const int8_t q[kQK_K], const uint8_t packed[12], float d, float dmin,
                         float* y) {
  for (int g = 0; g < 8; ++g) {
    uint8_t sc, m;
    ScaleMinK4(g, packed, &sc, &m);
    const float dl = d * static_cast<float>(sc);
    const float ml = Mul(dmin, static_cast<float>(m));
    for (int l = 32 * g; l < 32 * g + 32; ++l) *y++ = Mul(dl, static_cast<float>(q[l])) - ml;
  }
}
}  // namespace internal

inline void DequantizeRowQ4_K(const BlockQ4_K* x, float* y, int64_t n) {
  int8_t q[kQK_K];
  for (int64_t i = 0; i < n / kQK_K; ++i, y += kQK_K) {
    DecodeQ4_K(x[i], q);
    internal::DequantizeK4(q, x[i].scales, F16ToF32(x[i].d), F16ToF32(x[i].dmin), y);
  }
}

inline void DequantizeRowQ5_K(const BlockQ5_K* x, float* y, int64_t n) {
  int8_t q[kQK_K];
  for (int64_t i = 0; i < n / kQK_K; ++i, y += kQK_K) {
    DecodeQ5_K(x[i], q);
    internal::DequantizeK4(q, x[i].scales, F16ToF32(x[i].d), F16ToF32(x[i].dmin), y);
  }
}

inline void DequantizeRowQ6_K(const BlockQ6_K* x, float* y, int64_t n) {
  int8_t q[kQK_K];
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    DecodeQ6_K(x[i], q);
    const float d = F16ToF32(x[i].d);
    for (int g = 0; g < 16; ++g) {
      const float dl = d * static_cast<float>(x[i].scales[g]);
      for (int l = 16 * g; l < 16 * g + 16; ++l) *y++ = dl * static_cast<float>(q[l]);
    }
  }
}

inline void DequantizeRowQ8_K(const BlockQ8_K* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, y += kQK_K) {
    for (int j = 0; j < kQK_K; ++j) y[j] = x[i].d * static_cast<float>(x[i].qs[j]);
  }
}

// ---- activation quantizer (bit-exact with ggml's quantize_row_q8_K_ref) ----
//
// The scale comes from the signed value of largest magnitude (the first one on ties): iscale =
// -127 / max, so that value maps to -127. An all-zero block gets d = 0 and zero quants and
// bsums (ggml leaves its bsums unwritten; they are multiplied by d = 0 anyway).
inline void QuantizeRowQ8_K(const float* x, BlockQ8_K* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    float max = 0.0f, amax = 0.0f;
    for (int j = 0; j < kQK_K; ++j) {
      if (std::fabs(x[j]) > amax) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    if (amax == 0.0f) {
      std::memset(&y[i], 0, sizeof(y[i]));
      continue;
    }
    const float iscale = -127.0f / max;
    for (int j = 0; j < kQK_K; ++j) {
      const int v = NearestInt(iscale * x[j]);
      y[i].qs[j] = static_cast<int8_t>(v < 127 ? v : 127);
    }
    for (int g = 0; g < kQK_K / 16; ++g) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) sum += y[i].qs[16 * g + l];
      y[i].bsums[g] = static_cast<int16_t>(sum);
    }
    y[i].d = 1.0f / iscale;
  }
}

// ---- dot products with Q8_K ----

namespace internal {
// Σ a[l] * b[l] over a group of `len` (16 or 32) quants.
inline int GroupDot(const int8_t* a, const int8_t* b, int len) {
  int s = 0;
  for (int l = 0; l < len; ++l) s += a[l] * b[l];
  return s;
}
}  // namespace internal

inline float VecDotQ2_KQ8_K(int64_t n, const BlockQ2_K* x, const BlockQ8_K* y) {
  float sumf = 0.0f;
  int8_t q[kQK_K];
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    DecodeQ2_K(x[i], q);
    int isum = 0, summs = 0;
    for (int g = 0; g < 16; ++g) {
      isum += (x[i].scales[g] & 0xf) * internal::GroupDot(q + 16 * g, y[i].qs + 16 * g, 16);
      summs += (x[i].scales[g] >> 4) * y[i].bsums[g];
    }
    const float dall = y[i].d * F16ToF32(x[i].d);
    const float dmin = y[i].d * F16ToF32(x[i].dmin);
    sumf += dall * static_cast<float>(isum) - dmin * static_cast<float>(summs);
  }
  return sumf;
}

inline float VecDotQ3_KQ8_K(int64_t n, const BlockQ3_K* x, const BlockQ8_K* y) {
  float sumf = 0.0f;
  int8_t q[kQK_K], scales[16];
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    DecodeQ3_K(x[i], q);
    UnpackQ3KScales(x[i].scales, scales);
    int isum = 0;
    for (int g = 0; g < 16; ++g)
      isum += scales[g] * internal::GroupDot(q + 16 * g, y[i].qs + 16 * g, 16);
    sumf += F16ToF32(x[i].d) * y[i].d * static_cast<float>(isum);
  }
  return sumf;
}

namespace internal {
// Shared by Q4_K and Q5_K: adds d * Σ sc Σ q y - dmin * Σ m Σ y for one super-block.
inline float DotK4(const int8_t q[kQK_K], const uint8_t packed[12], uint16_t d16, uint16_t dmin16,
                   const BlockQ8_K& y) {
  int isum = 0, summ = 0;
  for (int g = 0; g < 8; ++g) {
    uint8_t sc, m;
    ScaleMinK4(g, packed, &sc, &m);
    isum += sc * GroupDot(q + 32 * g, y.qs + 32 * g, 32);
    summ += m * (y.bsums[2 * g] + y.bsums[2 * g + 1]);
  }
  const float d = F16ToF32(d16) * y.d;
  const float dmin = F16ToF32(dmin16) * y.d;
  return d * static_cast<float>(isum) - dmin * static_cast<float>(summ);
}
}  // namespace internal

inline float VecDotQ4_KQ8_K(int64_t n, const BlockQ4_K* x, const BlockQ8_K* y) {
  float sumf = 0.0f;
  int8_t q[kQK_K];
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    DecodeQ4_K(x[i], q);
    sumf += internal::DotK4(q, x[i].scales, x[i].d, x[i].dmin, y[i]);
  }
  return sumf;
}

inline float VecDotQ5_KQ8_K(int64_t n, const BlockQ5_K* x, const BlockQ8_K* y) {
  float sumf = 0.0f;
  int8_t q[kQK_K];
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    DecodeQ5_K(x[i], q);
    sumf += internal::DotK4(q, x[i].scales, x[i].d, x[i].dmin, y[i]);
  }
  return sumf;
}

inline float VecDotQ6_KQ8_K(int64_t n, const BlockQ6_K* x, const BlockQ8_K* y) {
  float sumf = 0.0f;
  int8_t q[kQK_K];
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    DecodeQ6_K(x[i], q);
    int isum = 0;
    for (int g = 0; g < 16; ++g)
      isum += x[i].scales[g] * internal::GroupDot(q + 16 * g, y[i].qs + 16 * g, 16);
    sumf += F16ToF32(x[i].d) * y[i].d * static_cast<float>(isum);
  }
  return sumf;
}

}  // namespace r1::quant::ref
