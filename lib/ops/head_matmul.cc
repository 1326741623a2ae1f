// head_matmul.cc — per-head products for MLA, every head and token in one parallel pass.
#include "ops/head_matmul.h"

#include <algorithm>

#include "quant/quant_kernels.h"

namespace r1 {

uint64_t HeadMatMulScratchBytes(int64_t n_heads, int64_t n_in) {
  // f32 rows bound every vec_dot_type's row size.
  return static_cast<uint64_t>(kHeadMatMulChunk * n_heads * n_in) * sizeof(float);
}

void HeadMatMul(const std::vector<WeightMatrix>& w, const float* x, int64_t x_tok_stride, int64_t x_head_stride,
                int64_t n_tokens, float* y, int64_t y_tok_stride, int64_t y_head_stride, std::vector<uint8_t>& conv,
                OpContext& ctx) {
  const int64_t n_heads = static_cast<int64_t>(w.size());
  if (n_heads == 0) return;
  const int64_t n_in = w[0].n_in, n_out = w[0].n_out;
  if (ctx.observer != nullptr) ctx.observer->OnHeadProducts(w.data(), n_heads, x, x_tok_stride, x_head_stride, n_tokens);
  const QuantKernels* k = GetQuantKernels(ctx.isa, w[0].type);
  const bool convert = k->vec_dot_type != DType::kF32;
  const uint64_t x_row_bytes = convert ? *RowBytes(k->vec_dot_type, static_cast<uint64_t>(n_in)) : 0;
  for (int64_t t0 = 0; t0 < n_tokens; t0 += kHeadMatMulChunk) {
    const int64_t nt = std::min(kHeadMatMulChunk, n_tokens - t0);
    if (convert) {
      ctx.pool->ParallelFor(static_cast<size_t>(n_heads * nt), 4, [&](size_t b, size_t e) {
        for (size_t i = b; i < e; ++i) {
          const int64_t h = static_cast<int64_t>(i) / nt, t = static_cast<int64_t>(i) % nt;
          k->from_float(x + (t0 + t) * x_tok_stride + h * x_head_stride, conv.data() + i * x_row_bytes, n_in);
        }
      });
    }
    ctx.pool->ParallelFor(static_cast<size_t>(n_heads * n_out), 16, [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) {
        const int64_t h = static_cast<int64_t>(i) / n_out, o = static_cast<int64_t>(i) % n_out;
        const uint8_t* row = w[static_cast<size_t>(h)].Row(o);
        for (int64_t t = 0; t < nt; ++t) {
          const void* xt = convert ? static_cast<const void*>(conv.data() + static_cast<uint64_t>(h * nt + t) * x_row_bytes)
                                   : static_cast<const void*>(x + (t0 + t) * x_tok_stride + h * x_head_stride);
          y[(t0 + t) * y_tok_stride + h * y_head_stride + o] = k->vec_dot(n_in, row, xt);
        }
      }
    });
  }
}

}  // namespace r1
