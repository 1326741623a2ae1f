// r1/quant/ref_weighted_fit.h — importance-weighted scale searches shared by the legacy and K
// weight quantizers.
//
// Each search minimises Σ w_i (x_i - q(x_i))² over a block, w_i the weight of element i. The
// quantizers derive the weights from a per-column importance vector as
// importance_i * sqrt(σ² + x_i²), σ² a mean square of the row or super-block. Where the candidate
// step sizes are independent (the symmetric fit) they are evaluated side by side, each with its
// own sums, and the best is then chosen in order, so the many short dependency chains overlap.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "r1/quant/ref_block_extremes.h"
#include "r1/quant/ref_rounding.h"

namespace r1::quant::ref::internal {

// Groups whose largest magnitude is below this quantize to zero.
inline constexpr float kWeightedFitEpsilon = 1e-15f;

// w_i = importance_i * sqrt(sigma2 + x_i²) for n elements.
inline void ImportanceWeights(const float* x, const float* importance, int n, float sigma2, float* w) {
  for (int i = 0; i < n; ++i) w[i] = importance[i] * std::sqrt(sigma2 + x[i] * x[i]);
}

inline float SumOfSquares(const float* x, int64_t n) {
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += x[i] * x[i];
  return s;
}

inline float Sum(const float* x, int n) {
  float s = 0.0f;
  for (int i = 0; i < n; ++i) s += x[i];
  return s;
}

// Weighted fit of x ~ scale * (L - nmax), L in [0, 2 nmax - 1] (n <= 32): starts from the step
// that maps the value of largest magnitude to -nmax, tries steps (nmax + 0.1 k) / |max| for k in
// [-9, 9], and keeps the one whose least-squares scale explains most of Σ w x² (the largest
// (Σ w x l)² / Σ w l²). Returns that scale; writes L.
R1_QUANT_SEARCH_FN inline float WeightedFitSymmetric(const float* x, const float* w, int n, int nmax, uint8_t* L) {
  const float max = FirstSignedAbsMax(x, n);
  if (!(std::fabs(max) >= kWeightedFitEpsilon) || !std::isfinite(max)) {
    std::fill(L, L + n, static_cast<uint8_t>(0));
    return 0.0f;
  }
  constexpr int kSteps = 19, kLanes = 20;  // the last lane pads to whole vectors
  float iscale[kLanes] = {}, sum_xl[kLanes] = {}, sum_l2[kLanes] = {};
  for (int s = 0; s < kSteps; ++s) iscale[s] = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(s - 9)) / max;
  const float lo = static_cast<float>(-nmax), hi = static_cast<float>(nmax - 1);
  for (int i = 0; i < n; ++i) {
    const float xi = x[i], wi = w[i], wx = w[i] * x[i];
    for (int s = 0; s < kLanes; ++s) {
      float v = iscale[s] * xi;
      v = v > lo ? v : lo;
      v = v < hi ? v : hi;
      const float l = RoundSmall(v);
      sum_xl[s] += wx * l;
      sum_l2[s] += wi * l * l;
    }
  }
  int best_step = 9;  // k = 0 is the starting point
  float scale = sum_l2[9] > 0.0f ? sum_xl[9] / sum_l2[9] : 0.0f;
  float best = scale * sum_xl[9];
  for (int s = 0; s < kSteps; ++s) {
    if (s == 9 || !(sum_l2[s] > 0.0f)) continue;
    if (sum_xl[s] * sum_xl[s] > best * sum_l2[s]) {
      best_step = s;
      scale = sum_xl[s] / sum_l2[s];
      best = scale * sum_xl[s];
    }
  }
  for (int i = 0; i < n; ++i) {
    const float q = RoundSmall(std::min(std::max(iscale[best_step] * x[i], lo), hi));
    L[i] = static_cast<uint8_t>(static_cast<int>(q) + nmax);
  }
  return scale;
}

// Weighted fit of x ~ scale * L - min, L in [0, nmax], min >= 0 (n <= 32): starts from the
// plain step nmax / range measured from the group's minimum, then tries steps
// (nmax - 0.9 + 0.05 k) / range for k in [0, 36], each refitted by weighted least squares for
// scale and offset (the offset kept <= 0). Each better fit moves the origin the next steps are
// measured from, and the range with it, so the search walks towards a good offset; with few
// levels (Q2_K's four) that walk matters more than the step. Returns the scale of the smallest
// Σ w e²; writes L and min.
R1_QUANT_SEARCH_FN inline float WeightedFitScaleMin(const float* x, const float* w, int n, int nmax, uint8_t* L,
                                                    float* the_min) {
  float lo = x[0], hi = x[0];
  for (int i = 1; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  lo = std::min(lo, 0.0f);
  if (!(hi - lo > 0.0f) || !std::isfinite(hi - lo) || !std::isfinite(static_cast<float>(nmax + 1) / (hi - lo))) {
    std::fill(L, L + n, static_cast<uint8_t>(0));
    *the_min = std::isfinite(lo) ? -lo : 0.0f;
    return 0.0f;
  }
  const float top = static_cast<float>(nmax);
  const float sum_w = Sum(w, n);
  float sum_x = 0.0f;
  for (int i = 0; i < n; ++i) sum_x += w[i] * x[i];

  // Starting point: the plain step from the group's minimum.
  float origin = lo, best_scale = (hi - lo) / top, best_err = 0.0f;
  {
    const float iscale = top / (hi - lo);
    for (int i = 0; i < n; ++i) {
      const float l = RoundSmall(std::clamp(iscale * (x[i] - origin), 0.0f, top));
      L[i] = static_cast<uint8_t>(l);
      const float diff = best_scale * l + origin - x[i];
      best_err += w[i] * diff * diff;
    }
  }
  float cand[32];
  for (int k = 0; k <= 36 && hi - origin > 0.0f; ++k) {
    const float iscale = (-0.9f + 0.05f * static_cast<float>(k) + top) / (hi - origin);
    float sum_l = 0.0f, sum_l2 = 0.0f, sum_xl = 0.0f;
    for (int i = 0; i < n; ++i) {
      const float l = RoundSmall(std::clamp(iscale * (x[i] - origin), 0.0f, top));
      cand[i] = l;
      sum_l += w[i] * l;
      sum_l2 += w[i] * l * l;
      sum_xl += w[i] * l * x[i];
    }
    const float det = sum_w * sum_l2 - sum_l * sum_l;
    if (!(det > 0.0f)) continue;
    float scale = (sum_w * sum_xl - sum_x * sum_l) / det;
    float offset = (sum_l2 * sum_x - sum_l * sum_xl) / det;
    if (offset > 0.0f) {
      offset = 0.0f;
      scale = sum_xl / sum_l2;
    }
    float err = 0.0f;
    for (int i = 0; i < n; ++i) {
      const float diff = scale * cand[i] + offset - x[i];
      err += w[i] * diff * diff;
    }
    if (err < best_err) {
      best_err = err;
      best_scale = scale;
      origin = offset;
      for (int i = 0; i < n; ++i) L[i] = static_cast<uint8_t>(cand[i]);
    }
  }
  *the_min = -origin;
  return best_scale;
}

// Weighted fit of non-negative x ~ scale * L, L in [0, nmax] (n <= 16; used for the group scales
// and mins of a super-block): picks the step nmax / max or (nmax + 0.1 k) / max, k in ±[1, 4],
// with the smallest Σ w e², then moves single L by one refit at a time while that raises
// (Σ w x l)² / Σ w l² (at most five passes). Returns the least-squares scale; writes L.
inline float WeightedFitPositive(const float* x, const float* w, int n, int nmax, uint8_t* L) {
  float max = 0.0f;
  for (int i = 0; i < n; ++i) max = std::max(max, x[i]);
  if (!(max >= kWeightedFitEpsilon) || !std::isfinite(max)) {
    std::fill(L, L + n, static_cast<uint8_t>(0));
    return 0.0f;
  }
  const float top = static_cast<float>(nmax);
  auto error_of = [&](float iscale) {
    const float step = 1.0f / iscale;
    float e = 0.0f;
    for (int i = 0; i < n; ++i) {
      const float diff = x[i] - step * RoundSmall(std::clamp(iscale * x[i], 0.0f, top));
      e += w[i] * diff * diff;
    }
    return e;
  };
  float best_iscale = top / max, best_err = error_of(best_iscale);
  for (int k = -4; k <= 4; ++k) {
    if (k == 0) continue;
    const float iscale = (0.1f * static_cast<float>(k) + top) / max;
    const float e = error_of(iscale);
    if (e < best_err) {
      best_err = e;
      best_iscale = iscale;
    }
  }
  int l[32];
  float sum_xl = 0.0f, sum_l2 = 0.0f;
  for (int i = 0; i < n; ++i) {
    l[i] = static_cast<int>(RoundSmall(std::clamp(best_iscale * x[i], 0.0f, top)));
    sum_xl += w[i] * x[i] * static_cast<float>(l[i]);
    sum_l2 += w[i] * static_cast<float>(l[i] * l[i]);
  }
  for (int pass = 0; pass < 5; ++pass) {
    bool changed = false;
    for (int i = 0; i < n; ++i) {
      const float wx = w[i] * x[i];
      float xl = sum_xl - wx * static_cast<float>(l[i]);
      float l2 = sum_l2 - w[i] * static_cast<float>(l[i] * l[i]);
      if (!(xl > 0.0f && l2 > 0.0f)) continue;
      const int moved = std::clamp(RoundToNearest(x[i] * l2 / xl), 0, nmax);
      if (moved == l[i]) continue;
      xl += wx * static_cast<float>(moved);
      l2 += w[i] * static_cast<float>(moved * moved);
      if (xl * xl * sum_l2 > sum_xl * sum_xl * l2) {
        l[i] = moved;
        sum_xl = xl;
        sum_l2 = l2;
        changed = true;
      }
    }
    if (!changed) break;
  }
  for (int i = 0; i < n; ++i) L[i] = static_cast<uint8_t>(l[i]);
  return sum_l2 > 0.0f ? sum_xl / sum_l2 : 0.0f;
}

}  // namespace r1::quant::ref::internal
