// dot_interleaved_impl.h — 16 interleaved Q4_K or Q6_K rows (quant/interleaved_kquants.h)
// against up to four Q8_K activation rows, with AVX-512 VNNI. Included by quant_simd.cc in the
// avx512vnni build only.
#pragma once

#include <cstring>

#include "quant/interleaved_kquants.h"
#include "quant/x86_util_impl.h"

namespace r1::R1_SIMD_NS::qk {

// 4 bytes (4 activation quants, or two int16) in every 32-bit lane.
inline __m512i Broadcast4(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

// Lane r of every register is weight row r. Per block and activation row: 64 vpdpbusd (each
// 4 quants of 16 rows against 4 activation bytes broadcast), one vpmulld per group for its
// scales, 4 vpdpwssd for the mins, then two conversions and two multiply-adds for all 16 rows.
// Each activation row's operations are the same whatever NX is, so one conversation or four
// get the same bits, and they are DotQ4_Kx16Ref's.
template <int NX>
inline void DotQ4_Kx16(int64_t n, const BlockQ4_Kx16* w, const uint8_t* x, uint64_t x_stride, float* out,
                       int64_t out_stride) {
  const auto xb = [&](int t) { return reinterpret_cast<const BlockQ8_K*>(x + static_cast<uint64_t>(t) * x_stride); };
  const __m512i m4 = _mm512_set1_epi8(0x0f);
  __m512 acc[NX];
  for (int t = 0; t < NX; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const BlockQ4_Kx16& b = w[i];
    __m512i sum[NX], min_sum[NX];
    for (int t = 0; t < NX; ++t) sum[t] = min_sum[t] = _mm512_setzero_si512();
    for (int g = 0; g < 8; ++g) {
      // Two chains per activation row (low and high nibbles), so one row alone keeps the
      // multiply-add units busy too.
      __m512i lo_sum[NX], hi_sum[NX];
      for (int t = 0; t < NX; ++t) lo_sum[t] = hi_sum[t] = _mm512_setzero_si512();
      for (int p = 0; p < 4; ++p) {
        const __m512i q = _mm512_loadu_si512(b.qs[g][p]);
        const __m512i lo = _mm512_and_si512(q, m4), hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), m4);
        for (int t = 0; t < NX; ++t) {
          const int8_t* q8 = xb(t)[i].qs + 32 * g + 8 * p;
          lo_sum[t] = _mm512_dpbusd_epi32(lo_sum[t], lo, Broadcast4(q8));
          hi_sum[t] = _mm512_dpbusd_epi32(hi_sum[t], hi, Broadcast4(q8 + 4));
        }
      }
      const __m512i scale = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales[g])));
      for (int t = 0; t < NX; ++t) {
        sum[t] = _mm512_add_epi32(sum[t], _mm512_mullo_epi32(_mm512_add_epi32(lo_sum[t], hi_sum[t]), scale));
      }
    }
    for (int h = 0; h < 4; ++h) {
      const __m512i mins = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.mins[h])));
      for (int t = 0; t < NX; ++t) {
        // The activation sums of groups 2h and 2h + 1 as an int16 pair (each at most 32 * 128).
        const int16_t* bs = xb(t)[i].bsums + 4 * h;
        const int16_t pair[2] = {static_cast<int16_t>(bs[0] + bs[1]), static_cast<int16_t>(bs[2] + bs[3])};
        min_sum[t] = _mm512_dpwssd_epi32(min_sum[t], mins, Broadcast4(pair));
      }
    }
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.d)));
    const __m512 dmin = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.dmin)));
    for (int t = 0; t < NX; ++t) {
      const __m512 xd = _mm512_set1_ps(xb(t)[i].d);
      acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(d, xd), _mm512_cvtepi32_ps(sum[t]), acc[t]);
      acc[t] = _mm512_fnmadd_ps(_mm512_mul_ps(dmin, xd), _mm512_cvtepi32_ps(min_sum[t]), acc[t]);
    }
  }
  for (int t = 0; t < NX; ++t) _mm512_storeu_ps(out + t * out_stride, acc[t]);
}

// The same for Q6_K: per block and activation row 64 vpdpbusd, one vpmulld per group for its
// signed scale, 8 vpdpwssd for the offset 32 Σ scale · Σ x, one conversion and multiply-add.
template <int NX>
inline void DotQ6_Kx16(int64_t n, const BlockQ6_Kx16* w, const uint8_t* x, uint64_t x_stride, float* out,
                       int64_t out_stride) {
  const auto xb = [&](int t) { return reinterpret_cast<const BlockQ8_K*>(x + static_cast<uint64_t>(t) * x_stride); };
  const __m512i m4 = _mm512_set1_epi8(0x0f), m_high = _mm512_set1_epi8(0x30);
  __m512 acc[NX];
  for (int t = 0; t < NX; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const BlockQ6_Kx16& b = w[i];
    __m512i sum[NX], offset[NX];
    for (int t = 0; t < NX; ++t) sum[t] = offset[t] = _mm512_setzero_si512();
    for (int h = 0; h < 8; ++h) {
      // Lane r: the scales of groups 2h and 2h + 1 as an int16 pair, and each sign-extended.
      const __m512i pair = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.scales[h])));
      const __m512i scale[2] = {_mm512_srai_epi32(_mm512_slli_epi32(pair, 16), 16), _mm512_srai_epi32(pair, 16)};
      for (int t = 0; t < NX; ++t) offset[t] = _mm512_dpwssd_epi32(offset[t], pair, Broadcast4(xb(t)[i].bsums + 2 * h));
      for (int half = 0; half < 2; ++half) {
        const int g = 2 * h + half;
        const __m512i ql0 = _mm512_loadu_si512(b.ql[g][0]), ql1 = _mm512_loadu_si512(b.ql[g][1]);
        const __m512i qh = _mm512_loadu_si512(b.qh[g]);
        // Quad j: its low 4 bits from a nibble of ql, bits 4..5 from bits 2j..2j+1 of qh.
        const __m512i u[4] = {
            _mm512_or_si512(_mm512_and_si512(ql0, m4), _mm512_and_si512(_mm512_slli_epi16(qh, 4), m_high)),
            _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql0, 4), m4),
                            _mm512_and_si512(_mm512_slli_epi16(qh, 2), m_high)),
            _mm512_or_si512(_mm512_and_si512(ql1, m4), _mm512_and_si512(qh, m_high)),
            _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql1, 4), m4),
                            _mm512_and_si512(_mm512_srli_epi16(qh, 2), m_high)),
        };
        for (int t = 0; t < NX; ++t) {
          const int8_t* q8 = xb(t)[i].qs + 16 * g;
          const __m512i even = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), u[0], Broadcast4(q8)),
                                                   u[2], Broadcast4(q8 + 8));
          const __m512i odd = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), u[1], Broadcast4(q8 + 4)),
                                                  u[3], Broadcast4(q8 + 12));
          sum[t] = _mm512_add_epi32(sum[t], _mm512_mullo_epi32(_mm512_add_epi32(even, odd), scale[half]));
        }
      }
    }
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.d)));
    for (int t = 0; t < NX; ++t) {
      const __m512i total = _mm512_sub_epi32(sum[t], _mm512_slli_epi32(offset[t], 5));
      acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(d, _mm512_set1_ps(xb(t)[i].d)), _mm512_cvtepi32_ps(total), acc[t]);
    }
  }
  for (int t = 0; t < NX; ++t) _mm512_storeu_ps(out + t * out_stride, acc[t]);
}

// Activation rows four at a time, then the rest: each row's bits are the same either way.
template <class Block, template <int> class Dot>
inline void InterleavedTokens(int64_t n, const void* w, const void* x, uint64_t x_stride, int64_t nx, float* out,
                              int64_t out_stride) {
  const auto* blocks = static_cast<const Block*>(w);
  const auto* xp = static_cast<const uint8_t*>(x);
  for (; nx >= 4; nx -= 4, xp += 4 * x_stride, out += 4 * out_stride)
    Dot<4>::Run(n, blocks, xp, x_stride, out, out_stride);
  if (nx == 3) Dot<3>::Run(n, blocks, xp, x_stride, out, out_stride);
  if (nx == 2) Dot<2>::Run(n, blocks, xp, x_stride, out, out_stride);
  if (nx == 1) Dot<1>::Run(n, blocks, xp, x_stride, out, out_stride);
}
template <int NX>
struct Q4_Kx16 {
  static void Run(int64_t n, const BlockQ4_Kx16* w, const uint8_t* x, uint64_t xs, float* out, int64_t os) {
    DotQ4_Kx16<NX>(n, w, x, xs, out, os);
  }
};
template <int NX>
struct Q6_Kx16 {
  static void Run(int64_t n, const BlockQ6_Kx16* w, const uint8_t* x, uint64_t xs, float* out, int64_t os) {
    DotQ6_Kx16<NX>(n, w, x, xs, out, os);
  }
};

inline void VecDotInterleavedQ4_K(int64_t n, const void* w, const void* x, uint64_t x_stride, int64_t nx, float* out,
                                  int64_t out_stride) {
  InterleavedTokens<BlockQ4_Kx16, Q4_Kx16>(n, w, x, x_stride, nx, out, out_stride);
}
inline void VecDotInterleavedQ6_K(int64_t n, const void* w, const void* x, uint64_t x_stride, int64_t nx, float* out,
                                  int64_t out_stride) {
  InterleavedTokens<BlockQ6_Kx16, Q6_Kx16>(n, w, x, x_stride, nx, out, out_stride);
}

}  // namespace r1::R1_SIMD_NS::qk
