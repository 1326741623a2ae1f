// float16_impl.h — loads and stores of f16 / bf16 as xsimd f32 batches, and the row kernels
// built on them: F16/BF16 from_float and to_float, and the F32/F16/BF16 dot products.
//
// Conversions to f32 are exact. f32 -> f16 uses the hardware conversion (F16C, FCVT), which
// rounds to nearest even exactly as r1::quant::F32ToF16; f32 -> bf16 applies ggml's rounding
// on integer lanes. Dot products use several f32 accumulators with FMA.
#pragma once

#include <cstdint>

#include "kernels/simd_arch.h"
#include "r1/quant/half.h"
#include "r1/quant/ref_float.h"

#if defined(R1_SIMD_AVX2) || defined(R1_SIMD_AVX512)
#include <immintrin.h>
#elif defined(R1_SIMD_NEON)
#include <arm_neon.h>
#endif

namespace r1::R1_SIMD_NS::qk {

using FBatch = xsimd::batch<float, Arch>;
using UBatch = xsimd::batch<uint32_t, Arch>;
inline constexpr int64_t kLanes = static_cast<int64_t>(FBatch::size);

// f16 rows use 256-bit batches on x86 even in the AVX-512 build: one 512-bit vcvtph2ps costs
// more than two 256-bit ones on AMD Zen 4 (measured: a 4096-element dot 240 vs 157 ns).
#if defined(R1_SIMD_AVX2) || defined(R1_SIMD_AVX512)
using HBatch = xsimd::batch<float, xsimd::fma3<xsimd::avx2>>;
#else
using HBatch = FBatch;
#endif
inline constexpr int64_t kHLanes = static_cast<int64_t>(HBatch::size);

inline HBatch LoadF16(const uint16_t* p) {
#if defined(R1_SIMD_AVX2) || defined(R1_SIMD_AVX512)
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
#elif defined(R1_SIMD_NEON)
  return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
#else
  alignas(64) float tmp[kHLanes];
  for (int64_t j = 0; j < kHLanes; ++j) tmp[j] = quant::F16ToF32(p[j]);
  return HBatch::load_aligned(tmp);
#endif
}

inline void StoreF16(HBatch v, uint16_t* p) {
#if defined(R1_SIMD_AVX2) || defined(R1_SIMD_AVX512)
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
#else
  alignas(64) float tmp[kHLanes];
  v.store_aligned(tmp);
  for (int64_t j = 0; j < kHLanes; ++j) p[j] = quant::F32ToF16(tmp[j]);
#endif
}

inline FBatch LoadBf16(const uint16_t* p) {
#if defined(R1_SIMD_AVX512)
  return _mm512_castsi512_ps(_mm512_slli_epi32(
      _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16));
#elif defined(R1_SIMD_AVX2)
  return _mm256_castsi256_ps(_mm256_slli_epi32(
      _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
#elif defined(R1_SIMD_NEON)
  return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16));
#else
  alignas(64) float tmp[kLanes];
  for (int64_t j = 0; j < kLanes; ++j) tmp[j] = quant::Bf16ToF32(p[j]);
  return FBatch::load_aligned(tmp);
#endif
}

// ggml_compute_fp32_to_bf16 on every lane; the result is in the low 16 bits.
inline UBatch ToBf16Bits(FBatch v) {
  const UBatch x = xsimd::bitwise_cast<UBatch>(v);
  const UBatch rounded = (x + (UBatch(0x7fffu) + ((x >> 16) & UBatch(1u)))) >> 16;
  const UBatch quiet_nan = (x >> 16) | UBatch(64u);
  // All-ones lanes where |x| > inf (NaN), from the borrow of an unsigned subtraction; xsimd 8.1's
  // select on 32-bit integer AVX-512 batches does not compile without optimization.
  const UBatch is_nan = (UBatch(0x7f800000u) - (x & UBatch(0x7fffffffu))) >> 31;
  const UBatch mask = UBatch(0u) - is_nan;
  return (quiet_nan & mask) | (rounded & ~mask);
}

inline void StoreBf16(FBatch v, uint16_t* p) {
  const UBatch bits = ToBf16Bits(v);
#if defined(R1_SIMD_AVX512)
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm512_cvtepi32_epi16(bits));
#elif defined(R1_SIMD_AVX2)
  const __m256i b = bits;
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p),
                   _mm_packus_epi32(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1)));
#elif defined(R1_SIMD_NEON)
  vst1_u16(p, vmovn_u32(bits));
#else
  alignas(64) uint32_t tmp[kLanes];
  bits.store_aligned(tmp);
  for (int64_t j = 0; j < kLanes; ++j) p[j] = static_cast<uint16_t>(tmp[j]);
#endif
}

// ---- row kernels ----

inline void FromFloatF16(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<uint16_t*>(vy);
  int64_t i = 0;
  for (; i + kHLanes <= n; i += kHLanes) StoreF16(HBatch::load_unaligned(x + i), y + i);
  for (; i < n; ++i) y[i] = quant::F32ToF16(x[i]);
}

inline void FromFloatBf16(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<uint16_t*>(vy);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) StoreBf16(FBatch::load_unaligned(x + i), y + i);
  for (; i < n; ++i) y[i] = quant::F32ToBf16(x[i]);
}

inline void ToFloatF16(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const uint16_t*>(vx);
  int64_t i = 0;
  for (; i + kHLanes <= n; i += kHLanes) LoadF16(x + i).store_unaligned(y + i);
  for (; i < n; ++i) y[i] = quant::F16ToF32(x[i]);
}

inline void ToFloatBf16(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const uint16_t*>(vx);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) LoadBf16(x + i).store_unaligned(y + i);
  for (; i < n; ++i) y[i] = quant::Bf16ToF32(x[i]);
}

inline void CopyF32(const float* x, void* y, int64_t n) {
  quant::ref::CopyRowF32(x, static_cast<float*>(y), n);
}
inline void CopyF32Out(const void* x, float* y, int64_t n) {
  quant::ref::CopyRowF32(static_cast<const float*>(x), y, n);
}

// Σ load(w) * load(x) over n elements with four accumulators of batch type B; `Load` maps an
// element pointer to a batch, `Scalar` one element to f32.
template <class B, class T, B (*Load)(const T*), float (*Scalar)(T)>
float DotRows(int64_t n, const T* w, const T* x) {
  constexpr int64_t kW = static_cast<int64_t>(B::size);
  B a0(0.0f), a1(0.0f), a2(0.0f), a3(0.0f);
  int64_t i = 0;
  for (; i + 4 * kW <= n; i += 4 * kW) {
    a0 = xsimd::fma(Load(w + i), Load(x + i), a0);
    a1 = xsimd::fma(Load(w + i + kW), Load(x + i + kW), a1);
    a2 = xsimd::fma(Load(w + i + 2 * kW), Load(x + i + 2 * kW), a2);
    a3 = xsimd::fma(Load(w + i + 3 * kW), Load(x + i + 3 * kW), a3);
  }
  for (; i + kW <= n; i += kW) a0 = xsimd::fma(Load(w + i), Load(x + i), a0);
  float sum = xsimd::hadd((a0 + a1) + (a2 + a3));
  for (; i < n; ++i) sum += Scalar(w[i]) * Scalar(x[i]);
  return sum;
}

inline FBatch LoadF32(const float* p) { return FBatch::load_unaligned(p); }
inline float Identity(float v) { return v; }
inline float F16Scalar(uint16_t v) { return quant::F16ToF32(v); }
inline float Bf16Scalar(uint16_t v) { return quant::Bf16ToF32(v); }

inline float VecDotF32(int64_t n, const void* w, const void* x) {
  return DotRows<FBatch, float, LoadF32, Identity>(n, static_cast<const float*>(w),
                                                   static_cast<const float*>(x));
}
inline float VecDotF16(int64_t n, const void* w, const void* x) {
  return DotRows<HBatch, uint16_t, LoadF16, F16Scalar>(n, static_cast<const uint16_t*>(w),
                                                       static_cast<const uint16_t*>(x));
}
inline float VecDotBf16(int64_t n, const void* w, const void* x) {
  return DotRows<FBatch, uint16_t, LoadBf16, Bf16Scalar>(n, static_cast<const uint16_t*>(w),
                                                         static_cast<const uint16_t*>(x));
}

}  // namespace r1::R1_SIMD_NS::qk
