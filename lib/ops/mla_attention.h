// mla_attention.h — causal attention with separate key and value widths and strides, as
// multi-head latent attention (MLA) needs.
//
// In the absorbed form every head's query lives in latent space ([latent, rope] per head) and
// all heads share one cached row per position ([latent, rope]): keys are whole rows, values the
// latent prefix of the same rows. In the plain form keys and values are decompressed per head.
#pragma once

#include <cstdint>
#include <vector>

#include "model/weights.h"
#include "ops/attention.h"
#include "ops/op_context.h"

namespace r1 {

struct MlaAttentionShape {
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;   // 1 (shared latent rows) or n_heads
  int64_t k_dim = 0;        // query/key length per head
  int64_t v_dim = 0;        // value length per head
  int64_t q_stride = 0;     // floats between tokens of q; head h's query starts at h * k_dim
  int64_t k_stride = 0;     // floats between positions of k; KV head g's key starts at g * k_dim
  int64_t v_stride = 0;     // floats between positions of v; KV head g's value starts at g * v_dim
  int64_t out_stride = 0;   // floats between tokens of out; head h writes at h * v_dim
  float scale = 1.0f;       // on q·k
};

// Token t (at position pos0 + t) attends to positions 0 .. pos0 + t of k and v.
void MlaAttention(const float* q, const float* k, const float* v, float* out, int64_t n_tokens, int64_t pos0,
                  int64_t n_kv, const MlaAttentionShape& shape, AttentionScratch& scratch, OpContext& ctx);

// Per-head products in one parallel pass (instead of one MatMul per head):
//   y[t, h * y_head_stride + o] = sum_i w[h].Row(o)[i] * x[t, h * x_head_stride + i]
// for every head h and token t; rows of x are tok_stride / y_tok_stride floats apart. The
// activations are rounded to each weight's vec_dot_type as MatMul does. `conv` must hold
// kHeadMatMulChunk * w.size() rows of w[0].n_in floats (HeadMatMulScratchBytes).
constexpr int64_t kHeadMatMulChunk = 16;
uint64_t HeadMatMulScratchBytes(int64_t n_heads, int64_t n_in);
void HeadMatMul(const std::vector<WeightMatrix>& w, const float* x, int64_t x_tok_stride, int64_t x_head_stride,
                int64_t n_tokens, float* y, int64_t y_tok_stride, int64_t y_head_stride, std::vector<uint8_t>& conv,
                OpContext& ctx);

}  // namespace r1
