// matmul.h — products of weight matrices (any supported type) with f32 activations.
#pragma once

#include <cstdint>
#include <vector>

#include "model/weights.h"
#include "ops/op_context.h"

namespace r1 {

// Reusable buffer for activations converted to a weight type's vec_dot_type.
struct MatMulScratch {
  std::vector<uint8_t> converted;
};

// y[t][o] = sum_i w[o][i] * x[t][i] (+ bias[o])
//   x: [n_tokens, w.n_in] f32, y: [n_tokens, w.n_out] f32, bias: [w.n_out] or null.
// Activations are converted once to the weight's vec_dot_type (as llama.cpp does), then every
// thread takes a share of the weight rows and multiplies each with all token rows.
void MatMul(const WeightMatrix& w, const float* x, int64_t n_tokens, const float* bias, float* y,
            MatMulScratch& scratch, OpContext& ctx);

// out[t] = row tokens[t] of `table` as f32; out: [n_tokens, table.n_in]. Ids must be < n_out.
void GetRows(const WeightMatrix& table, const int32_t* tokens, int64_t n_tokens, float* out, OpContext& ctx);

}  // namespace r1
