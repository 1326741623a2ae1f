// dot_legacy_impl.h — vec_dot of the 32-element block types with Q8_0 / Q8_1 activations.
//
// Per block: an exact integer dot product of the 32 quants (8-bit multiply-adds into 32-bit
// lanes), converted to f32 and accumulated with the block's combined scale, as ggml's AVX2
// kernels do. AVX-512 handles two blocks per 512-bit register. Other ISAs use the reference.
#pragma once

#include <cstdint>

#include "kernels/simd_arch.h"
#include "quant/x86_util_impl.h"
#include "r1/quant/reference.h"

namespace r1::R1_SIMD_NS::qk {

using quant::BlockQ4_0;
using quant::BlockQ4_1;
using quant::BlockQ5_0;
using quant::BlockQ5_1;
using quant::BlockQ8_0;
using quant::BlockQ8_1;
using quant::kQK;

#if defined(R1_QUANT_X86)

namespace legacy {

// Signed quants of one block as 32 bytes in element order.
inline __m256i QuantsQ4_0(const BlockQ4_0& b) {
  return _mm256_sub_epi8(UnpackNibbles(b.qs), _mm256_set1_epi8(8));
}
inline __m256i QuantsQ5_0(const BlockQ5_0& b) {
  // Where bit 4 is clear, OR-ing 0xf0 into the nibble gives exactly (q - 16) as int8.
  return _mm256_or_si256(UnpackNibbles(b.qs),
                         _mm256_andnot_si256(BitsToBytes(b.qh), _mm256_set1_epi8(-16)));
}
inline __m256i QuantsQ8_0(const BlockQ8_0& b) { return Load256(b.qs); }
// Unsigned quants.
inline __m256i QuantsQ4_1(const BlockQ4_1& b) { return UnpackNibbles(b.qs); }
inline __m256i QuantsQ5_1(const BlockQ5_1& b) {
  return _mm256_or_si256(UnpackNibbles(b.qs),
                         _mm256_and_si256(BitsToBytes(b.qh), _mm256_set1_epi8(0x10)));
}

// Σ_blocks d_w * d_x * Σ q_w q_x for signed weights against Q8_0, two independent accumulators.
template <class Block, __m256i (*Quants)(const Block&)>
float DotSignedQ8_0(int64_t n, const void* vw, const void* vx) {
  const auto* w = static_cast<const Block*>(vw);
  const auto* x = static_cast<const BlockQ8_0*>(vx);
  const int64_t nb = n / kQK;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 1 < nb; i += 2) {
    const __m256i p0 = DotS8S8(Quants(w[i]), Load256(x[i].qs));
    const __m256i p1 = DotS8S8(Quants(w[i + 1]), Load256(x[i + 1].qs));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(HalfToFloat(w[i].d) * HalfToFloat(x[i].d)),
                           _mm256_cvtepi32_ps(p0), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_set1_ps(HalfToFloat(w[i + 1].d) * HalfToFloat(x[i + 1].d)),
                           _mm256_cvtepi32_ps(p1), acc1);
  }
  if (i < nb) {
    const __m256i p0 = DotS8S8(Quants(w[i]), Load256(x[i].qs));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(HalfToFloat(w[i].d) * HalfToFloat(x[i].d)),
                           _mm256_cvtepi32_ps(p0), acc0);
  }
  return HsumF32(_mm256_add_ps(acc0, acc1));
}

// Σ_blocks (d_w d_x Σ q_w q_x + m_w s_x) for unsigned weights with a min against Q8_1.
template <class Block, __m256i (*Quants)(const Block&)>
float DotUnsignedQ8_1(int64_t n, const void* vw, const void* vx) {
  const auto* w = static_cast<const Block*>(vw);
  const auto* x = static_cast<const BlockQ8_1*>(vx);
  const int64_t nb = n / kQK;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  float summs = 0.0f;
  int64_t i = 0;
  for (; i + 1 < nb; i += 2) {
    const __m256i p0 = DotU8S8(Quants(w[i]), Load256(x[i].qs));
    const __m256i p1 = DotU8S8(Quants(w[i + 1]), Load256(x[i + 1].qs));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(HalfToFloat(w[i].d) * HalfToFloat(x[i].d)),
                           _mm256_cvtepi32_ps(p0), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_set1_ps(HalfToFloat(w[i + 1].d) * HalfToFloat(x[i + 1].d)),
                           _mm256_cvtepi32_ps(p1), acc1);
    summs += HalfToFloat(w[i].m) * HalfToFloat(x[i].s) +
             HalfToFloat(w[i + 1].m) * HalfToFloat(x[i + 1].s);
  }
  if (i < nb) {
    const __m256i p0 = DotU8S8(Quants(w[i]), Load256(x[i].qs));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(HalfToFloat(w[i].d) * HalfToFloat(x[i].d)),
                           _mm256_cvtepi32_ps(p0), acc0);
    summs += HalfToFloat(w[i].m) * HalfToFloat(x[i].s);
  }
  return HsumF32(_mm256_add_ps(acc0, acc1)) + summs;
}

}  // namespace legacy

inline float VecDotQ4_0(int64_t n, const void* w, const void* x) {
  return legacy::DotSignedQ8_0<BlockQ4_0, legacy::QuantsQ4_0>(n, w, x);
}
inline float VecDotQ5_0(int64_t n, const void* w, const void* x) {
  return legacy::DotSignedQ8_0<BlockQ5_0, legacy::QuantsQ5_0>(n, w, x);
}
inline float VecDotQ8_0(int64_t n, const void* w, const void* x) {
  return legacy::DotSignedQ8_0<BlockQ8_0, legacy::QuantsQ8_0>(n, w, x);
}
inline float VecDotQ4_1(int64_t n, const void* w, const void* x) {
  return legacy::DotUnsignedQ8_1<BlockQ4_1, legacy::QuantsQ4_1>(n, w, x);
}
inline float VecDotQ5_1(int64_t n, const void* w, const void* x) {
  return legacy::DotUnsignedQ8_1<BlockQ5_1, legacy::QuantsQ5_1>(n, w, x);
}

#else  // generic: the integer-domain reference

inline float VecDotQ4_0(int64_t n, const void* w, const void* x) {
  return quant::ref::VecDotQ4_0Q8_0(n, static_cast<const BlockQ4_0*>(w),
                                    static_cast<const BlockQ8_0*>(x));
}
inline float VecDotQ5_0(int64_t n, const void* w, const void* x) {
  return quant::ref::VecDotQ5_0Q8_0(n, static_cast<const BlockQ5_0*>(w),
                                    static_cast<const BlockQ8_0*>(x));
}
inline float VecDotQ8_0(int64_t n, const void* w, const void* x) {
  return quant::ref::VecDotQ8_0Q8_0(n, static_cast<const BlockQ8_0*>(w),
                                    static_cast<const BlockQ8_0*>(x));
}
inline float VecDotQ4_1(int64_t n, const void* w, const void* x) {
  return quant::ref::VecDotQ4_1Q8_1(n, static_cast<const BlockQ4_1*>(w),
                                    static_cast<const BlockQ8_1*>(x));
}
inline float VecDotQ5_1(int64_t n, const void* w, const void* x) {
  return quant::ref::VecDotQ5_1Q8_1(n, static_cast<const BlockQ5_1*>(w),
                                    static_cast<const BlockQ8_1*>(x));
}

#endif

}  // namespace r1::R1_SIMD_NS::qk
