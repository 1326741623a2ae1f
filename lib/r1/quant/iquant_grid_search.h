// r1/quant/iquant_grid_search.h — finding grid points for the i-quant quantizers.
//
// A quantizer rounds each element of a unit (8 elements for IQ2/IQ1, 4 for IQ3) to a level
// number; the unit's level numbers, packed as in r1/quant/iquant_grids.h, form a code. Few codes
// are grid points. GridSearch maps each code to its grid index or, for a code off the grid, to
// the grid points nearest to it (all points at the `rings` smallest distances, in level space),
// among which the quantizer picks the one of least weighted error. The tables are built once per
// grid on first use.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "r1/quant/iquant_grids.h"

namespace r1::quant::ref::internal {

class GridSearch {
 public:
  // The values level numbers stand for in the IQ2 and IQ3 searches: 2 l + 1.
  static constexpr float kOddValues[8] = {1, 3, 5, 7, 9, 11, 13, 15};

  // codes: the grid, each point as level numbers of `bits` bits per element; levels: how many
  // level numbers a quantizer uses (0 .. levels - 1); rings: how many distances of neighbours.
  GridSearch(const uint16_t* codes, int grid_size, int unit, int bits, int levels, int rings)
      : unit_(unit), bits_(bits), levels_(grid_size * unit), slot_(size_t{1} << (unit * bits), kUnused) {
    for (int g = 0; g < grid_size; ++g) {
      for (int e = 0; e < unit; ++e)
        levels_[g * unit + e] = static_cast<int8_t>((codes[g] >> (bits * e)) & ((1 << bits) - 1));
      slot_[codes[g]] = g;
    }
    // Squared distances in level space are small integers: bucket the grid by distance, so the
    // neighbours come out ordered by (distance, index) without sorting.
    std::vector<int> distance(grid_size), bucket_size(static_cast<size_t>(unit * (levels - 1) * (levels - 1) + 1));
    int8_t point[8];
    for (uint32_t code = 0; code < slot_.size(); ++code) {
      if (slot_[code] != kUnused || !Decode(code, levels, point)) continue;
      std::fill(bucket_size.begin(), bucket_size.end(), 0);
      for (int g = 0; g < grid_size; ++g) {
        int d2 = 0;
        for (int e = 0; e < unit; ++e) d2 += (levels_[g * unit + e] - point[e]) * (levels_[g * unit + e] - point[e]);
        distance[g] = d2;
        ++bucket_size[d2];
      }
      slot_[code] = -static_cast<int32_t>(neighbours_.size()) - 1;
      const size_t count_at = neighbours_.size();
      neighbours_.push_back(0);
      int taken = 0;
      for (int d2 = 0; d2 < static_cast<int>(bucket_size.size()) && taken < rings; ++d2) {
        if (bucket_size[d2] == 0) continue;
        ++taken;
        for (int g = 0; g < grid_size; ++g) {
          if (distance[g] == d2) neighbours_.push_back(static_cast<uint16_t>(g));
        }
      }
      neighbours_[count_at] = static_cast<uint16_t>(neighbours_.size() - count_at - 1);
    }
  }

  int unit() const { return unit_; }

  // Level numbers of grid point g.
  const int8_t* Levels(int g) const { return levels_.data() + g * unit_; }

  // Grid index of the code of `l` (unit level numbers in [0, levels)), or -1 if off the grid.
  int IndexOf(const int8_t* l) const { return slot_[Code(l)] >= 0 ? slot_[Code(l)] : -1; }

  // The grid point for level numbers l: l's own when on the grid, otherwise the neighbour with
  // least Σ w (scale value[level] - x)², whose levels then replace l.
  int Nearest(int8_t* l, const float* x, const float* w, float scale, const float* value = kOddValues) const {
    const int32_t s = slot_[Code(l)];
    if (s >= 0) return s;
    const uint16_t* list = neighbours_.data() + (-s - 1);
    float best_err = std::numeric_limits<float>::max();
    int best = list[1];
    for (int k = 1; k <= list[0]; ++k) {
      const int8_t* p = Levels(list[k]);
      float err = 0.0f;
      for (int e = 0; e < unit_; ++e) {
        const float diff = scale * value[p[e]] - x[e];
        err += w[e] * diff * diff;
      }
      if (err < best_err) best_err = err, best = list[k];
    }
    std::copy(Levels(best), Levels(best) + unit_, l);
    return best;
  }

 private:
  static constexpr int32_t kUnused = std::numeric_limits<int32_t>::min();

  uint32_t Code(const int8_t* l) const {
    uint32_t code = 0;
    for (int e = 0; e < unit_; ++e) code |= static_cast<uint32_t>(l[e]) << (bits_ * e);
    return code;
  }

  // The level numbers of `code`; false when one is outside [0, levels), a code never looked up.
  bool Decode(uint32_t code, int levels, int8_t* l) const {
    for (int e = 0; e < unit_; ++e) {
      l[e] = static_cast<int8_t>((code >> (bits_ * e)) & ((1u << bits_) - 1));
      if (l[e] >= levels) return false;
    }
    return true;
  }

  int unit_, bits_;
  std::vector<int8_t> levels_;        // grid point g: levels_[g * unit .. + unit)
  std::vector<int32_t> slot_;         // per code: grid index, or -(offset into neighbours_) - 1
  std::vector<uint16_t> neighbours_;  // per off-grid code: count, then the grid indices
};

// The search of each grid, built on its first use (thread-safe) and kept.
inline const GridSearch& Iq3xxsSearch() {
  static const GridSearch s(grids::internal::kIq3xxsCodes, 256, 4, 3, 8, 2);
  return s;
}
inline const GridSearch& Iq3sSearch() {
  static const GridSearch s(grids::internal::kIq3sCodes, 512, 4, 3, 8, 3);
  return s;
}
inline const GridSearch& Iq2xxsSearch() {
  static const GridSearch s(grids::internal::kIq2xxsCodes, 256, 8, 2, 3, 2);
  return s;
}
inline const GridSearch& Iq2xsSearch() {
  static const GridSearch s(grids::internal::kIq2xsCodes, 512, 8, 2, 3, 2);
  return s;
}
inline const GridSearch& Iq1sSearch() {
  static const GridSearch s(grids::internal::kIq1sCodes, 2048, 8, 2, 3, 3);
  return s;
}
inline const GridSearch& Iq2sSearch() {
  static const GridSearch s(grids::internal::kIq2sCodes, 1024, 8, 2, 3, 1);
  return s;
}

}  // namespace r1::quant::ref::internal
