// dot_vnni_impl.h — Q4_0 and Q8_0 weights against Q8_0 activations with AVX-512 VNNI.
//
// vpdpbusd multiplies unsigned by signed bytes, so weights are taken as u = q + o (Q4_0: the
// stored nibble, o = 8; Q8_0: q xor 0x80, o = 128) and Σ q x = Σ u x - o Σ x, where o Σ x comes
// from one more vpdpbusd of the activations alone. The per-block integer sums are exact, so
// results differ from the reference only in the order of the f32 accumulation. The multi-row
// form shares the activation work (load, correction, scale) between rows.
#pragma once

#include <cstdint>
#include <type_traits>

#include "kernels/simd_arch.h"
#include "quant/x86_util_impl.h"
#include "r1/quant/reference.h"

#if defined(R1_SIMD_AVX512VNNI)

namespace r1::R1_SIMD_NS::qk {
namespace vnni {

using quant::BlockQ4_0;
using quant::BlockQ8_0;
using quant::kQK;

// Unsigned weights of one block in the element order of a Q8_0 block's quants.
inline __m256i LoadW(const BlockQ4_0& w) { return UnpackNibbles(w.qs); }
inline __m256i LoadW(const BlockQ8_0& w) { return _mm256_xor_si256(Load256(w.qs), _mm256_set1_epi8(-128)); }

// out[r] = Σ_blocks d_w d_x Σ q_w q_x for kRows rows at `row_bytes` apart. 256-bit registers:
// on the Xeons r1 targets, 512-bit integer multiplies lower the core clock for the whole step.
// Rows go one at a time: a decode step is bound by memory, and interleaving several short rows
// (under 1 KiB each) breaks the one long stream the hardware prefetcher follows (measured
// 1.4x slower with 4 rows).
constexpr int kMaxRows = 1;
template <class Block, int kRows>
inline void DotRowsFixed(int64_t nb, const uint8_t* w, uint64_t row_bytes, const BlockQ8_0* x, float* out) {
  constexpr int kOffset = std::is_same_v<Block, BlockQ4_0> ? 8 : 128;
  const __m256i offset = _mm256_set1_epi8(static_cast<char>(kOffset));
  __m256 acc[kRows];
  const Block* rows[kRows];
  for (int r = 0; r < kRows; ++r) {
    acc[r] = _mm256_setzero_ps();
    rows[r] = reinterpret_cast<const Block*>(w + static_cast<uint64_t>(r) * row_bytes);
  }
  for (int64_t i = 0; i < nb; ++i) {
    const __m256i xq = Load256(x[i].qs);
    const __m256i corr = _mm256_dpbusd_epi32(_mm256_setzero_si256(), offset, xq);
    const float dx = HalfToFloat(x[i].d);
    for (int r = 0; r < kRows; ++r) {
      const Block& b = rows[r][i];
      const __m256i s = _mm256_sub_epi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), LoadW(b), xq), corr);
      acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(HalfToFloat(b.d) * dx), _mm256_cvtepi32_ps(s), acc[r]);
    }
  }
  for (int r = 0; r < kRows; ++r) out[r] = HsumF32(acc[r]);
}

template <class Block>
void DotRows(int64_t n, const void* w, uint64_t row_bytes, int64_t nr, const void* x, float* out) {
  const int64_t nb = n / kQK;
  const auto* xb = static_cast<const BlockQ8_0*>(x);
  const auto* wb = static_cast<const uint8_t*>(w);
  int64_t r = 0;
  for (; r + kMaxRows <= nr; r += kMaxRows) {
    DotRowsFixed<Block, kMaxRows>(nb, wb + static_cast<uint64_t>(r) * row_bytes, row_bytes, xb, out + r);
  }
  for (; r < nr; ++r) DotRowsFixed<Block, 1>(nb, wb + static_cast<uint64_t>(r) * row_bytes, row_bytes, xb, out + r);
}

template <class Block>
float Dot(int64_t n, const void* w, const void* x) {
  float out;
  DotRowsFixed<Block, 1>(n / kQK, static_cast<const uint8_t*>(w), 0, static_cast<const BlockQ8_0*>(x), &out);
  return out;
}

}  // namespace vnni

inline float VecDotQ4_0Vnni(int64_t n, const void* w, const void* x) { return vnni::Dot<quant::BlockQ4_0>(n, w, x); }
inline float VecDotQ8_0Vnni(int64_t n, const void* w, const void* x) { return vnni::Dot<quant::BlockQ8_0>(n, w, x); }
inline void VecDotRowsQ4_0Vnni(int64_t n, const void* w, uint64_t row_bytes, int64_t nr, const void* x, float* out) {
  vnni::DotRows<quant::BlockQ4_0>(n, w, row_bytes, nr, x, out);
}
inline void VecDotRowsQ8_0Vnni(int64_t n, const void* w, uint64_t row_bytes, int64_t nr, const void* x, float* out) {
  vnni::DotRows<quant::BlockQ8_0>(n, w, row_bytes, nr, x, out);
}

}  // namespace r1::R1_SIMD_NS::qk

#endif  // R1_SIMD_AVX512VNNI
