// vulkan_dense_layers.cc — the dense layer on the device, in the order of model/dense_layer.cc:
// x += Wo · attention(rope(Wq h + bq), rope(Wk h + bk), Wv h + bv), h = norm(x); then
// x += W_down (silu(W_gate h) · W_up h), h = norm(x).
#include "vulkan/vulkan_dense_layers.h"

#include <cmath>
#include <cstring>

#include "model/weights.h"

namespace r1::vk {

VulkanDenseLayers::~VulkanDenseLayers() = default;

StatusOr<std::unique_ptr<VulkanDenseLayers>> VulkanDenseLayers::Create(std::unique_ptr<Device> device,
                                                                       const Model::Impl& model, int64_t n_layers,
                                                                       int64_t n_ctx, DType cache_type) {
  const ModelConfig& c = model.config;
  std::unique_ptr<VulkanDenseLayers> d(new VulkanDenseLayers(std::move(device), n_layers, n_ctx, cache_type));
  R1_RETURN_IF_ERROR(d->Init());
  const int64_t q_dim = c.n_heads * c.head_dim, kv_dim = c.n_kv_heads * c.head_dim;
  const auto optional = [&](const float* values, int64_t n, std::unique_ptr<Buffer>& out) -> Status {
    if (values == nullptr) return absl::OkStatus();
    R1_ASSIGN_OR_RETURN(out, d->Floats(values, n));
    return absl::OkStatus();
  };
  for (int64_t l = 0; l < n_layers; ++l) {
    const LayerWeights& w = model.weights->layers[static_cast<size_t>(l)];
    LayerBuffers L;
    R1_ASSIGN_OR_RETURN(L.attn_norm, d->Floats(w.attn_norm, c.d_model));
    R1_ASSIGN_OR_RETURN(L.ffn_norm, d->Floats(w.ffn_norm, c.d_model));
    R1_RETURN_IF_ERROR(optional(w.q_norm, c.head_dim, L.q_norm));
    R1_RETURN_IF_ERROR(optional(w.k_norm, c.head_dim, L.k_norm));
    R1_RETURN_IF_ERROR(optional(w.bq, q_dim, L.bq));
    R1_RETURN_IF_ERROR(optional(w.bk, kv_dim, L.bk));
    R1_RETURN_IF_ERROR(optional(w.bv, kv_dim, L.bv));
    R1_RETURN_IF_ERROR(optional(w.bo, c.d_model, L.bo));
    R1_ASSIGN_OR_RETURN(L.wq, d->Upload(w.wq, l, "attn_q"));
    R1_ASSIGN_OR_RETURN(L.wk, d->Upload(w.wk, l, "attn_k"));
    R1_ASSIGN_OR_RETURN(L.wv, d->Upload(w.wv, l, "attn_v"));
    R1_ASSIGN_OR_RETURN(L.wo, d->Upload(w.wo, l, "attn_output"));
    R1_ASSIGN_OR_RETURN(L.ffn, d->UploadSwiGlu(w.w_gate, w.w_up, w.w_down, l, ""));
    R1_ASSIGN_OR_RETURN(L.keys, d->Floats(n_ctx * kv_dim));
    R1_ASSIGN_OR_RETURN(L.values, d->Floats(n_ctx * kv_dim));
    d->layers_.push_back(std::move(L));
  }
  constexpr int64_t n = kMaxRows;
  R1_ASSIGN_OR_RETURN(d->x_, d->Floats(n * c.d_model));
  R1_ASSIGN_OR_RETURN(d->h_, d->Floats(n * c.d_model));
  R1_ASSIGN_OR_RETURN(d->out_, d->Floats(n * c.d_model));
  R1_ASSIGN_OR_RETURN(d->q_, d->Floats(n * q_dim));
  R1_ASSIGN_OR_RETURN(d->attn_, d->Floats(n * q_dim));
  R1_ASSIGN_OR_RETURN(d->k_, d->Floats(n * kv_dim));
  R1_ASSIGN_OR_RETURN(d->v_, d->Floats(n * kv_dim));
  R1_ASSIGN_OR_RETURN(d->gate_, d->Floats(n * c.d_ff));
  R1_ASSIGN_OR_RETURN(d->up_, d->Floats(n * c.d_ff));
  R1_ASSIGN_OR_RETURN(d->cos_sin_, d->Floats(n * c.n_rot));
  R1_ASSIGN_OR_RETURN(d->scores_, d->Floats(n * c.n_heads * n_ctx));
  return d;
}

Status VulkanDenseLayers::Rows(const ModelConfig& c, int64_t layer, int64_t pos0, int64_t n, const float* cos_sin,
                               float* rows) {
  const LayerBuffers& L = layers_[static_cast<size_t>(layer)];
  FloatOps& ops = this->ops();
  const int64_t d = c.d_model, kv_dim = c.n_kv_heads * c.head_dim, q_dim = c.n_heads * c.head_dim;
  const auto add_bias = [&](const std::unique_ptr<Buffer>& bias, Buffer& y, int64_t width) {
    return bias ? ops.Add(y, *bias, y, n * width, 1.0f, width) : absl::OkStatus();
  };
  std::memcpy(x_->data(), rows, static_cast<size_t>(n * d) * sizeof(float));
  std::memcpy(cos_sin_->data(), cos_sin, static_cast<size_t>(n * c.n_rot) * sizeof(float));

  // Attention block.
  R1_RETURN_IF_ERROR(ops.RmsNorm(*x_, *L.attn_norm, c.norm_eps, *h_, n, d));
  R1_RETURN_IF_ERROR(Product(L.wq, *h_, *q_, n));
  R1_RETURN_IF_ERROR(add_bias(L.bq, *q_, q_dim));
  R1_RETURN_IF_ERROR(Product(L.wk, *h_, *k_, n));
  R1_RETURN_IF_ERROR(add_bias(L.bk, *k_, kv_dim));
  R1_RETURN_IF_ERROR(Product(L.wv, *h_, *v_, n));
  R1_RETURN_IF_ERROR(add_bias(L.bv, *v_, kv_dim));
  if (L.q_norm) {
    R1_RETURN_IF_ERROR(ops.RmsNorm(*q_, *L.q_norm, c.norm_eps, *q_, n * c.n_heads, c.head_dim));
    R1_RETURN_IF_ERROR(ops.RmsNorm(*k_, *L.k_norm, c.norm_eps, *k_, n * c.n_kv_heads, c.head_dim));
  }
  const bool neox = c.rope_ordering == RopeOrdering::kNeox;
  R1_RETURN_IF_ERROR(ops.Rope(*q_, *cos_sin_, n, c.n_heads, c.head_dim, c.n_rot, neox));
  R1_RETURN_IF_ERROR(ops.Rope(*k_, *cos_sin_, n, c.n_kv_heads, c.head_dim, c.n_rot, neox));
  R1_RETURN_IF_ERROR(StoreCacheRow(*k_, n * kv_dim, *L.keys, pos0 * kv_dim));
  R1_RETURN_IF_ERROR(StoreCacheRow(*v_, n * kv_dim, *L.values, pos0 * kv_dim));
  const FloatOps::AttentionShape shape{n, pos0, pos0 + n, c.n_heads, c.n_kv_heads, c.head_dim,
                                       1.0f / std::sqrt(static_cast<float>(c.head_dim))};
  R1_RETURN_IF_ERROR(ops.Attention(*q_, *L.keys, *L.values, *attn_, *scores_, shape));
  R1_RETURN_IF_ERROR(Product(L.wo, *attn_, *out_, n));
  R1_RETURN_IF_ERROR(add_bias(L.bo, *out_, d));
  R1_RETURN_IF_ERROR(ops.Add(*x_, *out_, *x_, n * d));

  // Feed-forward block (SwiGLU).
  R1_RETURN_IF_ERROR(ops.RmsNorm(*x_, *L.ffn_norm, c.norm_eps, *h_, n, d));
  R1_RETURN_IF_ERROR(SwiGlu(L.ffn, *h_, *gate_, *up_, *out_, n));
  R1_RETURN_IF_ERROR(ops.Add(*x_, *out_, *x_, n * d));
  std::memcpy(rows, x_->data(), static_cast<size_t>(n * d) * sizeof(float));
  return absl::OkStatus();
}

}  // namespace r1::vk
