// vulkan_dense_layers.h — the llama / qwen2 / qwen3 layer (model/dense_layer.cc) on a Vulkan
// device: its weights uploaded once, its keys and values cached on the device (f32 holding what
// the session's cache type holds), a prompt's tokens taken kMaxRows at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "vulkan/vulkan_layers.h"

namespace r1::vk {

class VulkanDenseLayers final : public VulkanLayers {
 public:
  // Layers [0, n_layers) of `model` (of the dense family) for n_ctx positions of a cache_type
  // cache. Unimplemented when a matrix has a weight type without a Vulkan kernel.
  static StatusOr<std::unique_ptr<VulkanDenseLayers>> Create(std::unique_ptr<Device> device, const Model::Impl& model,
                                                             int64_t n_layers, int64_t n_ctx, DType cache_type);
  ~VulkanDenseLayers() override;

 private:
  struct LayerBuffers {
    std::unique_ptr<Buffer> attn_norm, ffn_norm, q_norm, k_norm;  // q_norm, k_norm: Qwen3 only
    std::unique_ptr<Buffer> bq, bk, bv, bo;                        // optional biases
    Matrix wq, wk, wv, wo;
    SwiGluMatrices ffn;
    std::unique_ptr<Buffer> keys, values;  // [n_ctx, n_kv_heads · head_dim] f32
  };

  using VulkanLayers::VulkanLayers;
  Status Rows(const ModelConfig& c, int64_t layer, int64_t pos0, int64_t n_rows, const float* cos_sin,
              float* rows) override;

  std::vector<LayerBuffers> layers_;
  // kMaxRows rows' activations.
  std::unique_ptr<Buffer> x_, h_, q_, k_, v_, attn_, out_, gate_, up_, cos_sin_, scores_;
};

}  // namespace r1::vk
