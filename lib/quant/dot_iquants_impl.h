// dot_iquants_impl.h — vec_dot of the i-quant types with Q8_K (IQ4_NL: Q8_0) activations.
//
// IQ4_NL / IQ4_XS look their 16 values up with one byte shuffle per 32 quants. The grid types
// (IQ1, IQ2, IQ3) are decoded block by block into signed bytes by the reference decoder (table
// lookups of 8 elements at a time); the integer dot products with the activations and the
// per-16 scales then run in vector registers, exactly, and each block adds one f32 product.
// Without x86 the dot products run on NEON's widening multiplies.
#pragma once

#include <cstdint>

#include "kernels/simd_arch.h"
#include "quant/x86_util_impl.h"
#include "r1/quant/reference.h"

#if defined(R1_SIMD_NEON)
#include <arm_neon.h>
#endif

namespace r1::R1_SIMD_NS::qk {

using quant::BlockIQ4_NL;
using quant::BlockIQ4_XS;
using quant::BlockQ8_0;
using quant::BlockQ8_K;
using quant::kQK;
using quant::kQK_K;
using quant::ref::IQuantInts;
using quant::ref::IQuantTraits;

namespace iq {

#if defined(R1_QUANT_X86)

// acc + Σ over 32 elements of (w ⊙ x) per 16-element half, scaled by that half's scale, in
// 32-bit lanes. |w| <= 127 and x from Q8 (never -128), so the 16-bit pair sums are exact.
inline __m256i AddScaledDot32(__m256i acc, __m256i w, __m256i x, int scale_lo, int scale_hi) {
  const __m256i pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
  const __m256i scales = _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(scale_hi)),
                                          _mm_set1_epi16(static_cast<int16_t>(scale_lo)));
  return _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, scales));
}

// Σ_g scale[g] Σ_{j in g} q[j] x[j] over a 256-element block.
inline int32_t BlockDot(const IQuantInts& o, const int8_t* x) {
  __m256i acc = _mm256_setzero_si256();
  for (int g = 0; g < kQK_K / 32; ++g) {
    acc = AddScaledDot32(acc, Load256(o.q + 32 * g), Load256(x + 32 * g), o.scale[2 * g], o.scale[2 * g + 1]);
  }
  return HsumI32(acc);
}

// The 32 signed IQ4 values of 16 nibble bytes (low nibbles first), by one shuffle.
inline __m256i Iq4Values(const uint8_t* qs) {
  const __m256i table = _mm256_broadcastsi128_si256(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(quant::grids::kIq4Values)));
  return _mm256_shuffle_epi8(table, UnpackNibbles(qs));
}

#elif defined(R1_SIMD_NEON)

// Σ q[j] x[j] over 16 bytes, in four 32-bit lanes.
inline int32x4_t Dot16(const int8_t* q, const int8_t* x) {
  const int8x16_t a = vld1q_s8(q), b = vld1q_s8(x);
  const int16x8_t lo = vmull_s8(vget_low_s8(a), vget_low_s8(b));
  const int16x8_t hi = vmull_s8(vget_high_s8(a), vget_high_s8(b));
  return vpadalq_s16(vpaddlq_s16(lo), hi);
}

inline int32_t BlockDot(const IQuantInts& o, const int8_t* x, int n = kQK_K) {
  int32x4_t acc = vdupq_n_s32(0);
  for (int g = 0; g < n / 16; ++g) acc = vmlaq_n_s32(acc, Dot16(o.q + 16 * g, x + 16 * g), o.scale[g]);
  return vaddvq_s32(acc);
}

#else

inline int32_t BlockDot(const IQuantInts& o, const int8_t* x, int n = kQK_K) {
  return quant::ref::IQuantBlockDot(o, x, n);
}

#endif

}  // namespace iq

// The grid types: reference decoding, vector dot products.
template <class Block>
float VecDotIQGrid(int64_t n, const void* vw, const void* vx) {
  const auto* w = static_cast<const Block*>(vw);
  const auto* x = static_cast<const BlockQ8_K*>(vx);
  IQuantInts o;
  float sumf = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    IQuantTraits<Block>::Decode(w[i], o);
    sumf += o.d * x[i].d * static_cast<float>(iq::BlockDot(o, x[i].qs));
  }
  return sumf * IQuantTraits<Block>::kUnit;
}

#if defined(R1_QUANT_X86)

inline float VecDotIQ4_XS(int64_t n, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockIQ4_XS*>(vw);
  const auto* x = static_cast<const BlockQ8_K*>(vx);
  float sumf = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const BlockIQ4_XS& b = w[i];
    __m256i acc = _mm256_setzero_si256();
    for (int g = 0; g < kQK_K / 32; ++g) {
      const int s = (((b.scales_l[g / 2] >> (4 * (g % 2))) & 0xf) | (((b.scales_h >> (2 * g)) & 3) << 4)) - 32;
      acc = iq::AddScaledDot32(acc, iq::Iq4Values(b.qs + 16 * g), Load256(x[i].qs + 32 * g), s, s);
    }
    sumf += HalfToFloat(b.d) * x[i].d * static_cast<float>(HsumI32(acc));
  }
  return sumf;
}

inline float VecDotIQ4_NL(int64_t n, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockIQ4_NL*>(vw);
  const auto* x = static_cast<const BlockQ8_0*>(vx);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK; ++i) {
    const __m256i q = iq::Iq4Values(w[i].qs);
    const __m256i p = DotS8S8(q, Load256(x[i].qs));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(HalfToFloat(x[i].d) * HalfToFloat(w[i].d)), _mm256_cvtepi32_ps(p), acc);
  }
  return HsumF32(acc);
}

#else  // the reference decoding with the vector (or reference) block dot

inline float VecDotIQ4_XS(int64_t n, const void* vw, const void* vx) {
  return VecDotIQGrid<BlockIQ4_XS>(n, vw, vx);
}

inline float VecDotIQ4_NL(int64_t n, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockIQ4_NL*>(vw);
  const auto* x = static_cast<const BlockQ8_0*>(vx);
  IQuantInts o;
  float sumf = 0.0f;
  for (int64_t i = 0; i < n / kQK; ++i) {
    quant::ref::DecodeIQ4_NL(w[i], o);
    sumf += quant::F16ToF32(x[i].d) * o.d * static_cast<float>(iq::BlockDot(o, x[i].qs, kQK));
  }
  return sumf;
}

#endif

// to_float: the reference (i-quant rows are converted only for embedding lookups and, where
// the INT8 prompt GEMM is missing, for f32 tiles).
template <class Block>
void ToFloatIQ(const void* x, float* y, int64_t n) {
  quant::ref::DequantizeRowIQ(static_cast<const Block*>(x), y, n);
}

}  // namespace r1::R1_SIMD_NS::qk
