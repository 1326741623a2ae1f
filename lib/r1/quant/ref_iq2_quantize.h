// r1/quant/ref_iq2_quantize.h — quantizers from f32 into IQ2_XXS, IQ2_XS and IQ2_S.
//
// Each unit of 8 magnitudes is one point of a 2-bit grid (r1/quant/iquant_grid_quantize.h has
// the search): groups of 32 with 256 points for IQ2_XXS, groups of 16 with 512 (IQ2_XS) or 1024
// (IQ2_S) points. XXS and XS keep 7 sign bits per 8 elements (an even count of negatives); IQ2_S
// stores all 8. Weights: with an importance matrix imatrix · sqrt(σ² + x²) (σ² the block's mean
// x², twice that for IQ2_S); without one x² + half the block's mean x², so that the many small
// elements, which these few levels mostly send to the lowest level, still count.
#pragma once

#include <cstdint>
#include <cstring>

#include "r1/quant/iquant_grid_quantize.h"
#include "r1/quant/iquant_grids.h"
#include "r1/quant/ref_common.h"

namespace r1::quant::ref {

// `importance` (n values or null) weighs each column's error, as an importance matrix does.
inline void QuantizeRowIQ2_XXS(const float* x, BlockIQ2_XXS* y, int64_t n, const float* importance = nullptr) {
  const internal::GridQuantizer kType{
      {32, 3, 9, 0.1f, true, true}, internal::Iq2xxsSearch, 1.0f, internal::NullImportance::kOnes, grids::kIq2Levels,
      0.125f};
  internal::QuantizeGridRow(kType, x, y, n, importance, [](const internal::GridBlock& q, BlockIQ2_XXS& b) {
    b.d = q.d;
    for (int g = 0; g < kQK_K / 32; ++g) {
      uint32_t words[2] = {0, static_cast<uint32_t>(q.s[g]) << 28};
      for (int k = 0; k < 4; ++k) {
        words[0] |= static_cast<uint32_t>(q.index[4 * g + k]) << (8 * k);
        words[1] |= static_cast<uint32_t>(q.signs[4 * g + k] & 127) << (7 * k);
      }
      std::memcpy(b.qs + 4 * g, words, sizeof(words));
    }
  });
}

inline void QuantizeRowIQ2_XS(const float* x, BlockIQ2_XS* y, int64_t n, const float* importance = nullptr) {
  const internal::GridQuantizer kType{
      {16, 3, 9, 0.1f, true, false}, internal::Iq2xsSearch, 1.0f, internal::NullImportance::kOnes, grids::kIq2Levels,
      0.125f};
  internal::QuantizeGridRow(kType, x, y, n, importance, [](const internal::GridBlock& q, BlockIQ2_XS& b) {
    b.d = q.d;
    for (int u = 0; u < kQK_K / 8; ++u) b.qs[u] = static_cast<uint16_t>(q.index[u] | (q.signs[u] & 127) << 9);
    for (int g = 0; g < kQK_K / 32; ++g) b.scales[g] = static_cast<uint8_t>(q.s[2 * g] | q.s[2 * g + 1] << 4);
  });
}

inline void QuantizeRowIQ2_S(const float* x, BlockIQ2_S* y, int64_t n, const float* importance = nullptr) {
  const internal::GridQuantizer kType{{16, 3, 9, 0.1f, false, false}, internal::Iq2sSearch, 2.0f,
                                      internal::NullImportance::kSquaresPlusMean, grids::kIq2Levels, 0.125f};
  internal::QuantizeGridRow(kType, x, y, n, importance, [](const internal::GridBlock& q, BlockIQ2_S& b) {
    std::memset(&b, 0, sizeof(b));
    b.d = q.d;
    for (int u = 0; u < kQK_K / 8; ++u) {
      b.qs[u] = static_cast<uint8_t>(q.index[u] & 255);
      b.qh[u / 4] = static_cast<uint8_t>(b.qh[u / 4] | (q.index[u] >> 8) << (2 * (u % 4)));
      b.qs[kQK_K / 8 + u] = q.signs[u];
    }
    for (int g = 0; g < kQK_K / 32; ++g) b.scales[g] = static_cast<uint8_t>(q.s[2 * g] | q.s[2 * g + 1] << 4);
  });
}

}  // namespace r1::quant::ref
