// dot_kquants_vnni_impl.h — Q4_K and Q5_K weights against Q8_K activations with AVX-512 VNNI.
//
// As the AVX2 kernels (dot_kquants_impl.h), with VNNI's vpdpwssd multiplying the 16-bit pair sums
// of each group by its scale and adding them in one instruction instead of two. (Summing each
// group with vpdpbusd and scaling the eight group sums together measured slower: gathering the
// sums across registers costs more than it saves.) Integer sums are exact: results differ from the reference only in
// the order of the f32 accumulation.
#pragma once

#include <cstdint>

#include "kernels/simd_arch.h"
#include "quant/dot_kquants_impl.h"
#include "quant/dot_vnni_impl.h"
#include "quant/x86_util_impl.h"

#if defined(R1_SIMD_AVX512VNNI)

namespace r1::R1_SIMD_NS::qk {
namespace kq {

// Σ over super-blocks of d Σ_g s_g S_g - dmin Σ_g m_g B_g, where `groups(i, k, lo, hi)` writes
// the unsigned quants of block i's groups 2k and 2k + 1 (S_g = Σ u x over group g).
template <class Block, class Groups>
inline float DotK4Vnni(int64_t n, const Block* w, const BlockQ8_K* x, Groups&& groups) {
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = HalfToFloat(w[i].d) * x[i].d;
    const float dmin = HalfToFloat(w[i].dmin) * x[i].d;
    const __m256i scales = ScalesAndMinsK4(w[i].scales, x[i], dmin, &acc);
    const int8_t* q8 = x[i].qs;
    // Two sums, so that each chain of dependent multiply-adds is four long, not eight.
    __m256i sum_lo = _mm256_setzero_si256(), sum_hi = _mm256_setzero_si256();
    for (int k = 0; k < 4; ++k, q8 += 64) {
      __m256i lo, hi;
      groups(i, k, &lo, &hi);
      sum_lo = _mm256_dpwssd_epi32(sum_lo, _mm256_maddubs_epi16(lo, Load256(q8)), PickSame(scales, 2 * k));
      sum_hi = _mm256_dpwssd_epi32(sum_hi, _mm256_maddubs_epi16(hi, Load256(q8 + 32)), PickSame(scales, 2 * k + 1));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(_mm256_add_epi32(sum_lo, sum_hi)), acc);
  }
  return HsumF32(acc);
}

}  // namespace kq

inline float VecDotQ4_KVnni(int64_t n, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ4_K*>(vw);
  const __m256i m4 = _mm256_set1_epi8(0x0f);
  // Group 2k is the low nibbles of bytes 32k..32k+31, group 2k + 1 their high nibbles.
  return kq::DotK4Vnni(n, w, static_cast<const BlockQ8_K*>(vx), [&](int64_t i, int k, __m256i* lo, __m256i* hi) {
    const __m256i q4 = Load256(w[i].qs + 32 * k);
    *lo = _mm256_and_si256(q4, m4);
    *hi = _mm256_and_si256(_mm256_srli_epi16(q4, 4), m4);
  });
}

inline float VecDotQ5_KVnni(int64_t n, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ5_K*>(vw);
  const __m256i m4 = _mm256_set1_epi8(0x0f), b0 = _mm256_set1_epi8(1), b1 = _mm256_set1_epi8(2);
  // As Q4_K, plus bit 4 of groups 2k and 2k + 1 from bits 2k and 2k + 1 of each qh byte.
  return kq::DotK4Vnni(n, w, static_cast<const BlockQ8_K*>(vx), [&](int64_t i, int k, __m256i* lo, __m256i* hi) {
    const __m256i hbits = _mm256_srli_epi16(Load256(w[i].qh), 2 * k);
    const __m256i q5 = Load256(w[i].qs + 32 * k);
    *lo = _mm256_or_si256(_mm256_and_si256(q5, m4), _mm256_slli_epi16(_mm256_and_si256(hbits, b0), 4));
    *hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q5, 4), m4),
                          _mm256_slli_epi16(_mm256_and_si256(hbits, b1), 3));
  });
}

}  // namespace r1::R1_SIMD_NS::qk

#endif  // R1_SIMD_AVX512VNNI
