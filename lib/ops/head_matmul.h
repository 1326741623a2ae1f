// head_matmul.h — per-head matrix products, as multi-head latent attention (MLA) needs to move
// each head's query into latent space and each head's weighted latent back out.
#pragma once

#include <cstdint>
#include <vector>

#include "ops/op_context.h"
#include "tensor/weight_view.h"

namespace r1 {

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
