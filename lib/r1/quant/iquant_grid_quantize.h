// r1/quant/iquant_grid_quantize.h — the search shared by the IQ2 and IQ3 quantizers.
//
// These formats store, per group of 16 or 32 elements, a 4-bit scale s, signs, and for each unit
// of 4 or 8 magnitudes one grid point whose elements are level numbers l standing for 2 l + 1
// (times a per-type constant). A group's magnitudes are matched by trying inverse scales around
// the one that maps the largest magnitude onto the top level: each element is rounded to its
// level, a unit off the grid goes to its best neighbouring grid point, and the least-squares
// scale of the try that removes the most weighted error wins. The block's f16 scale d and the
// group scales s (group scale ≈ d (2 s + 1)) are then fitted to the decoded values.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

#include "r1/quant/iquant_grid_search.h"
#include "r1/quant/ref_common.h"

namespace r1::quant::ref::internal {

struct GridGroupSpec {
  int size;    // elements per group: 16 or 32
  int levels;  // level numbers 0 .. levels - 1
  int tries;   // inverse scales (2 levels - 1 + k step) / max for |k| <= tries
  float step;
  bool even_signs;  // sign bytes must hold an even number of negatives (7 bits stored)
  bool refit_all;   // after the search re-round every unit at the final scale, not only off-grid ones
};

// What stands in for an importance matrix that is not given.
enum class NullImportance {
  kSquares,          // w = x²
  kSquaresPlusMean,  // w = x² + half the block's mean x²
  kOnes,             // as an importance matrix of ones
};

// The weight of each element of a 256-block: with an importance matrix imatrix · sqrt(σ² + x²),
// σ² = sigma_factor · mean(x²); without, as `fallback` says.
inline void GridBlockWeights(const float* x, const float* importance, float sigma_factor, NullImportance fallback,
                             float* w) {
  float sum_x2 = 0.0f;
  for (int j = 0; j < kQK_K; ++j) sum_x2 += x[j] * x[j];
  const float mean_x2 = sum_x2 / kQK_K;
  if (importance != nullptr || fallback == NullImportance::kOnes) {
    const float sigma2 = sigma_factor * mean_x2;
    for (int j = 0; j < kQK_K; ++j) w[j] = (importance ? importance[j] : 1.0f) * std::sqrt(sigma2 + x[j] * x[j]);
  } else {
    const float floor = fallback == NullImportance::kSquaresPlusMean ? 0.5f * mean_x2 : 0.0f;
    for (int j = 0; j < kQK_K; ++j) w[j] = x[j] * x[j] + floor;
  }
}

// Splits a group into magnitudes and sign bytes (bit e set: element e of the 8 is negative). With
// even signs, a byte with an odd count gets the element that matters least (least w x²) counted
// as positive: its magnitude becomes -|x|, which the search then fits as well as it can.
inline void SplitSigns(const float* x, const float* w, int n, bool even_signs, float* mag, uint8_t* signs) {
  for (int b = 0; b < n / 8; ++b) {
    uint8_t s = 0;
    for (int e = 0; e < 8; ++e) {
      const int j = 8 * b + e;
      mag[j] = std::fabs(x[j]);
      if (x[j] < 0.0f) s = static_cast<uint8_t>(s | 1 << e);
    }
    if (even_signs && std::popcount(s) % 2 != 0) {
      int least = 8 * b;
      for (int j = 8 * b + 1; j < 8 * b + 8; ++j) {
        if (w[j] * x[j] * x[j] < w[least] * x[least] * x[least]) least = j;
      }
      mag[least] = -mag[least];
      s = static_cast<uint8_t>(s ^ 1 << (least - 8 * b));
    }
    signs[b] = s;
  }
}

// Rounds the magnitudes of every unit (only those with only_off_grid false, when given) to grid
// points at `scale`; level numbers go to l, whether each unit's rounding was on the grid to
// on_grid_out. pick_w weighs the choice among neighbours.
inline void RoundToGrid(const GridSearch& gs, const GridGroupSpec& spec, const float* mag, const float* pick_w,
                        float scale, int8_t* l, const bool* only_off_grid, bool* on_grid_out) {
  const float inv = 1.0f / scale;
  const int unit = gs.unit();
  for (int u = 0; u < spec.size / unit; ++u) {
    if (only_off_grid != nullptr && only_off_grid[u]) continue;
    int8_t* lu = l + unit * u;
    for (int e = 0; e < unit; ++e) {
      lu[e] = static_cast<int8_t>(std::clamp(NearestInt(0.5f * (inv * mag[unit * u + e] - 1.0f)), 0, spec.levels - 1));
    }
    if (on_grid_out != nullptr) on_grid_out[u] = gs.IndexOf(lu) >= 0;
    gs.Nearest(lu, mag + unit * u, pick_w + unit * u, scale);
  }
}

// Σ w m q and Σ w q² with q = 2 l + 1: the least-squares scale is their ratio.
inline void LevelSums(const float* mag, const float* w, const int8_t* l, int n, float& sum_qx, float& sum_q2) {
  sum_qx = sum_q2 = 0.0f;
  for (int j = 0; j < n; ++j) {
    const float q = static_cast<float>(2 * l[j] + 1);
    sum_qx += w[j] * mag[j] * q;
    sum_q2 += w[j] * q * q;
  }
}

// One group of spec.size elements: returns its scale (>= 0, in units of 2 l + 1) and writes the
// grid index of each unit and the sign byte of each 8 elements.
inline float QuantizeGridGroup(const float* x, const float* w, const GridSearch& gs, const GridGroupSpec& spec,
                               int* index, uint8_t* signs) {
  float mag[32], pick_w[32];
  int8_t l[32] = {}, trial[32];
  bool on_grid[8], trial_on_grid[8];
  const int units = spec.size / gs.unit();
  SplitSigns(x, w, spec.size, spec.even_signs, mag, signs);
  // Neighbours are picked with the softer weights √w: with w ∝ x² that spreads the error less
  // onto the small elements, which lowers the plain squared error of the result.
  for (int j = 0; j < spec.size; ++j) pick_w[j] = std::sqrt(w[j]);
  const float max = *std::max_element(mag, mag + spec.size);
  float scale = 0.0f;
  if (max > 1e-15f) {
    const float top = static_cast<float>(2 * spec.levels - 1);
    scale = max / top;
    std::fill(on_grid, on_grid + units, true);
    float best = 0.0f;
    for (int k = -spec.tries; k <= spec.tries; ++k) {
      const float trial_scale = max / (top + static_cast<float>(k) * spec.step);
      RoundToGrid(gs, spec, mag, pick_w, trial_scale, trial, nullptr, trial_on_grid);
      float sum_qx, sum_q2;
      LevelSums(mag, w, trial, spec.size, sum_qx, sum_q2);
      if (sum_q2 > 0.0f && sum_qx * sum_qx > best * sum_q2) {
        scale = sum_qx / sum_q2;
        best = scale * sum_qx;
        std::copy(trial, trial + spec.size, l);
        std::copy(trial_on_grid, trial_on_grid + units, on_grid);
      }
    }
    // Units that left the grid were placed for their try's scale; place them again at the
    // chosen one and refit it.
    if (scale > 0.0f && (spec.refit_all || std::find(on_grid, on_grid + units, false) != on_grid + units)) {
      RoundToGrid(gs, spec, mag, pick_w, scale, l, spec.refit_all ? nullptr : on_grid, nullptr);
      float sum_qx, sum_q2;
      LevelSums(mag, w, l, spec.size, sum_qx, sum_q2);
      if (sum_q2 > 0.0f) scale = sum_qx / sum_q2;
    }
    if (scale < 0.0f) {  // only with flipped signs dominating: negate everything (8 flips keep parity)
      scale = -scale;
      for (int b = 0; b < spec.size / 8; ++b) signs[b] = static_cast<uint8_t>(~signs[b]);
    }
  }
  for (int u = 0; u < units; ++u) {
    index[u] = gs.IndexOf(l + gs.unit() * u);
    if (index[u] < 0) index[u] = gs.Nearest(l + gs.unit() * u, mag + gs.unit() * u, pick_w + gs.unit() * u, 0.0f);
  }
  return scale;
}

// The f16 block scale d and the group scales s in [0, max_s] for decoded values
// d (2 s + 1) a[j] in groups of group_size, given each group's own best scale: s from a trial d
// (first the one putting the largest group scale at max_s), then the least-squares d for those s;
// a few rounds, keeping the least weighted error.
inline uint16_t FitBlockScale(const float* x, const float* w, const float* a, const float* group_scale, int group_size,
                              int max_s, int* s_out) {
  const int groups = kQK_K / group_size;
  const float max_scale = *std::max_element(group_scale, group_scale + groups);
  std::fill(s_out, s_out + groups, 0);
  if (!(max_scale > 0.0f)) return 0;
  float d = max_scale / static_cast<float>(2 * max_s + 1), best_err = 0.0f;
  uint16_t best_d = 0;
  bool have_best = false;
  for (int round = 0; round < 3 && d > 0.0f && std::isfinite(d); ++round) {
    int s[kQK_K / 8];
    double sum_xa = 0.0, sum_a2 = 0.0;
    for (int g = 0; g < groups; ++g) {
      s[g] = std::clamp(NearestInt(0.5f * (group_scale[g] / d - 1.0f)), 0, max_s);
      const float f = static_cast<float>(2 * s[g] + 1);
      for (int j = group_size * g; j < group_size * (g + 1); ++j) {
        sum_xa += static_cast<double>(w[j]) * x[j] * f * a[j];
        sum_a2 += static_cast<double>(w[j]) * f * a[j] * f * a[j];
      }
    }
    if (!(sum_xa > 0.0 && sum_a2 > 0.0)) break;
    const uint16_t dh = F32ToF16(std::min(static_cast<float>(sum_xa / sum_a2), 65504.0f));
    const float dq = F16ToF32(dh);
    float err = 0.0f;
    for (int j = 0; j < kQK_K; ++j) {
      const float diff = x[j] - dq * static_cast<float>(2 * s[j / group_size] + 1) * a[j];
      err += w[j] * diff * diff;
    }
    if (!have_best || err < best_err) {
      have_best = true;
      best_err = err;
      best_d = dh;
      std::copy(s, s + groups, s_out);
    }
    d = static_cast<float>(sum_xa / sum_a2);
  }
  if (!have_best) {  // degenerate weights: the plain estimate
    best_d = F32ToF16(max_scale / static_cast<float>(2 * max_s + 1));
    const float dq = F16ToF32(best_d);
    for (int g = 0; g < groups; ++g) {
      s_out[g] = dq > 0.0f ? std::clamp(NearestInt(0.5f * (group_scale[g] / dq - 1.0f)), 0, max_s) : 0;
    }
  }
  return best_d;
}

// A quantized 256-block before packing.
struct GridBlock {
  float group_scale[16];  // per group, in units of 2 l + 1
  int index[64];          // grid index per unit
  uint8_t signs[32];      // sign byte per 8 elements
  int s[16];              // 4-bit group scales
  uint16_t d;             // f16 block scale
};

// Quantizes a 256-block: the groups, then d and s. value_of_level maps level numbers to the
// grid's stored magnitudes and unit is the per-type factor, so that an element decodes to
// d (2 s + 1) unit value_of_level[l] (± by its sign).
inline void QuantizeGridBlock(const float* x, const float* w, const GridSearch& gs, const GridGroupSpec& spec,
                              const uint8_t* value_of_level, float unit, GridBlock& out) {
  const int groups = kQK_K / spec.size, units_per_group = spec.size / gs.unit();
  for (int g = 0; g < groups; ++g) {
    out.group_scale[g] = QuantizeGridGroup(x + spec.size * g, w + spec.size * g, gs, spec,
                                           out.index + units_per_group * g, out.signs + spec.size / 8 * g);
  }
  // The decoded value of each element without d (2 s + 1).
  float a[kQK_K];
  const int units = kQK_K / gs.unit();
  for (int u = 0; u < units && u < kQK_K / 4; ++u) {  // units >= 4 elements: out.index suffices
    const int8_t* levels = gs.Levels(out.index[u]);
    for (int e = 0; e < gs.unit(); ++e) {
      const int j = gs.unit() * u + e;
      const float m = unit * static_cast<float>(value_of_level[levels[e]]);
      a[j] = (out.signs[j / 8] >> (j % 8)) & 1 ? -m : m;
    }
  }
  out.d = FitBlockScale(x, w, a, out.group_scale, spec.size, 15, out.s);
}

// What sets one grid type apart: its groups, grid, weights and decoded magnitudes.
struct GridQuantizer {
  GridGroupSpec spec;
  const GridSearch& (*search)();
  float sigma_factor;               // GridBlockWeights' σ² = sigma_factor · mean(x²)
  NullImportance null_importance;
  const uint8_t* value_of_level;
  float unit;
};

// Every 256-block of a row through the search, then pack(block, stored) stores it.
template <class Block, class Pack>
void QuantizeGridRow(const GridQuantizer& t, const float* x, Block* y, int64_t n, const float* importance,
                     const Pack& pack) {
  const GridSearch& gs = t.search();
  float w[kQK_K];
  GridBlock q;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float* xb = x + i * kQK_K;
    GridBlockWeights(xb, importance ? importance + i * kQK_K : nullptr, t.sigma_factor, t.null_importance, w);
    QuantizeGridBlock(xb, w, gs, t.spec, t.value_of_level, t.unit, q);
    pack(q, y[i]);
  }
}

}  // namespace r1::quant::ref::internal
