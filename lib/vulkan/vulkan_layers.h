// vulkan_layers.h — what every architecture's layers on a Vulkan device share: the device and
// its kernels, weights uploaded once per session, the checks on a pass, and the SwiGLU
// feed-forward. Each architecture (vulkan_dense_layers, vulkan_deepseek2_layers) adds its
// buffers and takes up to kMaxRows token rows through one layer (Rows).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "model/device_layers.h"
#include "tensor/weight_view.h"
#include "vulkan/vulkan_buffer.h"
#include "vulkan/vulkan_device.h"
#include "vulkan/vulkan_matvec.h"
#include "vulkan/vulkan_ops.h"

namespace r1::vk {

class VulkanLayers : public DeviceLayers {
 public:
  ~VulkanLayers() override;

  bool Runs(int64_t layer) const override { return layer < n_layers_; }
  // The one sequence's token rows through Rows, kMaxRows at a time.
  Status Layer(const ModelConfig& c, int64_t layer, absl::Span<const SequenceRows> sequences, int64_t n_tokens,
               Activations& a) final;

  // Rows a pass hands an architecture at once: the dense layers multiply them together (each
  // weight read once per kMaxRows of a prompt's tokens; scores of kMaxRows · n_heads · n_ctx
  // floats), deepseek2's take them one by one.
  static constexpr int64_t kMaxRows = 8;

 protected:
  // A matrix on the device, n_out rows of n_in weights in the file's block layout; or n_stacked
  // such matrices back to back (one per head, or per expert).
  struct Matrix {
    std::unique_ptr<Buffer> rows;
    DType type = DType::kF32;
    int64_t n_in = 0, n_out = 0, n_stacked = 1;
  };
  struct SwiGluMatrices {
    Matrix gate, up, down;
  };

  // cache_type: what the session's cache would hold (F32, F16, Q8_0); the device's cache holds
  // f32 values rounded as that cache rounds them, so GPU and CPU layers attend over the same.
  VulkanLayers(std::unique_ptr<Device> device, int64_t n_layers, int64_t n_ctx, DType cache_type);
  // Creates the kernels; called once by the architecture's Create.
  Status Init();
  // n_rows (at most kMaxRows) token rows at positions pos0 … through layer `layer`: rows
  // ([n_rows, d_model]) in and out; cos_sin their rotary angles ([n_rows, n_rot]).
  virtual Status Rows(const ModelConfig& c, int64_t layer, int64_t pos0, int64_t n_rows, const float* cos_sin,
                      float* rows) = 0;

  // Uploads: Unimplemented for a weight type without a Vulkan kernel, naming blk.<layer>.<name>.
  StatusOr<Matrix> Upload(const WeightMatrix& w, int64_t layer, const char* name);
  // Matrices of one shape and type (one per head) stacked into one buffer.
  StatusOr<Matrix> UploadStacked(absl::Span<const WeightMatrix> ws, int64_t layer, const char* name);
  // The n_experts matrices of a stacked expert tensor, as the file holds them.
  StatusOr<Matrix> UploadExperts(const ExpertMatrices& e, int64_t layer, const char* name);
  StatusOr<std::unique_ptr<Buffer>> Floats(const float* values, int64_t n);
  StatusOr<std::unique_ptr<Buffer>> Floats(int64_t n);
  StatusOr<SwiGluMatrices> UploadSwiGlu(const WeightMatrix& gate, const WeightMatrix& up, const WeightMatrix& down,
                                        int64_t layer, const char* suffix);

  // y = m·x (the first of stacked matrices) for n_cols columns of x and y, packed.
  Status Product(const Matrix& m, Buffer& x, Buffer& y, int64_t n_cols = 1);
  // Every stacked matrix h times its own slice of x: y[h · y_stride …] = m_h · x[h · x_stride …].
  Status HeadProducts(const Matrix& m, Buffer& x, int64_t x_stride, Buffer& y, int64_t y_stride);
  // y = m_e·x for stacked matrix e.
  Status ExpertProduct(const Matrix& m, int64_t e, Buffer& x, Buffer& y);
  // out = W_down (silu(W_gate h) · W_up h) for n_rows rows, gate and up scratch of the hidden width.
  Status SwiGlu(const SwiGluMatrices& m, Buffer& h, Buffer& gate, Buffer& up, Buffer& out, int64_t n_rows = 1);
  // cache[at …] = the first n floats of row (one or more cache rows), rounded as the session's
  // cache type rounds them.
  // The buffers are host-visible and the device idle between operators: a copy on the host.
  Status StoreCacheRow(const Buffer& row, int64_t n, Buffer& cache, int64_t at);

  Device& device() { return *device_; }
  FloatOps& ops() { return *ops_; }

 private:
  // Declared first, destroyed last: every buffer and kernel lives on it.
  std::unique_ptr<Device> device_;
  std::unique_ptr<MatVec> matvec_;
  std::unique_ptr<FloatOps> ops_;
  int64_t n_layers_ = 0, n_ctx_ = 0;
  DType cache_type_ = DType::kF32;
  std::vector<uint8_t> packed_;  // StoreCacheRow's row in the cache type
};

}  // namespace r1::vk
