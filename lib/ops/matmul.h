// matmul.h — products of weight matrices (any supported type) with f32 activations.
#pragma once

#include <cstdint>
#include <vector>

#include "ops/op_context.h"
#include "tensor/weight_view.h"

namespace r1 {

// Reusable buffers; they grow on first use and are then reused, so decode steps allocate
// nothing.
struct MatMulScratch {
  std::vector<uint8_t> converted;          // activations in the weight's vec_dot_type
  std::vector<std::vector<float>> tiles;    // per thread: dequantized weight rows (f32 GEMM)
  std::vector<std::vector<uint8_t>> panels;  // per thread: INT8 panels of weight rows
  std::vector<int8_t> act_q;                // prompt activations for the INT8 GEMM
  std::vector<float> act_d;
  std::vector<int32_t> act_sum;
};

// y[t][o] = sum_i w[o][i] * x[t][i] (+ bias[o])
//   x: [n_tokens, w.n_in] f32, y: [n_tokens, w.n_out] f32, bias: [w.n_out] or null.
// Few tokens (decode): activations are converted once to the weight's vec_dot_type (as
// llama.cpp does), then every thread takes a share of the weight rows and takes each row's dot
// with every token row (for the K types, one call for all token rows, unpacking each weight
// block once). Many tokens (prompt batches) decode each weight once per batch instead
// of once per token: on CPUs with AVX-512 VNNI quantized weights are repacked into INT8 panels
// (int8_panel.h) multiplied with 8-bit activations; otherwise, with oneDNN, every thread
// dequantizes tiles of its rows to f32 and multiplies them with all tokens in one f32 GEMM.
// With ctx.batch_invariant every batch takes the per-row dots, so each output has the bits a
// decode step gives it.
void MatMul(const WeightMatrix& w, const float* x, int64_t n_tokens, const float* bias, float* y,
            MatMulScratch& scratch, OpContext& ctx);

// Products of several matrices with the same input x (all w.n_in equal), e.g. a layer's q, k
// and v: with few tokens they run as one job over all their rows. At most 3 share a job.
struct MatMulPart {
  const WeightMatrix* w;
  const float* bias;  // [w->n_out] or null
  float* y;           // [n_tokens, w->n_out]
};
void MatMulShared(const MatMulPart* parts, int n_parts, const float* x, int64_t n_tokens, MatMulScratch& scratch,
                  OpContext& ctx);

// out = silu(gate · x) * (up · x), the SwiGLU feed-forward's first half; up_out is scratch of
// out's size. gate and up have the same shape.
void MatMulSwiGlu(const WeightMatrix& gate, const WeightMatrix& up, const float* x, int64_t n_tokens, float* out,
                  float* up_out, MatMulScratch& scratch, OpContext& ctx);

// out[t] = row tokens[t] of `table` as f32; out: [n_tokens, table.n_in]. Ids must be < n_out.
void GetRows(const WeightMatrix& table, const int32_t* tokens, int64_t n_tokens, float* out, OpContext& ctx);

}  // namespace r1
