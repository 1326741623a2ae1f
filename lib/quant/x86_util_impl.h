// x86_util_impl.h — AVX2 building blocks shared by the x86 quant kernels.
//
// xsimd 8.1 has no widening 8-bit multiply-add, so the integer kernels work on the native
// registers. Only for sources compiled once per ISA (the AVX-512 build includes AVX2).
#pragma once

#include "kernels/simd_arch.h"

#if defined(R1_SIMD_AVX2) || defined(R1_SIMD_AVX512)
#define R1_QUANT_X86 1
#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace r1::R1_SIMD_NS::qk {

inline float HalfToFloat(uint16_t h) { return _cvtsh_ss(h); }

inline float HsumF32(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline int HsumI32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

// Pairs of 16-bit lanes summed into 32-bit lanes.
inline __m256i SumPairsI16(__m256i v) { return _mm256_madd_epi16(v, _mm256_set1_epi16(1)); }

// 32-bit lanes of sums of 4 products u * s, u unsigned (at most 127 so pairs fit in int16), s
// signed.
inline __m256i DotU8S8(__m256i u, __m256i s) { return SumPairsI16(_mm256_maddubs_epi16(u, s)); }

// As DotU8S8 for two signed operands; neither may hold -128.
inline __m256i DotS8S8(__m256i a, __m256i b) {
  return DotU8S8(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
}

// 32 nibbles of 16 bytes: the low nibbles in bytes 0..15, the high ones in bytes 16..31.
// One broadcast load, then the high half shifted by 4: three instructions.
inline __m256i UnpackNibbles(const uint8_t* p) {
  const __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_and_si256(_mm256_srlv_epi64(v, _mm256_setr_epi64x(0, 0, 4, 4)), _mm256_set1_epi8(0x0f));
}

// Byte j is 0xff where bit j of the little-endian 32-bit word at p is set, else 0.
inline __m256i BitsToBytes(const uint8_t* p) {
  uint32_t bits;
  std::memcpy(&bits, p, sizeof(bits));
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(static_cast<int>(bits)),
      _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0));
  const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ull));
  return _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
}

// Loads 32 bytes.
inline __m256i Load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// Byte masks for _mm256_shuffle_epi8 on a register whose two 128-bit halves hold the same
// eight 16-bit values: put value `lo` in every 16-bit lane of the low half and `hi` in the high.
struct alignas(32) PickMask {
  uint8_t bytes[32];
};
constexpr PickMask MakePick(int lo, int hi) {
  PickMask m{};
  for (int i = 0; i < 32; ++i) m.bytes[i] = static_cast<uint8_t>(2 * (i < 16 ? lo : hi) + (i & 1));
  return m;
}
// kPickSame[k]: value k everywhere; kPickSplit[k]: value 2k low, 2k + 1 high.
inline constexpr PickMask kPickSame[8] = {MakePick(0, 0), MakePick(1, 1), MakePick(2, 2),
                                          MakePick(3, 3), MakePick(4, 4), MakePick(5, 5),
                                          MakePick(6, 6), MakePick(7, 7)};
inline constexpr PickMask kPickSplit[4] = {MakePick(0, 1), MakePick(2, 3), MakePick(4, 5),
                                           MakePick(6, 7)};
inline __m256i PickSame(__m256i v, int k) {
  return _mm256_shuffle_epi8(v, Load256(kPickSame[k].bytes));
}
inline __m256i PickSplit(__m256i v, int k) {
  return _mm256_shuffle_epi8(v, Load256(kPickSplit[k].bytes));
}

// Keeps a product from being fused with a following add: the scalar reference rounds it.
inline __m256 Pinned(__m256 v) {
  asm("" : "+v"(v));
  return v;
}

// y[0..7] = q[0..7] * d (+ m), q int8 in the low 8 bytes of `q8`.
inline void StoreScaled8(__m128i q8, __m256 d, float* y) {
  _mm256_storeu_ps(y, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q8)), d));
}
inline void StoreAffine8(__m128i q8, __m256 d, __m256 m, float* y) {
  _mm256_storeu_ps(
      y, _mm256_add_ps(Pinned(_mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q8)), d)), m));
}

// y[0..15] = q * d (+ m) for 16 int8 values.
inline void StoreScaled16(__m128i q, float d, float* y) {
  const __m256 vd = _mm256_set1_ps(d);
  StoreScaled8(q, vd, y);
  StoreScaled8(_mm_srli_si128(q, 8), vd, y + 8);
}
inline void StoreAffine16(__m128i q, float d, float m, float* y) {
  const __m256 vd = _mm256_set1_ps(d), vm = _mm256_set1_ps(m);
  StoreAffine8(q, vd, vm, y);
  StoreAffine8(_mm_srli_si128(q, 8), vd, vm, y + 8);
}

// y[0..31] = q * d (+ m) for 32 int8 values.
inline void StoreScaled32(__m256i q, float d, float* y) {
  StoreScaled16(_mm256_castsi256_si128(q), d, y);
  StoreScaled16(_mm256_extracti128_si256(q, 1), d, y + 16);
}
inline void StoreAffine32(__m256i q, float d, float m, float* y) {
  StoreAffine16(_mm256_castsi256_si128(q), d, m, y);
  StoreAffine16(_mm256_extracti128_si256(q, 1), d, m, y + 16);
}

}  // namespace r1::R1_SIMD_NS::qk

#endif  // R1_SIMD_AVX2 || R1_SIMD_AVX512
