// row_ops.h — the small per-row steps the layers share.
#pragma once

#include <cstdint>

#include "ops/op_context.h"

namespace r1 {

// out[t] = rms_norm(x[t]) * w over `width` values of each of n rows `stride` floats apart
// (out may be x).
inline void RmsNormRows(const float* x, const float* w, float eps, float* out, int64_t n, int64_t width,
                        int64_t stride, OpContext& ctx) {
  for (int64_t t = 0; t < n; ++t) ctx.kernels->rms_norm(x + t * stride, w, eps, out + t * stride, width);
}

// x += delta over n values.
inline void AddInPlace(float* x, const float* delta, int64_t n, OpContext& ctx) {
  ctx.kernels->add(x, delta, x, static_cast<size_t>(n));
}

}  // namespace r1
