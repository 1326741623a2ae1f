// quant_kernels.h — per weight type, the kernels that multiply its rows with activations.
//
// A matrix product y = W x with W of type T runs as: convert each activation row x to
// T's `vec_dot_type` once (for quantized T an 8-bit block type: Q8_0, Q8_1 or Q8_K, exactly as
// llama.cpp does, so results agree with it), then take `vec_dot` of every weight row with every
// converted activation row. Embedding lookups use `to_float` on one row.
#pragma once

#include <cstdint>

#include "kernels/isa.h"
#include "quant/int8_panel.h"
#include "r1/dtype.h"

namespace r1 {

struct QuantKernels {
  DType type;          // the weight type these kernels are for
  DType vec_dot_type;  // activations are converted to this type
  // Converts n f32 values (n a multiple of vec_dot_type's block size) to vec_dot_type.
  void (*from_float)(const float* x, void* y, int64_t n);
  // Converts a row of n elements of `type` to f32.
  void (*to_float)(const void* x, float* y, int64_t n);
  // Dot product of a row of `type` with a row of vec_dot_type, n elements.
  float (*vec_dot)(int64_t n, const void* w, const void* x);
  // Optional (nullptr: call vec_dot per row): out[r] = vec_dot(n, w + r * row_bytes, x) for
  // r < nr, sharing the work on the activation row between weight rows. Same results as
  // vec_dot up to the order of f32 additions.
  void (*vec_dot_rows)(int64_t n, const void* w, uint64_t row_bytes, int64_t nr, const void* x,
                       float* out) = nullptr;
  // Optional (nullptr: call vec_dot per activation row): out[t * out_stride] = vec_dot(n, w,
  // x + t * x_stride) for t < nx, bit for bit, unpacking each weight block once for several
  // activation rows (the rows of a batched decode step).
  void (*vec_dot_tokens)(int64_t n, const void* w, const void* x, uint64_t x_stride, int64_t nx, float* out,
                         int64_t out_stride) = nullptr;
  // Optional (nullptr: the rows are read as they are): 16 rows interleaved at load
  // (quant/interleaved_kquants.h) against nx activation rows, out[t * out_stride + r] for r < 16,
  // as the layout's reference (DotQ4_Kx16Ref, DotQ6_Kx16Ref) bit for bit whatever nx is.
  void (*vec_dot_interleaved)(int64_t n, const void* w, const void* x, uint64_t x_stride, int64_t nx, float* out,
                              int64_t out_stride) = nullptr;
};

// The INT8 prompt GEMM (int8_panel.h) of an ISA with fast 8-bit multiply-adds.
struct Int8GemmKernels {
  // As QuantizeInt8ActivationsRef.
  void (*quantize)(const float* x, int64_t k, int sub, int8_t* q, float* d, int32_t* sum);
  // As Int8PanelGemmRef; zero_point = Int8PanelZeroPoint(type of the panels) lets the kernel
  // fold a symmetric format's offset into its integer sums.
  void (*gemm)(const uint8_t* panels, int nr, const Int8Activations& x, int zero_point, int64_t n_tokens, float* y,
               int64_t ldy);
};

// nullptr when `isa` has no INT8 GEMM (prompt batches then take another path).
const Int8GemmKernels* GetInt8GemmKernels(Isa isa);

// Kernels for `type` on `isa`; nullptr when the type cannot be used as a matrix weight
// (integer types, Q8_K) or the ISA is not compiled. Tables are built once and immutable.
const QuantKernels* GetQuantKernels(Isa isa, DType type);

}  // namespace r1
