// int8_gemm_vnni_impl.h — the INT8 prompt GEMM on AVX-512 VNNI (layout in int8_panel.h).
//
// A tile is 1 or 2 panels (16 or 32 weight rows) x 4 token rows. Per 4 elements: one 64-byte
// load of each panel's quants, one 4-byte broadcast of each token's quants and one vpdpbusd
// per (panel, token) into 32-bit sums; at the end of each sub-block the sums are scaled by a
// (plus c Σ xq) and at the end of each activation block by dx into f32 accumulators. The panels (at most 2 x 16 x k bytes) stay in L2 while all
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

// kSym: the format is symmetric (weight = a (u - z)), so the integer sums start at -z Σ xq and
// the offsets c are not read. Sub-blocks of 16 come with one activation scale per 256 elements:
// their 16 sub-block sums are scaled by a alone and by dx once per 256.
template <int kPanels, int kTokens, int kSub, bool kSym>
inline void Tile(const uint8_t* panels, size_t panel_bytes, const Int8Activations& x, int zero_point, int64_t t0,
                 float* y, int64_t ldy, __mmask16 last_mask) {
  constexpr int kActBlock = kSub == 16 ? 256 : 32;
  constexpr int kSubsPerAct = kActBlock / kSub;
  const int64_t k = x.k, n_sub = k / kSub, n_act = k / kActBlock;
  const uint8_t* u[kPanels];
  const float* a[kPanels];
  const float* c[kPanels];
  for (int p = 0; p < kPanels; ++p) {
    const Int8PanelParts panel(panels + static_cast<size_t>(p) * panel_bytes, k, kSub);
    u[p] = panel.u, a[p] = panel.a, c[p] = panel.c;
  }
  const int8_t* xq[kTokens];
  const int32_t* xsum[kTokens];
  for (int t = 0; t < kTokens; ++t) {
    xq[t] = x.q + (t0 + t) * k;
    xsum[t] = x.sum + (t0 + t) * n_sub;
  }
  __m512 f[kPanels][kTokens];
  for (int p = 0; p < kPanels; ++p) {
    for (int t = 0; t < kTokens; ++t) f[p][t] = _mm512_setzero_ps();
  }
  for (int64_t ab = 0; ab < n_act; ++ab) {
    __m512 part[kPanels][kTokens];  // Σ over this activation block's sub-blocks, before dx
    for (int gi = 0; gi < kSubsPerAct; ++gi) {
      const int64_t g = ab * kSubsPerAct + gi, k0 = g * kSub;
      __m512i acc[kPanels][kTokens];
      for (int t = 0; t < kTokens; ++t) {
        const __m512i init = kSym ? _mm512_set1_epi32(-zero_point * xsum[t][g]) : _mm512_setzero_si512();
        for (int p = 0; p < kPanels; ++p) acc[p][t] = init;
      }
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
      for (int p = 0; p < kPanels; ++p) {
        const __m512 av = _mm512_loadu_ps(a[p] + g * kPanelRows);
        for (int t = 0; t < kTokens; ++t) {
          const __m512 sum = _mm512_cvtepi32_ps(acc[p][t]);
          part[p][t] = gi == 0 ? _mm512_mul_ps(sum, av) : _mm512_fmadd_ps(sum, av, part[p][t]);
        }
        if constexpr (!kSym) {
          const __m512 cv = _mm512_loadu_ps(c[p] + g * kPanelRows);
          for (int t = 0; t < kTokens; ++t) {
            part[p][t] = _mm512_fmadd_ps(cv, _mm512_set1_ps(static_cast<float>(xsum[t][g])), part[p][t]);
          }
        }
      }
    }
    for (int t = 0; t < kTokens; ++t) {
      const __m512 dx = _mm512_set1_ps(x.d[(t0 + t) * n_act + ab]);
      for (int p = 0; p < kPanels; ++p) f[p][t] = _mm512_fmadd_ps(part[p][t], dx, f[p][t]);
    }
  }
  for (int t = 0; t < kTokens; ++t) {
    float* yt = y + (t0 + t) * ldy;
    for (int p = 0; p + 1 < kPanels; ++p) _mm512_storeu_ps(yt + p * kPanelRows, f[p][t]);
    _mm512_mask_storeu_ps(yt + (kPanels - 1) * kPanelRows, last_mask, f[kPanels - 1][t]);
  }
}

template <int kPanels, int kSub, bool kSym>
inline void AllTokens(const uint8_t* panels, const Int8Activations& x, int zero_point, int64_t n_tokens, float* y,
                      int64_t ldy, __mmask16 last_mask) {
  const size_t panel_bytes = Int8PanelBytes(x.k, kSub);
  int64_t t = 0;
  for (; t + 4 <= n_tokens; t += 4) Tile<kPanels, 4, kSub, kSym>(panels, panel_bytes, x, zero_point, t, y, ldy, last_mask);
  switch (n_tokens - t) {
    case 3: Tile<kPanels, 3, kSub, kSym>(panels, panel_bytes, x, zero_point, t, y, ldy, last_mask); break;
    case 2: Tile<kPanels, 2, kSub, kSym>(panels, panel_bytes, x, zero_point, t, y, ldy, last_mask); break;
    case 1: Tile<kPanels, 1, kSub, kSym>(panels, panel_bytes, x, zero_point, t, y, ldy, last_mask); break;
    default: break;
  }
}

template <int kSub, bool kSym>
inline void ByRows(const uint8_t* panels, int nr, const Int8Activations& x, int zero_point, int64_t n_tokens,
                   float* y, int64_t ldy) {
  const int last_rows = (nr - 1) % kPanelRows + 1;
  const __mmask16 last_mask = static_cast<__mmask16>((1u << last_rows) - 1);
  if (nr > kPanelRows) {
    AllTokens<2, kSub, kSym>(panels, x, zero_point, n_tokens, y, ldy, last_mask);
  } else {
    AllTokens<1, kSub, kSym>(panels, x, zero_point, n_tokens, y, ldy, last_mask);
  }
}

}  // namespace int8gemm

// As Int8PanelGemmRef; zero_point as Int8PanelZeroPoint of the panels' format.
inline void Int8PanelGemmVnni(const uint8_t* panels, int nr, const Int8Activations& x, int zero_point,
                              int64_t n_tokens, float* y, int64_t ldy) {
  const bool sym = zero_point != 0;
  if (x.sub == 16) {
    sym ? int8gemm::ByRows<16, true>(panels, nr, x, zero_point, n_tokens, y, ldy)
        : int8gemm::ByRows<16, false>(panels, nr, x, zero_point, n_tokens, y, ldy);
  } else {
    sym ? int8gemm::ByRows<32, true>(panels, nr, x, zero_point, n_tokens, y, ldy)
        : int8gemm::ByRows<32, false>(panels, nr, x, zero_point, n_tokens, y, ldy);
  }
}

// As QuantizeInt8ActivationsRef, bit for bit (same scale, same rounding, same sums).
inline void QuantizeInt8ActivationsAvx512(const float* x, int64_t k, int sub, int8_t* q, float* d, int32_t* sum) {
  const int block = Int8ActBlock(sub);
  const __m512 abs_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
  for (int64_t b = 0; b < k / block; ++b) {
    const float* xb = x + b * block;
    __m512 m = _mm512_setzero_ps();
    for (int j = 0; j < block; j += 16) m = _mm512_max_ps(m, _mm512_and_ps(_mm512_loadu_ps(xb + j), abs_mask));
    const float amax = _mm512_reduce_max_ps(m);
    const float db = amax / 127.0f;
    const float id = db != 0.0f ? 1.0f / db : 0.0f;
    d[b] = db;
    for (int j = 0; j < block; j += 16) {
      const __m512i qi = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(xb + j), _mm512_set1_ps(id)));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q + b * block + j), _mm512_cvtsepi32_epi8(qi));
      const int32_t s16 = _mm512_reduce_add_epi32(qi);
      const int64_t g = (b * block + j) / sub;
      if (sub == 16 || j % 32 == 0) {
        sum[g] = s16;
      } else {
        sum[g] += s16;
      }
    }
  }
}

}  // namespace r1::R1_SIMD_NS::qk

#endif  // R1_SIMD_AVX512VNNI
