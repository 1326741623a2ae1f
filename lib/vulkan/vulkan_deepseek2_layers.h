// vulkan_deepseek2_layers.h — the DeepSeek-V2/V3/R1 layer (model/deepseek2_layer.cc) on a Vulkan
// device: latent attention in its absorbed form over a compressed f32 cache on the device, then
// the leading layers' dense SwiGLU or the routed and shared experts. The router's scores are
// read back and the experts chosen on the host by the CPU's own routing (ops/moe.h), so both
// choose alike; the chosen experts' products run on the device.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "ops/moe.h"
#include "vulkan/vulkan_layers.h"

namespace r1::vk {

class VulkanDeepseek2Layers final : public VulkanLayers {
 public:
  // Layers [0, n_layers) of `model` (of the deepseek2 family) for n_ctx positions of a
  // cache_type cache. Unimplemented when a matrix has a weight type without a Vulkan kernel.
  static StatusOr<std::unique_ptr<VulkanDeepseek2Layers>> Create(std::unique_ptr<Device> device,
                                                                 const Model::Impl& model, int64_t n_layers,
                                                                 int64_t n_ctx, DType cache_type);
  ~VulkanDeepseek2Layers() override;

 private:
  struct Experts {
    Matrix router, gate, up, down;  // gate, up, down: n_experts stacked
    const float* selection_bias = nullptr;  // read on the host, where experts are chosen
  };
  struct LayerBuffers {
    std::unique_ptr<Buffer> attn_norm, q_a_norm, kv_a_norm, ffn_norm;
    Matrix wq_a, wq_b, wkv_a, wk_b, wv_b, wo;  // wq_a: with a low-rank query only; wk_b, wv_b per head
    SwiGluMatrices ffn;                        // the leading dense layers, or the shared experts
    bool has_ffn = false;
    Experts experts;  // the mixture-of-experts layers
    std::unique_ptr<Buffer> cache;  // [n_ctx, kv_lora_rank + n_rot] f32: [latent, k_pe] per position
  };

  using VulkanLayers::VulkanLayers;
  Status Rows(const ModelConfig& c, int64_t layer, int64_t pos0, int64_t n_rows, const float* cos_sin,
              float* rows) override;
  // One token row; each row chooses its own experts.
  Status Row(const ModelConfig& c, int64_t layer, int64_t pos, const float* cos_sin, float* row);
  Status Attention(const ModelConfig& c, const LayerBuffers& L, int64_t pos);
  // out_ = the routed experts' weighted sum plus the shared experts, from h_.
  Status MixtureOfExperts(const ModelConfig& c, const LayerBuffers& L);

  std::vector<LayerBuffers> layers_;
  MoeScratch routing_;  // one row's router scores and choices
  // One row's activations.
  std::unique_ptr<Buffer> x_, h_, q_a_, q_, fresh_, q_lat_, o_lat_, attn_, out_, down_, gate_, up_, logits_;
  std::unique_ptr<Buffer> cos_sin_, scores_;
};

}  // namespace r1::vk
