// float_kernels.h — the f32 vector kernels of the forward pass, one table per ISA.
//
// Each entry has the semantics of the function of the same name in r1/ops/reference.h; the
// scalar table is that reference. Tables are immutable and built once.
#pragma once

#include <cstddef>

#include "kernels/isa.h"

namespace r1 {

struct FloatKernels {
  Isa isa;
  void (*rms_norm)(const float* x, const float* w, float eps, float* out, size_t n);
  void (*softmax)(float* x, size_t n);
  void (*silu_mul)(const float* gate, const float* up, float* out, size_t n);
  void (*add)(const float* a, const float* b, float* out, size_t n);
  float (*dot)(const float* a, const float* b, size_t n);
  void (*axpy)(float a, const float* x, float* y, size_t n);
  void (*scale)(float* x, float s, size_t n);
  void (*rope)(float* x, const float* cos_sin, size_t head_dim, bool neox);
};

// The table for `isa`; `isa` must be compiled (IsaCompiled), else the scalar table is returned.
const FloatKernels& GetFloatKernels(Isa isa);

}  // namespace r1
