// dot_iquants_impl.h — vec_dot of the i-quant types with Q8_K (IQ4_NL: Q8_0) activations.
//
// Per group of 32 elements the weights are put in a register — IQ4_NL / IQ4_XS by one byte
// shuffle of their 16 values, the grid types (IQ1, IQ2, IQ3) by four or eight grid lookups
// with the signs applied to the activations — and multiplied with the activations into exact
// 16-bit pair sums, which the per-16 scales weight into 32-bit lanes. Each block adds one f32
// product. Without x86, blocks are decoded by the reference decoder and the dot products run
// on NEON's widening multiplies.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>

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

#if !defined(R1_QUANT_X86)
// Reference decoding, then the vector (or reference) block dot: every type off x86.
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
#endif

#if defined(R1_QUANT_X86)

namespace iq {

using quant::BlockIQ1_M;
using quant::BlockIQ1_S;
using quant::BlockIQ2_S;
using quant::BlockIQ2_XS;
using quant::BlockIQ2_XXS;
using quant::BlockIQ3_S;
using quant::BlockIQ3_XXS;
using quant::ref::internal::kNegativeBytes;
namespace grids = quant::grids;

// One group of 32 elements in registers: either magnitudes (unsigned, at most 62) with a mask
// of negative elements, or signed values; and the integer scales of its two halves.
struct Group {
  __m256i values;
  __m256i negative;  // 0xff bytes where negative; unused for signed values
  int scale_lo, scale_hi;
};

// Four 8-element points of a grid of uint64, one gather.
template <size_t N>
inline __m256i GridOctets(const std::array<uint64_t, N>& grid, int a, int b, int c, int d) {
  return _mm256_i32gather_epi64(reinterpret_cast<const long long*>(grid.data()), _mm_setr_epi32(a, b, c, d), 8);
}
inline __m256i Octets(uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
  return _mm256_set_epi64x(static_cast<long long>(d), static_cast<long long>(c), static_cast<long long>(b),
                           static_cast<long long>(a));
}
// Eight 4-element grid points, one gather.
inline __m256i Quads(const uint32_t* grid, __m256i idx) {
  return _mm256_i32gather_epi32(reinterpret_cast<const int*>(grid), idx, 4);
}
inline __m256i Quads(const uint32_t* grid, const uint8_t* idx) {
  return Quads(grid, _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(idx))));
}
// The masks of four 7-bit sign fields, 7 bits apart in w.
inline __m256i SignMasks7(uint32_t w) {
  return Octets(kNegativeBytes[grids::kSignBytes[w & 127]], kNegativeBytes[grids::kSignBytes[(w >> 7) & 127]],
                kNegativeBytes[grids::kSignBytes[(w >> 14) & 127]], kNegativeBytes[grids::kSignBytes[(w >> 21) & 127]]);
}

inline Group GroupIQ2_XXS(const BlockIQ2_XXS& b, int g) {
  uint32_t w[2];
  std::memcpy(w, b.qs + 4 * g, sizeof(w));
  const auto& grid = grids::kIq2xxsGrid;
  const int s = 2 * static_cast<int>(w[1] >> 28) + 1;
  return {Octets(grid[w[0] & 0xff], grid[(w[0] >> 8) & 0xff], grid[(w[0] >> 16) & 0xff], grid[w[0] >> 24]),
          SignMasks7(w[1]), s, s};
}

inline Group GroupIQ2_XS(const BlockIQ2_XS& b, int g) {
  const uint16_t* q = b.qs + 4 * g;
  const auto& grid = grids::kIq2xsGrid;
  const uint32_t signs = (q[0] >> 9) | (q[1] >> 9) << 7 | (q[2] >> 9) << 14 | static_cast<uint32_t>(q[3] >> 9) << 21;
  return {Octets(grid[q[0] & 511], grid[q[1] & 511], grid[q[2] & 511], grid[q[3] & 511]), SignMasks7(signs),
          2 * (b.scales[g] & 0xf) + 1, 2 * (b.scales[g] >> 4) + 1};
}

inline Group GroupIQ2_S(const BlockIQ2_S& b, int g) {
  const uint8_t* q = b.qs + 4 * g;
  const int h = b.qh[g];
  const auto& grid = grids::kIq2sGrid;
  return {Octets(grid[q[0] | (h & 3) << 8], grid[q[1] | (h & 0xc) << 6], grid[q[2] | (h & 0x30) << 4],
                 grid[q[3] | (h & 0xc0) << 2]),
          BitsToBytes(b.qs + kQK_K / 8 + 4 * g), 2 * (b.scales[g] & 0xf) + 1, 2 * (b.scales[g] >> 4) + 1};
}

inline Group GroupIQ3_XXS(const BlockIQ3_XXS& b, int g) {
  const uint32_t w = quant::ref::LoadU32(b.qs + kQK_K / 4 + 4 * g);
  const int s = 2 * static_cast<int>(w >> 28) + 1;
  return {Quads(grids::kIq3xxsGrid.data(), b.qs + 8 * g), SignMasks7(w), s, s};
}

inline Group GroupIQ3_S(const BlockIQ3_S& b, int g) {
  // Index j is byte j of qs plus bit j of qh as its ninth bit.
  const __m256i low = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(b.qs + 8 * g)));
  const __m256i bit = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(b.qh[g]), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)),
                                       _mm256_set1_epi32(1));
  const int s = 2 * ((b.scales[g / 2] >> (4 * (g % 2))) & 0xf) + 1;
  return {Quads(grids::kIq3sGrid.data(), _mm256_or_si256(low, _mm256_slli_epi32(bit, 8))), BitsToBytes(b.signs + 4 * g),
          s, s};
}

// IQ1: 8 grid + delta, delta ±1 per unit of 8 (0x01 or 0xff bytes in `delta`).
inline __m256i ShiftedIq1(int a, int b, int c, int d, __m256i delta) {
  return _mm256_add_epi8(_mm256_sign_epi8(_mm256_set1_epi8(8), GridOctets(grids::kIq1sGrid, a, b, c, d)), delta);
}

inline Group GroupIQ1_S(const BlockIQ1_S& b, int g) {
  const uint8_t* q = b.qs + 4 * g;
  const int h = b.qh[g];
  const __m256i delta = _mm256_set1_epi8(h & 0x8000 ? -1 : 1);
  const int s = 2 * ((h >> 12) & 7) + 1;
  return {ShiftedIq1(q[0] | (h & 7) << 8, q[1] | (h & 0x38) << 5, q[2] | (h & 0x1c0) << 2, q[3] | (h & 0xe00) >> 1,
                     delta),
          _mm256_setzero_si256(), s, s};
}

inline Group GroupIQ1_M(const BlockIQ1_M& b, int g) {
  const uint8_t* q = b.qs + 4 * g;
  const int h0 = b.qh[2 * g], h1 = b.qh[2 * g + 1];
  constexpr uint64_t kPlus = 0x0101010101010101ull, kMinus = ~0ull;
  const __m256i delta = Octets(h0 & 0x08 ? kMinus : kPlus, h0 & 0x80 ? kMinus : kPlus, h1 & 0x08 ? kMinus : kPlus,
                               h1 & 0x80 ? kMinus : kPlus);
  uint16_t w;
  std::memcpy(&w, b.scales + 2 * (g / 2), sizeof(w));
  const int shift = 6 * (g % 2);
  return {ShiftedIq1(q[0] | (h0 & 7) << 8, q[1] | (h0 & 0x70) << 4, q[2] | (h1 & 7) << 8, q[3] | (h1 & 0x70) << 4,
                     delta),
          _mm256_setzero_si256(), 2 * ((w >> shift) & 7) + 1, 2 * ((w >> (shift + 3)) & 7) + 1};
}

inline __m256i Scales(const Group& gr) {
  return _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(gr.scale_hi)), _mm_set1_epi16(static_cast<int16_t>(gr.scale_lo)));
}

// Σ over blocks of d_w d_x Σ_g scale_g (w_g . x_g), the groups built by MakeGroup; kSigned: the
// group holds signed values rather than magnitudes and a sign mask.
template <class Block, Group (*MakeGroup)(const Block&, int), bool kSigned>
float DotGroups(int64_t n, const void* vw, const void* vx) {
  const auto* w = static_cast<const Block*>(vw);
  const auto* x = static_cast<const BlockQ8_K*>(vx);
  float sumf = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    __m256i acc = _mm256_setzero_si256();
    for (int g = 0; g < kQK_K / 32; ++g) {
      const Group gr = MakeGroup(w[i], g);
      const __m256i xv = Load256(x[i].qs + 32 * g);
      const __m256i pairs =
          kSigned ? _mm256_maddubs_epi16(_mm256_sign_epi8(gr.values, gr.values), _mm256_sign_epi8(xv, gr.values))
                  : _mm256_maddubs_epi16(gr.values, _mm256_sign_epi8(xv, _mm256_or_si256(gr.negative, _mm256_set1_epi8(1))));
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, Scales(gr)));
    }
    const float d = HalfToFloat(IQuantTraits<Block>::ScaleBits(w[i]));
    sumf += d * x[i].d * static_cast<float>(HsumI32(acc));
  }
  return sumf * IQuantTraits<Block>::kUnit;
}

}  // namespace iq

inline constexpr auto VecDotIQ2_XXS = iq::DotGroups<quant::BlockIQ2_XXS, iq::GroupIQ2_XXS, false>;
inline constexpr auto VecDotIQ2_XS = iq::DotGroups<quant::BlockIQ2_XS, iq::GroupIQ2_XS, false>;
inline constexpr auto VecDotIQ2_S = iq::DotGroups<quant::BlockIQ2_S, iq::GroupIQ2_S, false>;
inline constexpr auto VecDotIQ3_XXS = iq::DotGroups<quant::BlockIQ3_XXS, iq::GroupIQ3_XXS, false>;
inline constexpr auto VecDotIQ3_S = iq::DotGroups<quant::BlockIQ3_S, iq::GroupIQ3_S, false>;
inline constexpr auto VecDotIQ1_S = iq::DotGroups<quant::BlockIQ1_S, iq::GroupIQ1_S, true>;
inline constexpr auto VecDotIQ1_M = iq::DotGroups<quant::BlockIQ1_M, iq::GroupIQ1_M, true>;

#else

inline constexpr auto VecDotIQ2_XXS = VecDotIQGrid<quant::BlockIQ2_XXS>;
inline constexpr auto VecDotIQ2_XS = VecDotIQGrid<quant::BlockIQ2_XS>;
inline constexpr auto VecDotIQ2_S = VecDotIQGrid<quant::BlockIQ2_S>;
inline constexpr auto VecDotIQ3_XXS = VecDotIQGrid<quant::BlockIQ3_XXS>;
inline constexpr auto VecDotIQ3_S = VecDotIQGrid<quant::BlockIQ3_S>;
inline constexpr auto VecDotIQ1_S = VecDotIQGrid<quant::BlockIQ1_S>;
inline constexpr auto VecDotIQ1_M = VecDotIQGrid<quant::BlockIQ1_M>;

#endif

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
