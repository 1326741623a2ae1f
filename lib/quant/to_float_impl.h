// to_float_impl.h — rows of the quantized types to f32, bit-exact with the reference.
//
// Each group of quants is unpacked to int8 the way the dot products do it, widened, and
// scaled with the same f32 operations in the same order as the reference (products rounded
// before a min is added). Other ISAs use the reference.
#pragma once

#include <cstdint>

#include "kernels/simd_arch.h"
#include "quant/dot_kquants_impl.h"
#include "quant/dot_legacy_impl.h"
#include "quant/x86_util_impl.h"
#include "r1/quant/reference.h"

namespace r1::R1_SIMD_NS::qk {

#if defined(R1_QUANT_X86)

inline void ToFloatQ4_0(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ4_0*>(vx);
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK)
    StoreScaled32(legacy::QuantsQ4_0(x[i]), HalfToFloat(x[i].d), y);
}
inline void ToFloatQ5_0(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ5_0*>(vx);
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK)
    StoreScaled32(legacy::QuantsQ5_0(x[i]), HalfToFloat(x[i].d), y);
}
inline void ToFloatQ8_0(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ8_0*>(vx);
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK)
    StoreScaled32(legacy::QuantsQ8_0(x[i]), HalfToFloat(x[i].d), y);
}
inline void ToFloatQ4_1(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ4_1*>(vx);
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    StoreAffine32(legacy::QuantsQ4_1(x[i]), HalfToFloat(x[i].d), HalfToFloat(x[i].m), y);
  }
}
inline void ToFloatQ5_1(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ5_1*>(vx);
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    StoreAffine32(legacy::QuantsQ5_1(x[i]), HalfToFloat(x[i].d), HalfToFloat(x[i].m), y);
  }
}

inline void ToFloatQ2_K(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ2_K*>(vx);
  const __m256i m3 = _mm256_set1_epi8(3);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = HalfToFloat(x[i].d), dmin = HalfToFloat(x[i].dmin);
    int g = 0;
    for (int h = 0; h < 2; ++h) {
      const __m256i q2 = Load256(x[i].qs + 32 * h);
      for (int k = 0; k < 4; ++k, y += 32, g += 2) {
        const __m256i u = _mm256_and_si256(_mm256_srli_epi16(q2, 2 * k), m3);
        const uint8_t s0 = x[i].scales[g], s1 = x[i].scales[g + 1];
        // x - m == x + (-m) exactly, so the min goes in negated.
        StoreAffine16(_mm256_castsi256_si128(u), d * static_cast<float>(s0 & 0xf),
                      -quant::ref::Mul(dmin, static_cast<float>(s0 >> 4)), y);
        StoreAffine16(_mm256_extracti128_si256(u, 1), d * static_cast<float>(s1 & 0xf),
                      -quant::ref::Mul(dmin, static_cast<float>(s1 >> 4)), y + 16);
      }
    }
  }
}

inline void ToFloatQ3_K(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ3_K*>(vx);
  const __m256i m3 = _mm256_set1_epi8(3), m4 = _mm256_set1_epi8(4);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = HalfToFloat(x[i].d);
    const kq::Words sc = kq::UnpackQ3K(x[i].scales);
    const __m256i hm = Load256(x[i].hmask);
    int g = 0;
    for (int h = 0; h < 2; ++h) {
      const __m256i q3 = Load256(x[i].qs + 32 * h);
      for (int k = 0; k < 4; ++k, y += 32, g += 2) {
        const int bit = 4 * h + k;
        const __m256i hb =
            bit >= 2 ? _mm256_srli_epi16(hm, bit - 2) : _mm256_slli_epi16(hm, 2 - bit);
        const __m256i u = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q3, 2 * k), m3),
                                          _mm256_and_si256(hb, m4));
        const __m256i q = _mm256_sub_epi8(u, m4);
        StoreScaled16(_mm256_castsi256_si128(q), d * static_cast<float>(kq::WordByte(sc, g) - 32),
                      y);
        StoreScaled16(_mm256_extracti128_si256(q, 1),
                      d * static_cast<float>(kq::WordByte(sc, g + 1) - 32), y + 16);
      }
    }
  }
}

namespace kq {
// Scales (d * sc) and negated mins (-(dmin * m)) of the 8 groups of a Q4_K / Q5_K block.
inline void ScalesK4(const uint8_t packed[12], float d, float dmin, float scale[8],
                     float neg_min[8]) {
  const Words sm = UnpackK4(packed);
  for (int g = 0; g < 8; ++g) {
    scale[g] = d * static_cast<float>(WordByte(sm, g));
    neg_min[g] = -quant::ref::Mul(dmin, static_cast<float>(WordByte(sm, 8 + g)));
  }
}
}  // namespace kq

inline void ToFloatQ4_K(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ4_K*>(vx);
  const __m256i m4 = _mm256_set1_epi8(0x0f);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    float scale[8], neg_min[8];
    kq::ScalesK4(x[i].scales, HalfToFloat(x[i].d), HalfToFloat(x[i].dmin), scale, neg_min);
    for (int k = 0; k < 4; ++k, y += 64) {
      const __m256i q4 = Load256(x[i].qs + 32 * k);
      StoreAffine32(_mm256_and_si256(q4, m4), scale[2 * k], neg_min[2 * k], y);
      StoreAffine32(_mm256_and_si256(_mm256_srli_epi16(q4, 4), m4), scale[2 * k + 1],
                    neg_min[2 * k + 1], y + 32);
    }
  }
}

inline void ToFloatQ5_K(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ5_K*>(vx);
  const __m256i m4 = _mm256_set1_epi8(0x0f), b0 = _mm256_set1_epi8(1), b1 = _mm256_set1_epi8(2);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    float scale[8], neg_min[8];
    kq::ScalesK4(x[i].scales, HalfToFloat(x[i].d), HalfToFloat(x[i].dmin), scale, neg_min);
    __m256i hbits = Load256(x[i].qh);
    for (int k = 0; k < 4; ++k, y += 64) {
      const __m256i q5 = Load256(x[i].qs + 32 * k);
      const __m256i lo = _mm256_or_si256(_mm256_and_si256(q5, m4),
                                         _mm256_slli_epi16(_mm256_and_si256(hbits, b0), 4));
      const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q5, 4), m4),
                                         _mm256_slli_epi16(_mm256_and_si256(hbits, b1), 3));
      hbits = _mm256_srli_epi16(hbits, 2);
      StoreAffine32(lo, scale[2 * k], neg_min[2 * k], y);
      StoreAffine32(hi, scale[2 * k + 1], neg_min[2 * k + 1], y + 32);
    }
  }
}

inline void ToFloatQ6_K(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ6_K*>(vx);
  const __m256i m4 = _mm256_set1_epi8(0x0f), m32 = _mm256_set1_epi8(32);
  const __m256i h01 = _mm256_set1_epi8(0x03), h23 = _mm256_set1_epi8(0x0c),
                h45 = _mm256_set1_epi8(0x30), h67 = _mm256_set1_epi8(static_cast<char>(0xc0));
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = HalfToFloat(x[i].d);
    const int8_t* sc = x[i].scales;
    for (int h = 0; h < 2; ++h, sc += 8) {
      const __m256i ql0 = Load256(x[i].ql + 64 * h);
      const __m256i ql1 = Load256(x[i].ql + 64 * h + 32);
      const __m256i qh = Load256(x[i].qh + 32 * h);
      const __m256i u[4] = {
          _mm256_or_si256(_mm256_and_si256(ql0, m4),
                          _mm256_slli_epi16(_mm256_and_si256(qh, h01), 4)),
          _mm256_or_si256(_mm256_and_si256(ql1, m4),
                          _mm256_slli_epi16(_mm256_and_si256(qh, h23), 2)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                          _mm256_and_si256(qh, h45)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                          _mm256_srli_epi16(_mm256_and_si256(qh, h67), 2)),
      };
      for (int k = 0; k < 4; ++k, y += 32) {
        const __m256i q = _mm256_sub_epi8(u[k], m32);
        StoreScaled16(_mm256_castsi256_si128(q), d * static_cast<float>(sc[2 * k]), y);
        StoreScaled16(_mm256_extracti128_si256(q, 1), d * static_cast<float>(sc[2 * k + 1]),
                      y + 16);
      }
    }
  }
}

#else  // generic: the reference

#define R1_QUANT_REF_TO_FLOAT(T)                                                \
  inline void ToFloat##T(const void* x, float* y, int64_t n) {                  \
    quant::ref::DequantizeRow##T(static_cast<const quant::Block##T*>(x), y, n); \
  }
R1_QUANT_REF_TO_FLOAT(Q4_0)
R1_QUANT_REF_TO_FLOAT(Q4_1)
R1_QUANT_REF_TO_FLOAT(Q5_0)
R1_QUANT_REF_TO_FLOAT(Q5_1)
R1_QUANT_REF_TO_FLOAT(Q8_0)
R1_QUANT_REF_TO_FLOAT(Q2_K)
R1_QUANT_REF_TO_FLOAT(Q3_K)
R1_QUANT_REF_TO_FLOAT(Q4_K)
R1_QUANT_REF_TO_FLOAT(Q5_K)
R1_QUANT_REF_TO_FLOAT(Q6_K)
#undef R1_QUANT_REF_TO_FLOAT

#endif

}  // namespace r1::R1_SIMD_NS::qk
