// r1/quant/ref_iq3_quantize.h — quantizers from f32 into IQ3_XXS and IQ3_S.
//
// Groups of 32, each unit of 4 magnitudes one point of the 3-bit grid (r1/quant/
// iquant_grid_quantize.h has the search). IQ3_XXS keeps 7 sign bits per 8 elements, so each 8
// has an even count of negatives; IQ3_S stores all 8 and has a grid twice as large. Weights: x²
// without an importance matrix, imatrix · sqrt(σ² + x²) with one (σ² twice the block's mean x²).
#pragma once

#include <cstdint>
#include <cstring>

#include "r1/quant/iquant_grid_quantize.h"
#include "r1/quant/iquant_grids.h"
#include "r1/quant/ref_common.h"

namespace r1::quant::ref {

// `importance` (n values or null) weighs each column's error, as an importance matrix does.
inline void QuantizeRowIQ3_XXS(const float* x, BlockIQ3_XXS* y, int64_t n, const float* importance = nullptr) {
  const internal::GridQuantizer kType{{32, 8, 15, 0.2f, true, false}, internal::Iq3xxsSearch, 2.0f,
                                      internal::NullImportance::kSquares, grids::kIq3xxsLevels, 0.25f};
  internal::QuantizeGridRow(kType, x, y, n, importance, [](const internal::GridBlock& q, BlockIQ3_XXS& b) {
    b.d = q.d;
    for (int u = 0; u < kQK_K / 4; ++u) b.qs[u] = static_cast<uint8_t>(q.index[u]);
    for (int g = 0; g < kQK_K / 32; ++g) {
      uint32_t word = static_cast<uint32_t>(q.s[g]) << 28;
      for (int k = 0; k < 4; ++k) word |= static_cast<uint32_t>(q.signs[4 * g + k] & 127) << (7 * k);
      std::memcpy(b.qs + kQK_K / 4 + 4 * g, &word, sizeof(word));
    }
  });
}

inline void QuantizeRowIQ3_S(const float* x, BlockIQ3_S* y, int64_t n, const float* importance = nullptr) {
  const internal::GridQuantizer kType{{32, 8, 9, 0.2f, false, true}, internal::Iq3sSearch, 2.0f,
                                      internal::NullImportance::kSquares, grids::kIq3sLevels, 1.0f};
  internal::QuantizeGridRow(kType, x, y, n, importance, [](const internal::GridBlock& q, BlockIQ3_S& b) {
    std::memset(&b, 0, sizeof(b));
    b.d = q.d;
    for (int u = 0; u < kQK_K / 4; ++u) {
      b.qs[u] = static_cast<uint8_t>(q.index[u] & 255);
      b.qh[u / 8] = static_cast<uint8_t>(b.qh[u / 8] | (q.index[u] >> 8) << (u % 8));
    }
    std::memcpy(b.signs, q.signs, sizeof(b.signs));
    for (int g = 0; g < kQK_K / 32; ++g)
      b.scales[g / 2] = static_cast<uint8_t>(b.scales[g / 2] | q.s[g] << (4 * (g % 2)));
  });
}

}  // namespace r1::quant::ref
