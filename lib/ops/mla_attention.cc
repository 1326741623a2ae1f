// mla_attention.cc — one (token, head) pair per work item: scores, softmax, weighted sum.
#include "ops/mla_attention.h"

#include <algorithm>

#include "quant/quant_kernels.h"

namespace r1 {

void MlaAttention(const float* q, const float* k, const float* v, float* out, int64_t n_tokens, int64_t pos0,
                  int64_t n_kv, const MlaAttentionShape& s, AttentionScratch& scratch, OpContext& ctx) {
  const FloatKernels& fk = *ctx.kernels;
  const int64_t group = s.n_heads / s.n_kv_heads;
  const size_t n_items = static_cast<size_t>(n_tokens * s.n_heads);
  ctx.pool->ParallelFor(n_items, 1, [&](size_t b, size_t e, int thread) {
    float* scores = scratch.scores.data() + static_cast<size_t>(thread) * static_cast<size_t>(scratch.stride);
    for (size_t item = b; item < e; ++item) {
      const int64_t t = static_cast<int64_t>(item) / s.n_heads, h = static_cast<int64_t>(item) % s.n_heads;
      const int64_t g = h / group;
      const int64_t n_seen = std::min(n_kv, pos0 + t + 1);
      const float* qh = q + t * s.q_stride + h * s.k_dim;
      for (int64_t j = 0; j < n_seen; ++j) scores[j] = fk.dot(qh, k + j * s.k_stride + g * s.k_dim, s.k_dim) * s.scale;
      fk.softmax(scores, static_cast<size_t>(n_seen));
      float* oh = out + t * s.out_stride + h * s.v_dim;
      std::fill(oh, oh + s.v_dim, 0.0f);
      for (int64_t j = 0; j < n_seen; ++j) fk.axpy(scores[j], v + j * s.v_stride + g * s.v_dim, oh, s.v_dim);
    }
  });
}

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
