// attention.cc — one (token, head) pair per work item: scores, softmax, weighted sum of values.
#include "ops/attention.h"

#include <algorithm>

namespace r1 {

void Attention(const float* q, const float* k, const float* v, float* out, int64_t n_tokens, int64_t pos0,
               int64_t n_kv, const AttentionShape& s, AttentionScratch& scratch, OpContext& ctx) {
  const FloatKernels& fk = *ctx.kernels;
  const int64_t group = s.n_heads / s.n_kv_heads;
  const int64_t q_stride = s.n_heads * s.head_dim, kv_stride = s.n_kv_heads * s.head_dim;
  const size_t n_items = static_cast<size_t>(n_tokens * s.n_heads);
  ctx.pool->ParallelFor(n_items, 1, [&](size_t b, size_t e, int thread) {
    float* scores = scratch.scores.data() + static_cast<size_t>(thread) * static_cast<size_t>(scratch.stride);
    for (size_t item = b; item < e; ++item) {
      const int64_t t = static_cast<int64_t>(item) / s.n_heads, h = static_cast<int64_t>(item) % s.n_heads;
      const int64_t n_seen = std::min(n_kv, pos0 + t + 1);
      const float* qh = q + t * q_stride + h * s.head_dim;
      const int64_t kv_off = (h / group) * s.head_dim;
      for (int64_t j = 0; j < n_seen; ++j) scores[j] = fk.dot(qh, k + j * kv_stride + kv_off, s.head_dim) * s.scale;
      fk.softmax(scores, static_cast<size_t>(n_seen));
      float* oh = out + t * q_stride + h * s.head_dim;
      std::fill(oh, oh + s.head_dim, 0.0f);
      for (int64_t j = 0; j < n_seen; ++j) fk.axpy(scores[j], v + j * kv_stride + kv_off, oh, s.head_dim);
    }
  });
}

}  // namespace r1
