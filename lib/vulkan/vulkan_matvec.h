// vulkan_matvec.h — the matrix-vector product y = W·x on a Vulkan device, W's rows in their
// GGUF layout: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and the K-quants Q2_K … Q6_K, each
// block dequantized in the shader (shaders/matvec.comp). Tested against the scalar reference,
// r1::quant::ref.
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

class MatVec {
 public:
  static StatusOr<std::unique_ptr<MatVec>> Create(Device& device);
  static bool Supports(DType type);
  // A buffer of the device holding w's rows as Run reads them (a type Run supports).
  static StatusOr<std::unique_ptr<Buffer>> Upload(Device& device, const WeightMatrix& w);

  // y[0 … n_out) = W·x: w holds n_out rows of RowBytes(type, n_in) bytes (its size rounded up
  // to whole 32-bit words, as the shader reads words), x n_in floats, y n_out floats. Sizes
  // that do not fit the buffers are refused.
  Status Run(DType type, int64_t n_in, int64_t n_out, Buffer& w, Buffer& x, Buffer& y);

 private:
  MatVec() = default;
  std::vector<std::unique_ptr<Kernel>> kernels_;  // one per weight type, as vulkan_matvec.cc lists them
};

}  // namespace r1::vk
