// int8_gemm_vnni_impl.h — the INT8 prompt GEMM on AVX-512 VNNI (layout in int8_panel.h).
//
// A tile is 1 or 2 panels (16 or 32 weight rows) x 4 token rows. Per 4 elements: one 64-byte
// load of each panel's quants, one 4-byte broadcast of each token's quants and one vpdpbusd
// per (panel, token) into 32-bit sums; at the end of each sub-block the sums are scaled into
// f32 accumulators (a dx Σ + c sx). The panels (at most 2 x 16 x k bytes) stay in L2 while all
// token rows pass; Intrinsics throughout, since xsimd 8.1 has no VNNI.
#pragma once

#include <cstdint>
#include <cstring>

#include "kernels/simd_arch.h"
#include "quant/int8_panel.h"

#if defined(R1_SIMD_AVX512VNNI)
#include <immintrin.h>

namespace r1::R1_SIMD_NS::qk {
namespace int8gemm {

template <int kPanels, int kTokens, int kSub>
inline void Tile(const uint8_t* panels, size_t panel_bytes, const Int8Activations& x, int64_t t0, float* y,
                 int64_t ldy, __mmask16 last_mask) {
  const int64_t k = x.k, n_sub = k / kSub, n_act = k / kInt8ActBlock;
  const uint8_t* u[kPanels];
  const float* a[kPanels];
  const float* c[kPanels];
  for (int p = 0; p < kPanels; ++p) {
    u[p] = panels + static_cast<size_t>(p) * panel_bytes;
    a[p] = reinterpret_cast<const float*>(u[p] + k * kPanelRows);
    c[p] = a[p] + n_sub * kPanelRows;
  }
  const int8_t* xq[kTokens];
  for (int t = 0; t < kTokens; ++t) xq[t] = x.q + (t0 + t) * k;
  __m512 f[kPanels][kTokens];
  for (int p = 0; p < kPanels; ++p) {
    for (int t = 0; t < kTokens; ++t) f[p][t] = _mm512_setzero_ps();
  }
  for (int64_t g = 0; g < n_sub; ++g) {
    __m512i acc[kPanels][kTokens];
    for (int p = 0; p < kPanels; ++p) {
      for (int t = 0; t < kTokens; ++t) acc[p][t] = _mm512_setzero_si512();
    }
    const int64_t k0 = g * kSub;
    for (int s = 0; s < kSub / 4; ++s) {
      const int64_t kk = k0 + 4 * s;
      __m512i w[kPanels];
      for (int p = 0; p < kPanels; ++p) w[p] = _mm512_loadu_si512(u[p] + kk * kPanelRows);
      for (int t = 0; t < kTokens; ++t) {
        int32_t four;
        std::memcpy(&four, xq[t] + kk, sizeof(four));
        const __m512i xb = _mm512_set1_epi32(four);
        for (int p = 0; p < kPanels; ++p) acc[p][t] = _mm512_dpbusd_epi32(acc[p][t], w[p], xb);
      }
    }
    __m512 av[kPanels], cv[kPanels];
    for (int p = 0; p < kPanels; ++p) {
      av[p] = _mm512_loadu_ps(a[p] + g * kPanelRows);
      cv[p] = _mm512_loadu_ps(c[p] + g * kPanelRows);
    }
    for (int t = 0; t < kTokens; ++t) {
      const __m512 dx = _mm512_set1_ps(x.d[(t0 + t) * n_act + k0 / kInt8ActBlock]);
      const __m512 sx = _mm512_set1_ps(x.s[(t0 + t) * n_sub + g]);
      for (int p = 0; p < kPanels; ++p) {
        f[p][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[p][t]), _mm512_mul_ps(av[p], dx), f[p][t]);
        f[p][t] = _mm512_fmadd_ps(cv[p], sx, f[p][t]);
      }
    }
  }
  for (int t = 0; t < kTokens; ++t) {
    float* yt = y + (t0 + t) * ldy;
    for (int p = 0; p + 1 < kPanels; ++p) _mm512_storeu_ps(yt + p * kPanelRows, f[p][t]);
    _mm512_mask_storeu_ps(yt + (kPanels - 1) * kPanelRows, last_mask, f[kPanels - 1][t]);
  }
}

template <int kPanels, int kSub>
inline void AllTokens(const uint8_t* panels, const Int8Activations& x, int64_t n_tokens, float* y, int64_t ldy,
                      __mmask16 last_mask) {
  const size_t panel_bytes = Int8PanelBytes(x.k, kSub);
  int64_t t = 0;
  for (; t + 4 <= n_tokens; t += 4) Tile<kPanels, 4, kSub>(panels, panel_bytes, x, t, y, ldy, last_mask);
  switch (n_tokens - t) {
    case 3: Tile<kPanels, 3, kSub>(panels, panel_bytes, x, t, y, ldy, last_mask); break;
    case 2: Tile<kPanels, 2, kSub>(panels, panel_bytes, x, t, y, ldy, last_mask); break;
    case 1: Tile<kPanels, 1, kSub>(panels, panel_bytes, x, t, y, ldy, last_mask); break;
    default: break;
  }
}

}  // namespace int8gemm

// As Int8PanelGemmRef.
inline void Int8PanelGemmVnni(const uint8_t* panels, int nr, const Int8Activations& x, int64_t n_tokens, float* y,
                              int64_t ldy) {
  const int last_rows = (nr - 1) % kPanelRows + 1;
  const __mmask16 last_mask = static_cast<__mmask16>((1u << last_rows) - 1);
  const bool two = nr > kPanelRows;
  if (x.sub == 16) {
    two ? int8gemm::AllTokens<2, 16>(panels, x, n_tokens, y, ldy, last_mask)
        : int8gemm::AllTokens<1, 16>(panels, x, n_tokens, y, ldy, last_mask);
  } else {
    two ? int8gemm::AllTokens<2, 32>(panels, x, n_tokens, y, ldy, last_mask)
        : int8gemm::AllTokens<1, 32>(panels, x, n_tokens, y, ldy, last_mask);
  }
}

// As QuantizeInt8ActivationsRef, bit for bit (same scale, same rounding, same sums).
inline void QuantizeInt8ActivationsAvx512(const float* x, int64_t k, int sub, int8_t* q, float* d, float* s) {
  const __m512 abs_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
  for (int64_t b = 0; b < k / kInt8ActBlock; ++b) {
    const __m512 v0 = _mm512_loadu_ps(x + b * kInt8ActBlock);
    const __m512 v1 = _mm512_loadu_ps(x + b * kInt8ActBlock + 16);
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_and_ps(v0, abs_mask), _mm512_and_ps(v1, abs_mask)));
    const float db = amax / 127.0f;
    const float id = db != 0.0f ? 1.0f / db : 0.0f;
    const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, _mm512_set1_ps(id)));
    const __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, _mm512_set1_ps(id)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + b * kInt8ActBlock), _mm512_cvtsepi32_epi8(q0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + b * kInt8ActBlock + 16), _mm512_cvtsepi32_epi8(q1));
    d[b] = db;
    if (sub == 32) {
      s[b] = db * static_cast<float>(_mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1)));
    } else {
      s[2 * b] = db * static_cast<float>(_mm512_reduce_add_epi32(q0));
      s[2 * b + 1] = db * static_cast<float>(_mm512_reduce_add_epi32(q1));
    }
  }
}

}  // namespace r1::R1_SIMD_NS::qk

#endif  // R1_SIMD_AVX512VNNI
