// attention_kernels.h — the inner steps of tiled attention (lib/ops/attention.cc), one table
// per ISA. Each entry has the semantics of the function of the same name in r1/ops/reference.h;
// the scalar table is that reference.
#pragma once

#include <cstdint>

#include "kernels/isa.h"

namespace r1 {

struct AttentionKernels {
  Isa isa;
  void (*scores)(const float* q, int64_t q_stride, int64_t n_rows, const float* k, int64_t k_stride, int64_t n_pos,
                 int64_t dim, float scale, float* s, int64_t s_stride);
  void (*accumulate)(const float* p, int64_t p_stride, int64_t n_rows, const float* v, int64_t v_stride,
                     int64_t n_pos, int64_t dim, float* acc, int64_t acc_stride);
  float (*max)(const float* x, int64_t n);
  float (*exp_sum)(float* x, int64_t n, float shift);
};

// The table for `isa`; the scalar table when `isa` is not compiled.
const AttentionKernels& GetAttentionKernels(Isa isa);

}  // namespace r1
