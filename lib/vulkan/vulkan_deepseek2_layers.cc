// vulkan_deepseek2_layers.cc — the deepseek2 layer on the device, in the order of
// model/deepseek2_layer.cc (whose header explains the absorbed form of latent attention).
#include "vulkan/vulkan_deepseek2_layers.h"

#include <algorithm>
#include <cstring>

#include "model/weights.h"

namespace r1::vk {
namespace {

void CopyFloats(const Buffer& from, int64_t from_index, Buffer& to, int64_t to_index, int64_t n) {
  std::memcpy(static_cast<float*>(to.data()) + to_index, static_cast<const float*>(from.data()) + from_index,
              static_cast<size_t>(n) * sizeof(float));
}

}  // namespace

VulkanDeepseek2Layers::~VulkanDeepseek2Layers() = default;

StatusOr<std::unique_ptr<VulkanDeepseek2Layers>> VulkanDeepseek2Layers::Create(std::unique_ptr<Device> device,
                                                                               const Model::Impl& model,
                                                                               int64_t n_layers, int64_t n_ctx,
                                                                               DType cache_type) {
  const ModelConfig& c = model.config;
  std::unique_ptr<VulkanDeepseek2Layers> d(new VulkanDeepseek2Layers(std::move(device), n_layers, n_ctx, cache_type));
  R1_RETURN_IF_ERROR(d->Init());
  const int64_t H = c.n_heads, row = c.kv_lora_rank + c.n_rot;
  for (int64_t l = 0; l < n_layers; ++l) {
    const LayerWeights& w = model.weights->layers[static_cast<size_t>(l)];
    LayerBuffers L;
    R1_ASSIGN_OR_RETURN(L.attn_norm, d->Floats(w.attn_norm, c.d_model));
    R1_ASSIGN_OR_RETURN(L.kv_a_norm, d->Floats(w.kv_a_norm, c.kv_lora_rank));
    R1_ASSIGN_OR_RETURN(L.ffn_norm, d->Floats(w.ffn_norm, c.d_model));
    if (c.q_lora_rank > 0) {
      R1_ASSIGN_OR_RETURN(L.wq_a, d->Upload(w.wq_a, l, "attn_q_a"));
      R1_ASSIGN_OR_RETURN(L.q_a_norm, d->Floats(w.q_a_norm, c.q_lora_rank));
    }
    R1_ASSIGN_OR_RETURN(L.wq_b, d->Upload(w.wq_b, l, "attn_q_b"));
    R1_ASSIGN_OR_RETURN(L.wkv_a, d->Upload(w.wkv_a, l, "attn_kv_a_mqa"));
    R1_ASSIGN_OR_RETURN(L.wk_b, d->UploadStacked(w.wk_b, l, "attn_k_b"));
    R1_ASSIGN_OR_RETURN(L.wv_b, d->UploadStacked(w.wv_b, l, "attn_v_b"));
    R1_ASSIGN_OR_RETURN(L.wo, d->Upload(w.wo, l, "attn_output"));
    if (l < c.n_dense_lead) {
      R1_ASSIGN_OR_RETURN(L.ffn, d->UploadSwiGlu(w.w_gate, w.w_up, w.w_down, l, ""));
      L.has_ffn = true;
    } else {
      R1_ASSIGN_OR_RETURN(L.experts.router, d->Upload(w.experts.router, l, "ffn_gate_inp"));
      R1_ASSIGN_OR_RETURN(L.experts.gate, d->UploadExperts(w.experts.gate, l, "ffn_gate_exps"));
      R1_ASSIGN_OR_RETURN(L.experts.up, d->UploadExperts(w.experts.up, l, "ffn_up_exps"));
      R1_ASSIGN_OR_RETURN(L.experts.down, d->UploadExperts(w.experts.down, l, "ffn_down_exps"));
      L.experts.selection_bias = w.experts.selection_bias;
      if (w.has_shexp) {
        R1_ASSIGN_OR_RETURN(L.ffn, d->UploadSwiGlu(w.gate_shexp, w.up_shexp, w.down_shexp, l, "_shexp"));
        L.has_ffn = true;
      }
    }
    R1_ASSIGN_OR_RETURN(L.cache, d->Floats(n_ctx * row));
    d->layers_.push_back(std::move(L));
  }
  const int64_t d_ff = std::max({c.d_ff, c.d_ff_expert, c.n_experts_shared * c.d_ff_expert});
  R1_ASSIGN_OR_RETURN(d->x_, d->Floats(c.d_model));
  R1_ASSIGN_OR_RETURN(d->h_, d->Floats(c.d_model));
  R1_ASSIGN_OR_RETURN(d->out_, d->Floats(c.d_model));
  R1_ASSIGN_OR_RETURN(d->down_, d->Floats(c.d_model));
  R1_ASSIGN_OR_RETURN(d->q_a_, d->Floats(std::max<int64_t>(c.q_lora_rank, 1)));
  R1_ASSIGN_OR_RETURN(d->q_, d->Floats(H * c.head_dim));
  R1_ASSIGN_OR_RETURN(d->fresh_, d->Floats(row));
  R1_ASSIGN_OR_RETURN(d->q_lat_, d->Floats(H * row));
  R1_ASSIGN_OR_RETURN(d->o_lat_, d->Floats(H * c.kv_lora_rank));
  R1_ASSIGN_OR_RETURN(d->attn_, d->Floats(H * c.v_head_dim));
  R1_ASSIGN_OR_RETURN(d->gate_, d->Floats(d_ff));
  R1_ASSIGN_OR_RETURN(d->up_, d->Floats(d_ff));
  R1_ASSIGN_OR_RETURN(d->logits_, d->Floats(std::max<int64_t>(c.n_experts, 1)));
  R1_ASSIGN_OR_RETURN(d->cos_sin_, d->Floats(c.n_rot));
  R1_ASSIGN_OR_RETURN(d->scores_, d->Floats(H * n_ctx));
  if (c.n_experts > 0) d->routing_.Init(c, 1);
  return d;
}

Status VulkanDeepseek2Layers::Rows(const ModelConfig& c, int64_t layer, int64_t pos0, int64_t n_rows,
                                   const float* cos_sin, float* rows) {
  for (int64_t t = 0; t < n_rows; ++t) {
    R1_RETURN_IF_ERROR(Row(c, layer, pos0 + t, cos_sin + t * c.n_rot, rows + t * c.d_model));
  }
  return absl::OkStatus();
}

Status VulkanDeepseek2Layers::Row(const ModelConfig& c, int64_t layer, int64_t pos, const float* cos_sin, float* row) {
  const LayerBuffers& L = layers_[static_cast<size_t>(layer)];
  FloatOps& ops = this->ops();
  const int64_t d = c.d_model;
  std::memcpy(x_->data(), row, static_cast<size_t>(d) * sizeof(float));
  std::memcpy(cos_sin_->data(), cos_sin, static_cast<size_t>(c.n_rot) * sizeof(float));

  R1_RETURN_IF_ERROR(Attention(c, L, pos));  // attn_ = the heads' outputs
  R1_RETURN_IF_ERROR(Product(L.wo, *attn_, *out_));
  R1_RETURN_IF_ERROR(ops.Add(*x_, *out_, *x_, d));

  // Feed-forward: dense SwiGLU in the leading layers, routed plus shared experts after.
  R1_RETURN_IF_ERROR(ops.RmsNorm(*x_, *L.ffn_norm, c.norm_eps, *h_, 1, d));
  if (layer < c.n_dense_lead) {
    R1_RETURN_IF_ERROR(SwiGlu(L.ffn, *h_, *gate_, *up_, *out_));
  } else {
    R1_RETURN_IF_ERROR(MixtureOfExperts(c, L));
  }
  R1_RETURN_IF_ERROR(ops.Add(*x_, *out_, *x_, d));
  std::memcpy(row, x_->data(), static_cast<size_t>(d) * sizeof(float));
  return absl::OkStatus();
}

Status VulkanDeepseek2Layers::Attention(const ModelConfig& c, const LayerBuffers& L, int64_t pos) {
  FloatOps& ops = this->ops();
  const int64_t H = c.n_heads, hd = c.head_dim, nope = c.qk_nope_dim, rope = c.n_rot;
  const int64_t lat = c.kv_lora_rank, row = lat + rope;
  // Queries [n_heads, qk_nope + n_rot], through the low-rank path when present.
  R1_RETURN_IF_ERROR(ops.RmsNorm(*x_, *L.attn_norm, c.norm_eps, *h_, 1, c.d_model));
  if (c.q_lora_rank > 0) {
    R1_RETURN_IF_ERROR(Product(L.wq_a, *h_, *q_a_));
    R1_RETURN_IF_ERROR(ops.RmsNorm(*q_a_, *L.q_a_norm, c.norm_eps, *q_a_, 1, c.q_lora_rank));
    R1_RETURN_IF_ERROR(Product(L.wq_b, *q_a_, *q_));
  } else {
    R1_RETURN_IF_ERROR(Product(L.wq_b, *h_, *q_));
  }
  // The new cache row [latent, k_pe]: normed latent, rotated shared key.
  R1_RETURN_IF_ERROR(Product(L.wkv_a, *h_, *fresh_));
  R1_RETURN_IF_ERROR(ops.Rope(*q_, *cos_sin_, 1, H, hd, rope, /*neox=*/false, /*offset=*/nope));
  R1_RETURN_IF_ERROR(ops.Rope(*fresh_, *cos_sin_, 1, 1, row, rope, /*neox=*/false, /*offset=*/lat));
  R1_RETURN_IF_ERROR(ops.RmsNorm(*fresh_, *L.kv_a_norm, c.norm_eps, *fresh_, 1, lat));
  R1_RETURN_IF_ERROR(StoreCacheRow(*fresh_, row, *L.cache, pos * row));

  // Absorbed: q_lat[h] = [W_kb[h] q_nope_h, q_pe_h]; one shared head of whole cached rows as
  // keys, their latent part as values; attn[h] = W_vb[h] o_lat[h].
  R1_RETURN_IF_ERROR(HeadProducts(L.wk_b, *q_, hd, *q_lat_, row));
  for (int64_t h = 0; h < H; ++h) CopyFloats(*q_, h * hd + nope, *q_lat_, h * row + lat, rope);
  FloatOps::AttentionShape shape{1, pos, pos + 1, H, 1, row, c.attn_scale};
  shape.v_dim = lat;
  shape.k_stride = shape.v_stride = row;
  R1_RETURN_IF_ERROR(ops.Attention(*q_lat_, *L.cache, *L.cache, *o_lat_, *scores_, shape));
  return HeadProducts(L.wv_b, *o_lat_, lat, *attn_, c.v_head_dim);
}

Status VulkanDeepseek2Layers::MixtureOfExperts(const ModelConfig& c, const LayerBuffers& L) {
  FloatOps& ops = this->ops();
  const int64_t d = c.d_model, d_ff = c.d_ff_expert;
  R1_RETURN_IF_ERROR(Product(L.experts.router, *h_, *logits_));
  std::memcpy(routing_.logits.data(), logits_->data(), static_cast<size_t>(c.n_experts) * sizeof(float));
  RouteExperts(c, L.experts.selection_bias, 1, routing_);
  // The chosen experts' outputs, weighted, summed best first (as the CPU sums them).
  std::memset(out_->data(), 0, static_cast<size_t>(d) * sizeof(float));
  for (int64_t slot = 0; slot < c.n_experts_used; ++slot) {
    const int64_t e = routing_.selected[static_cast<size_t>(slot)];
    R1_RETURN_IF_ERROR(ExpertProduct(L.experts.gate, e, *h_, *gate_));
    R1_RETURN_IF_ERROR(ExpertProduct(L.experts.up, e, *h_, *up_));
    R1_RETURN_IF_ERROR(ops.SiluMul(*gate_, *up_, *gate_, d_ff));
    R1_RETURN_IF_ERROR(ExpertProduct(L.experts.down, e, *gate_, *down_));
    R1_RETURN_IF_ERROR(ops.Add(*out_, *down_, *out_, d, routing_.weights[static_cast<size_t>(slot)]));
  }
  if (!L.has_ffn) return absl::OkStatus();
  R1_RETURN_IF_ERROR(SwiGlu(L.ffn, *h_, *gate_, *up_, *down_));
  return ops.Add(*out_, *down_, *out_, d);
}

}  // namespace r1::vk
