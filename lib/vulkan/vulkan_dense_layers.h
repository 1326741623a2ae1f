// vulkan_dense_layers.h — the llama / qwen2 / qwen3 layer (model/dense_layer.cc) on a Vulkan
// device: its weights uploaded once, its keys and values cached on the device in f32, each
// token row taken through the layers one at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "model/device_layers.h"
#include "vulkan/vulkan_buffer.h"
#include "vulkan/vulkan_device.h"
#include "vulkan/vulkan_matvec.h"
#include "vulkan/vulkan_ops.h"

namespace r1::vk {

class VulkanDenseLayers final : public DeviceLayers {
 public:
  // Layers [0, n_layers) of `model` (of the dense family) for n_ctx positions. Unimplemented
  // when a matrix has a weight type without a Vulkan kernel.
  static StatusOr<std::unique_ptr<VulkanDenseLayers>> Create(std::unique_ptr<Device> device, const Model::Impl& model,
                                                             int64_t n_layers, int64_t n_ctx);
  ~VulkanDenseLayers() override;

  bool Runs(int64_t layer) const override { return layer < static_cast<int64_t>(layers_.size()); }
  Status Layer(const ModelConfig& c, int64_t layer, absl::Span<const SequenceRows> sequences, int64_t n_tokens,
               Activations& a) override;

 private:
  // A bound matrix on the device.
  struct Matrix {
    std::unique_ptr<Buffer> rows;
    DType type;
    int64_t n_in, n_out;
  };
  struct LayerBuffers {
    std::unique_ptr<Buffer> attn_norm, ffn_norm, q_norm, k_norm;  // q_norm, k_norm: Qwen3 only
    std::unique_ptr<Buffer> bq, bk, bv, bo;                        // optional biases
    Matrix wq, wk, wv, wo, w_gate, w_up, w_down;
    std::unique_ptr<Buffer> keys, values;  // [n_ctx, n_kv_heads · head_dim] f32
  };

  VulkanDenseLayers() = default;
  Status Product(const Matrix& m, Buffer& x, Buffer& y);
  // One token row at position pos through layer `layer`: row (d_model floats) in and out.
  Status Row(const ModelConfig& c, const LayerBuffers& L, int64_t pos, const float* cos_sin, float* row);

  // Declared first, destroyed last: everything below lives on it.
  std::unique_ptr<Device> device_;
  std::unique_ptr<MatVec> matvec_;
  std::unique_ptr<FloatOps> ops_;
  std::vector<LayerBuffers> layers_;
  int64_t n_ctx_ = 0;
  // One row's activations.
  std::unique_ptr<Buffer> x_, h_, q_, k_, v_, attn_, out_, gate_, up_, cos_sin_, scores_;
};

}  // namespace r1::vk
