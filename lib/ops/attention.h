// attention.h — causal grouped-query attention of new tokens over a KV cache.
#pragma once

#include <cstdint>
#include <vector>

#include "ops/op_context.h"

namespace r1 {

struct AttentionShape {
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;
  float scale = 1.0f;  // applied to q·k, usually 1/sqrt(head_dim)
};

// Per-thread score rows; sized by Reserve for the longest context.
struct AttentionScratch {
  std::vector<float> scores;  // [n_threads, n_ctx]
  int64_t stride = 0;
  void Reserve(int n_threads, int64_t n_ctx) {
    stride = n_ctx;
    scores.assign(static_cast<size_t>(n_threads) * static_cast<size_t>(n_ctx), 0.0f);
  }
};

//   q:    [n_tokens, n_heads * head_dim], token t at position pos0 + t
//   k, v: [n_kv, n_kv_heads * head_dim], positions 0 .. n_kv - 1 (the new tokens included)
//   out:  [n_tokens, n_heads * head_dim]
// Token t attends to positions 0 .. pos0 + t. Same result as ref::Attention.
void Attention(const float* q, const float* k, const float* v, float* out, int64_t n_tokens, int64_t pos0,
               int64_t n_kv, const AttentionShape& shape, AttentionScratch& scratch, OpContext& ctx);

}  // namespace r1
