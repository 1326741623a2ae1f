// vulkan_matvec.h — the matrix-vector product y = W·x on a Vulkan device, W's rows in their
// GGUF layout: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and the K-quants Q2_K … Q6_K, each
// block dequantized in the shader (shaders/matvec.comp). x is first rounded as the CPU rounds
// it, to the weight type's vec_dot_type (shaders/round_activations.comp), so both backends
// multiply the same values. Tested against the scalar reference, r1::quant::ref.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "r1/dtype.h"
#include "r1/status.h"
#include "tensor/weight_view.h"
#include "vulkan/vulkan_buffer.h"
#include "vulkan/vulkan_device.h"
#include "vulkan/vulkan_kernel.h"

namespace r1::vk {

// Where a product's rows, inputs and outputs lie. Output row r reads w's row first_row + r;
// rows come in groups of group_rows (0: one group of all), group g reading x from
// g · x_stride and writing y[g · y_stride + r % group_rows]. The default is y = W·x;
// per-head matrices stacked in w multiply each head of x in one run, and first_row picks one
// expert's block of a stacked expert tensor. n_cols columns of x (a prompt's tokens, x_col_stride
// floats apart; 0: n_in) make as many of y (y_col_stride apart; 0: n_out), the weights read once
// for several: a matrix-matrix product. Several columns take one group only.
struct ProductLayout {
  int64_t first_row = 0, group_rows = 0, x_stride = 0, y_stride = 0;
  int64_t n_cols = 1, x_col_stride = 0, y_col_stride = 0;
};

class MatVec {
 public:
  static StatusOr<std::unique_ptr<MatVec>> Create(Device& device);
  static bool Supports(DType type);
  // A buffer of the device holding w's rows as Run reads them (a type Run supports).
  static StatusOr<std::unique_ptr<Buffer>> Upload(Device& device, const WeightMatrix& w);

  // n_out rows of W times x as `layout` says: w holds RowBytes(type, n_in)-byte rows (its size
  // rounded up to whole 32-bit words, as the shader reads words), x and y floats. Sizes that do
  // not fit the buffers are refused.
  Status Run(DType type, int64_t n_in, int64_t n_out, Buffer& w, Buffer& x, Buffer& y, const ProductLayout& layout = {});

  // out = x rounded to the vec_dot_type of weight type `type` and back to f32 (the quantize-
  // dequantize round trip of r1::quant::ref), for n_groups rows of n_in values x_stride apart;
  // out has x's layout. A copy for F32. The first step of Run, exposed for its test.
  Status RoundActivations(DType type, int64_t n_in, int64_t n_groups, int64_t x_stride, Buffer& x, Buffer& out);

 private:
  MatVec() = default;
  Device* device_ = nullptr;
  std::vector<std::unique_ptr<Kernel>> kernels_;  // one per weight type, as vulkan_matvec.cc lists them
  std::vector<std::unique_ptr<Kernel>> rounding_;  // one per vec_dot_type, as vulkan_matvec.cc lists them
  std::unique_ptr<Buffer> rounded_;  // Run's rounded x, grown to the largest seen
};

}  // namespace r1::vk
