// dot_vnni_impl.h — Q4_0 weights against Q8_0 activations with AVX-512 VNNI.
//
// vpdpbusd multiplies unsigned by signed bytes, so the weights are taken as the stored nibbles
// u = q + 8 and Σ q x = Σ u x - 8 Σ x. The activation terms (d_x and 128 Σ x per block, see
// LoadW) are the same for every weight row, so they are computed once per call. Blocks go eight
// at a time: their eight integer sums are gathered into one register and scaled together,
// which takes a third of the instructions of scaling each block alone (a core is bound by
// instructions here, not by memory). The per-block integer sums are exact, so results differ
// from the reference only in the order of the f32 accumulation.
//
// Q8_0 weights keep the AVX2-width kernel (dot_legacy_impl.h) under VNNI too: this scheme was
// faster from cache but measured ~15% slower in decode from memory (2 threads, 1.5B shape).
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/simd_arch.h"
#include "quant/x86_util_impl.h"
#include "r1/quant/reference.h"

#if defined(R1_SIMD_AVX512VNNI)

namespace r1::R1_SIMD_NS::qk {
namespace vnni {

using quant::BlockQ4_0;
using quant::BlockQ8_0;
using quant::kQK;

// The block's 16 bytes read twice: the low nibbles u in the low half, and the high nibbles,
// left where they are (16 u), in the high half; one vpdpbusd with the 32 activation bytes then
// gives the block's partial sums. Shifting the low half's sums up by kLowShift evens the halves
// out, so every block sum is T = 16 Σ u x, and Σ q x = (T - 128 Σ x) / 16.
inline __m256i LoadW(const BlockQ4_0& w) {
  const __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w.qs)));
  return _mm256_and_si256(v, _mm256_setr_epi64x(0x0f0f0f0f0f0f0f0f, 0x0f0f0f0f0f0f0f0f,
                                                static_cast<long long>(0xf0f0f0f0f0f0f0f0ull),
                                                static_cast<long long>(0xf0f0f0f0f0f0f0f0ull)));
}
constexpr int kLowShift = 4;
constexpr float kSumScale = 1.0f / 16;

// Blocks whose activation terms are prepared in one pass: 8,192 values, 2 KiB of stack.
constexpr int64_t kChunk = 256;

struct ActTerms {
  float d[kChunk];        // d_x kSumScale
  int32_t corr[kChunk];   // 128 Σ x
};

inline void PrepareActs(const BlockQ8_0* x, int64_t nb, ActTerms& t) {
  const __m256i offset = _mm256_set1_epi8(static_cast<char>(128));
  for (int64_t i = 0; i < nb; ++i) {
    t.d[i] = HalfToFloat(x[i].d) * kSumScale;
    t.corr[i] = HsumI32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), offset, Load256(x[i].qs)));
  }
}

// [T0, ..., T7]: the block sums of eight registers of vpdpbusd lanes, low halves shifted up by
// kLowShift. Unpacks and adds, one micro-op each (horizontal adds cost three); the two 128-bit
// halves meet only in the last add, which is where the shift goes.
inline __m256i LaneSums8(const __m256i p[8]) {
  __m256i t[4];
  for (int k = 0; k < 4; ++k) {
    t[k] = _mm256_add_epi32(_mm256_unpacklo_epi32(p[2 * k], p[2 * k + 1]), _mm256_unpackhi_epi32(p[2 * k], p[2 * k + 1]));
  }
  const __m256i u0 = _mm256_add_epi32(_mm256_unpacklo_epi64(t[0], t[1]), _mm256_unpackhi_epi64(t[0], t[1]));
  const __m256i u1 = _mm256_add_epi32(_mm256_unpacklo_epi64(t[2], t[3]), _mm256_unpackhi_epi64(t[2], t[3]));
  return _mm256_add_epi32(_mm256_slli_epi32(_mm256_permute2x128_si256(u0, u1, 0x20), kLowShift),
                          _mm256_permute2x128_si256(u0, u1, 0x31));
}

// T of one block (the tail of a row).
inline int32_t BlockSum(const BlockQ4_0& w, const BlockQ8_0& x) {
  const __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), LoadW(w), Load256(x.qs));
  return HsumI32(_mm256_sllv_epi32(p, _mm256_setr_epi32(kLowShift, kLowShift, kLowShift, kLowShift, 0, 0, 0, 0)));
}

// The f16 scales of eight consecutive blocks as f32. Eight scalar loads: a vpgatherdd measured
// slower (from cache 21 vs 23-26 GB/s).
inline __m256 WeightScales8(const BlockQ4_0* w) {
  return _mm256_cvtph_ps(_mm_setr_epi16(static_cast<short>(w[0].d), static_cast<short>(w[1].d),
                                        static_cast<short>(w[2].d), static_cast<short>(w[3].d),
                                        static_cast<short>(w[4].d), static_cast<short>(w[5].d),
                                        static_cast<short>(w[6].d), static_cast<short>(w[7].d)));
}

// Σ over blocks [0, nb) of one row, with the activation terms of those blocks. One row at a
// time: taking two or four rows per activation load measured no faster from cache and ~1.8x
// slower from memory (short rows read side by side break the prefetcher's streams).
inline float RowDot(const BlockQ4_0* w, const BlockQ8_0* x, const ActTerms& t, int64_t nb) {
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= nb; i += 8) {
    __m256i p[8];
    for (int j = 0; j < 8; ++j) {
      p[j] = _mm256_dpbusd_epi32(_mm256_setzero_si256(), LoadW(w[i + j]), Load256(x[i + j].qs));
    }
    const __m256i corr = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t.corr + i));
    const __m256 d = _mm256_mul_ps(WeightScales8(w + i), _mm256_loadu_ps(t.d + i));
    acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(_mm256_sub_epi32(LaneSums8(p), corr)), acc);
  }
  float tail = 0.0f;
  for (; i < nb; ++i) {
    const int32_t s = BlockSum(w[i], x[i]) - t.corr[i];
    tail += HalfToFloat(w[i].d) * t.d[i] * static_cast<float>(s);
  }
  return HsumF32(acc) + tail;
}

inline void DotRows(int64_t n, const void* w, uint64_t row_bytes, int64_t nr, const void* x, float* out) {
  const int64_t nb = n / kQK;
  const auto* xb = static_cast<const BlockQ8_0*>(x);
  const auto* wb = static_cast<const uint8_t*>(w);
  ActTerms terms;
  for (int64_t r = 0; r < nr; ++r) out[r] = 0.0f;
  for (int64_t c = 0; c < nb; c += kChunk) {
    const int64_t cn = std::min(kChunk, nb - c);
    PrepareActs(xb + c, cn, terms);
    for (int64_t r = 0; r < nr; ++r) {
      const auto* row = reinterpret_cast<const BlockQ4_0*>(wb + static_cast<uint64_t>(r) * row_bytes);
      out[r] += RowDot(row + c, xb + c, terms, cn);
    }
  }
}

}  // namespace vnni

inline float VecDotQ4_0Vnni(int64_t n, const void* w, const void* x) {
  float out;
  vnni::DotRows(n, w, 0, 1, x, &out);
  return out;
}
inline void VecDotRowsQ4_0Vnni(int64_t n, const void* w, uint64_t row_bytes, int64_t nr, const void* x, float* out) {
  vnni::DotRows(n, w, row_bytes, nr, x, out);
}

}  // namespace r1::R1_SIMD_NS::qk

#endif  // R1_SIMD_AVX512VNNI
