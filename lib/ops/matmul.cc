// matmul.cc — row-parallel matrix products over the per-type quant kernels.
#include "ops/matmul.h"

#include <cstring>

#include "quant/quant_kernels.h"

namespace r1 {

void MatMul(const WeightMatrix& w, const float* x, int64_t n_tokens, const float* bias, float* y,
            MatMulScratch& scratch, OpContext& ctx) {
  const QuantKernels* k = GetQuantKernels(ctx.isa, w.type);
  const uint64_t x_row_bytes = *RowBytes(k->vec_dot_type, static_cast<uint64_t>(w.n_in));
  const uint8_t* xq = reinterpret_cast<const uint8_t*>(x);
  if (k->vec_dot_type != DType::kF32) {
    const size_t need = static_cast<size_t>(x_row_bytes * static_cast<uint64_t>(n_tokens));
    if (scratch.converted.size() < need) scratch.converted.resize(need);
    uint8_t* dst = scratch.converted.data();
    ctx.pool->ParallelFor(static_cast<size_t>(n_tokens), 1, [&](size_t b, size_t e) {
      for (size_t t = b; t < e; ++t) k->from_float(x + t * w.n_in, dst + t * x_row_bytes, w.n_in);
    });
    xq = dst;
  }
  const int64_t n_out = w.n_out;
  // Rows are handed out in groups so each thread's output columns are contiguous in memory.
  ctx.pool->ParallelFor(static_cast<size_t>(n_out), 16, [&](size_t b, size_t e) {
    for (size_t o = b; o < e; ++o) {
      const uint8_t* row = w.Row(static_cast<int64_t>(o));
      const float bo = bias ? bias[o] : 0.0f;
      for (int64_t t = 0; t < n_tokens; ++t) {
        y[t * n_out + static_cast<int64_t>(o)] = k->vec_dot(w.n_in, row, xq + t * x_row_bytes) + bo;
      }
    }
  });
}

void GetRows(const WeightMatrix& table, const int32_t* tokens, int64_t n_tokens, float* out, OpContext& ctx) {
  const QuantKernels* k = GetQuantKernels(ctx.isa, table.type);
  for (int64_t t = 0; t < n_tokens; ++t) k->to_float(table.Row(tokens[t]), out + t * table.n_in, table.n_in);
}

}  // namespace r1
