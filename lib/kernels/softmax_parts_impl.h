// softmax_parts_impl.h — the two passes of a softmax on xsimd batches, shared by the float
// kernels (Softmax) and the tiled-attention kernels (running maxima and sums). Only for
// sources compiled once per ISA (simd_arch.h).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

#include "kernels/simd_arch.h"

namespace r1::R1_SIMD_NS {

// The largest of x[0 .. n); -inf for n == 0.
inline float MaxOf(const float* x, size_t n) {
  using F = xsimd::batch<float, Arch>;
  constexpr size_t kLanes = F::size;
  float m = -std::numeric_limits<float>::infinity();
  size_t i = 0;
  if (n >= kLanes) {
    F vm = F::load_unaligned(x);
    for (i = kLanes; i + kLanes <= n; i += kLanes) vm = xsimd::max(vm, F::load_unaligned(x + i));
    alignas(64) float lanes[kLanes];
    vm.store_aligned(lanes);
    m = *std::max_element(lanes, lanes + kLanes);
  }
  for (; i < n; ++i) m = std::max(m, x[i]);
  return m;
}

// In place x[i] = exp(x[i] - shift); returns their sum.
inline float ExpShiftSum(float* x, size_t n, float shift) {
  using F = xsimd::batch<float, Arch>;
  constexpr size_t kLanes = F::size;
  const F vshift(shift);
  F vsum(0.0f);
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const F e = xsimd::exp(F::load_unaligned(x + i) - vshift);
    e.store_unaligned(x + i);
    vsum += e;
  }
  float sum = xsimd::hadd(vsum);
  for (; i < n; ++i) {
    x[i] = std::exp(x[i] - shift);
    sum += x[i];
  }
  return sum;
}

}  // namespace r1::R1_SIMD_NS
