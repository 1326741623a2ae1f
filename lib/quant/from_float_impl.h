// from_float_impl.h — activation rows from f32 to Q8_0, Q8_1 and Q8_K.
//
// Bit-exact with the scalar reference (ggml's quantize_row_q8_*_ref): the block maximum is
// exact in any order, the scale is computed with the same scalar operations, every value is
// multiplied by the same f32 factor and rounded the same way (half away from zero for Q8_0 /
// Q8_1, half to even for Q8_K). That holds for finite inputs; with a NaN in a block both give
// garbage, not necessarily the same. Other ISAs use the reference.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/simd_arch.h"
#include "quant/x86_util_impl.h"
#include "r1/quant/reference.h"

namespace r1::R1_SIMD_NS::qk {

#if defined(R1_QUANT_X86)

namespace q8 {

inline __m256 Abs(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

inline float MaxAbs(const float* x, int n) {  // n a multiple of 32
  __m256 m0 = _mm256_setzero_ps(), m1 = _mm256_setzero_ps();
  for (int j = 0; j < n; j += 16) {
    m0 = _mm256_max_ps(m0, Abs(_mm256_loadu_ps(x + j)));
    m1 = _mm256_max_ps(m1, Abs(_mm256_loadu_ps(x + j + 8)));
  }
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(_mm256_max_ps(m0, m1)),
                        _mm256_extractf128_ps(_mm256_max_ps(m0, m1), 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

// roundf() on each lane: truncate, then step away from zero when the dropped fraction (exact
// for these magnitudes) is at least one half.
inline __m256 RoundHalfAway(__m256 v) {
  const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 up = _mm256_cmp_ps(Abs(_mm256_sub_ps(v, t)), _mm256_set1_ps(0.5f), _CMP_GE_OQ);
  const __m256 one = _mm256_or_ps(_mm256_set1_ps(1.0f), _mm256_and_ps(v, _mm256_set1_ps(-0.0f)));
  return _mm256_add_ps(t, _mm256_and_ps(up, one));
}

inline __m256 RoundHalfEven(__m256 v) {
  return _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

// 32 integer-valued floats (within int8) to 32 bytes in order; also returns their sum.
inline __m256i PackI8(__m256 f0, __m256 f1, __m256 f2, __m256 f3, int* sum) {
  const __m256i i0 = _mm256_cvttps_epi32(f0), i1 = _mm256_cvttps_epi32(f1);
  const __m256i i2 = _mm256_cvttps_epi32(f2), i3 = _mm256_cvttps_epi32(f3);
  if (sum != nullptr)
    *sum = HsumI32(_mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3)));
  // The packs work per 128-bit half; the permutation restores element order.
  const __m256i b = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
  return _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

template <class Block, bool kWithSum>
void FromFloat32(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<Block*>(vy);
  for (int64_t i = 0; i < n / quant::kQK; ++i, x += quant::kQK) {
    const float d = MaxAbs(x, quant::kQK) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const __m256 vid = _mm256_set1_ps(id);
    y[i].d = quant::F32ToF16(d);
    int sum = 0;
    const __m256i q = PackI8(RoundHalfAway(_mm256_mul_ps(_mm256_loadu_ps(x), vid)),
                             RoundHalfAway(_mm256_mul_ps(_mm256_loadu_ps(x + 8), vid)),
                             RoundHalfAway(_mm256_mul_ps(_mm256_loadu_ps(x + 16), vid)),
                             RoundHalfAway(_mm256_mul_ps(_mm256_loadu_ps(x + 24), vid)),
                             kWithSum ? &sum : nullptr);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs), q);
    if constexpr (kWithSum) y[i].s = quant::F32ToF16(static_cast<float>(sum) * d);
  }
}

}  // namespace q8

inline void FromFloatQ8_0(const float* x, void* y, int64_t n) {
  q8::FromFloat32<quant::BlockQ8_0, false>(x, y, n);
}
inline void FromFloatQ8_1(const float* x, void* y, int64_t n) {
  q8::FromFloat32<quant::BlockQ8_1, true>(x, y, n);
}

inline void FromFloatQ8_K(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<quant::BlockQ8_K*>(vy);
  for (int64_t i = 0; i < n / quant::kQK_K; ++i, x += quant::kQK_K) {
    const float amax = q8::MaxAbs(x, quant::kQK_K);
    if (amax == 0.0f) {
      std::memset(&y[i], 0, sizeof(y[i]));
      continue;
    }
    float max = 0.0f;  // the first value of largest magnitude, as the reference picks it
    for (int j = 0; j < quant::kQK_K; ++j) {
      if (std::fabs(x[j]) == amax) {
        max = x[j];
        break;
      }
    }
    const float iscale = -127.0f / max;
    const __m256 vs = _mm256_set1_ps(iscale);
    for (int j = 0; j < quant::kQK_K; j += 32) {
      // |iscale * x| <= 127 (plus rounding) so the saturating packs never clip.
      const __m256i q =
          q8::PackI8(q8::RoundHalfEven(_mm256_mul_ps(_mm256_loadu_ps(x + j), vs)),
                     q8::RoundHalfEven(_mm256_mul_ps(_mm256_loadu_ps(x + j + 8), vs)),
                     q8::RoundHalfEven(_mm256_mul_ps(_mm256_loadu_ps(x + j + 16), vs)),
                     q8::RoundHalfEven(_mm256_mul_ps(_mm256_loadu_ps(x + j + 24), vs)), nullptr);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs + j), q);
      // Sums of 16 bytes: byte pairs (unsigned 1 times signed q), then 8 pairs of those.
      const __m256i s32 = SumPairsI16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), q));
      const __m256i h = _mm256_hadd_epi32(s32, s32);  // per half: [a01, a23, a01, a23]
      const __m256i h2 = _mm256_hadd_epi32(h, h);     // per half: the sum of that half
      y[i].bsums[j / 16] = static_cast<int16_t>(_mm256_extract_epi32(h2, 0));
      y[i].bsums[j / 16 + 1] = static_cast<int16_t>(_mm256_extract_epi32(h2, 4));
    }
    y[i].d = 1.0f / iscale;
  }
}

#else  // generic: the reference

inline void FromFloatQ8_0(const float* x, void* y, int64_t n) {
  quant::ref::QuantizeRowQ8_0(x, static_cast<quant::BlockQ8_0*>(y), n);
}
inline void FromFloatQ8_1(const float* x, void* y, int64_t n) {
  quant::ref::QuantizeRowQ8_1(x, static_cast<quant::BlockQ8_1*>(y), n);
}
inline void FromFloatQ8_K(const float* x, void* y, int64_t n) {
  quant::ref::QuantizeRowQ8_K(x, static_cast<quant::BlockQ8_K*>(y), n);
}

#endif

}  // namespace r1::R1_SIMD_NS::qk
