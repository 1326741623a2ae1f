// vulkan_dense_layers.cc — the dense layer on the device, in the order of model/dense_layer.cc:
// x += Wo · attention(rope(Wq h + bq), rope(Wk h + bk), Wv h + bv), h = norm(x); then
// x += W_down (silu(W_gate h) · W_up h), h = norm(x).
#include "vulkan/vulkan_dense_layers.h"

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "model/forward.h"

namespace r1::vk {
namespace {

StatusOr<std::unique_ptr<Buffer>> Floats(Device& device, const float* values, int64_t n) {
  return Buffer::CreateFrom(device, values, static_cast<uint64_t>(n) * sizeof(float));
}

StatusOr<std::unique_ptr<Buffer>> Floats(Device& device, int64_t n) {
  return Buffer::Create(device, static_cast<uint64_t>(n) * sizeof(float));
}

}  // namespace

VulkanDenseLayers::~VulkanDenseLayers() = default;

StatusOr<std::unique_ptr<VulkanDenseLayers>> VulkanDenseLayers::Create(std::unique_ptr<Device> device,
                                                                       const Model::Impl& model, int64_t n_layers,
                                                                       int64_t n_ctx) {
  const ModelConfig& c = model.config;
  std::unique_ptr<VulkanDenseLayers> d(new VulkanDenseLayers());
  d->device_ = std::move(device);
  Device& dev = *d->device_;
  d->n_ctx_ = n_ctx;
  R1_ASSIGN_OR_RETURN(d->matvec_, MatVec::Create(dev));
  R1_ASSIGN_OR_RETURN(d->ops_, FloatOps::Create(dev));
  const int64_t q_dim = c.n_heads * c.head_dim, kv_dim = c.n_kv_heads * c.head_dim;

  const auto upload = [&](const WeightMatrix& w, int64_t l, const char* name) -> StatusOr<Matrix> {
    if (!MatVec::Supports(w.type)) {
      return absl::UnimplementedError(absl::StrCat("gpu_layers: blk.", l, ".", name, " is ",
                                                   std::string(DTypeName(w.type)), ", which has no Vulkan kernel"));
    }
    R1_ASSIGN_OR_RETURN(std::unique_ptr<Buffer> rows, MatVec::Upload(dev, w));
    return Matrix{std::move(rows), w.type, w.n_in, w.n_out};
  };
  const auto optional = [&](const float* values, int64_t n, std::unique_ptr<Buffer>& out) -> Status {
    if (values == nullptr) return absl::OkStatus();
    R1_ASSIGN_OR_RETURN(out, Floats(dev, values, n));
    return absl::OkStatus();
  };
  for (int64_t l = 0; l < n_layers; ++l) {
    const LayerWeights& w = model.weights->layers[static_cast<size_t>(l)];
    LayerBuffers L;
    R1_ASSIGN_OR_RETURN(L.attn_norm, Floats(dev, w.attn_norm, c.d_model));
    R1_ASSIGN_OR_RETURN(L.ffn_norm, Floats(dev, w.ffn_norm, c.d_model));
    R1_RETURN_IF_ERROR(optional(w.q_norm, c.head_dim, L.q_norm));
    R1_RETURN_IF_ERROR(optional(w.k_norm, c.head_dim, L.k_norm));
    R1_RETURN_IF_ERROR(optional(w.bq, q_dim, L.bq));
    R1_RETURN_IF_ERROR(optional(w.bk, kv_dim, L.bk));
    R1_RETURN_IF_ERROR(optional(w.bv, kv_dim, L.bv));
    R1_RETURN_IF_ERROR(optional(w.bo, c.d_model, L.bo));
    R1_ASSIGN_OR_RETURN(L.wq, upload(w.wq, l, "attn_q"));
    R1_ASSIGN_OR_RETURN(L.wk, upload(w.wk, l, "attn_k"));
    R1_ASSIGN_OR_RETURN(L.wv, upload(w.wv, l, "attn_v"));
    R1_ASSIGN_OR_RETURN(L.wo, upload(w.wo, l, "attn_output"));
    R1_ASSIGN_OR_RETURN(L.w_gate, upload(w.w_gate, l, "ffn_gate"));
    R1_ASSIGN_OR_RETURN(L.w_up, upload(w.w_up, l, "ffn_up"));
    R1_ASSIGN_OR_RETURN(L.w_down, upload(w.w_down, l, "ffn_down"));
    R1_ASSIGN_OR_RETURN(L.keys, Floats(dev, n_ctx * kv_dim));
    R1_ASSIGN_OR_RETURN(L.values, Floats(dev, n_ctx * kv_dim));
    d->layers_.push_back(std::move(L));
  }
  R1_ASSIGN_OR_RETURN(d->x_, Floats(dev, c.d_model));
  R1_ASSIGN_OR_RETURN(d->h_, Floats(dev, c.d_model));
  R1_ASSIGN_OR_RETURN(d->out_, Floats(dev, c.d_model));
  R1_ASSIGN_OR_RETURN(d->q_, Floats(dev, q_dim));
  R1_ASSIGN_OR_RETURN(d->attn_, Floats(dev, q_dim));
  R1_ASSIGN_OR_RETURN(d->k_, Floats(dev, kv_dim));
  R1_ASSIGN_OR_RETURN(d->v_, Floats(dev, kv_dim));
  R1_ASSIGN_OR_RETURN(d->gate_, Floats(dev, c.d_ff));
  R1_ASSIGN_OR_RETURN(d->up_, Floats(dev, c.d_ff));
  R1_ASSIGN_OR_RETURN(d->cos_sin_, Floats(dev, c.n_rot));
  R1_ASSIGN_OR_RETURN(d->scores_, Floats(dev, c.n_heads * n_ctx));
  return d;
}

Status VulkanDenseLayers::Product(const Matrix& m, Buffer& x, Buffer& y) {
  return matvec_->Run(m.type, m.n_in, m.n_out, *m.rows, x, y);
}

Status VulkanDenseLayers::Layer(const ModelConfig& c, int64_t layer, absl::Span<const SequenceRows> sequences,
                                int64_t n_tokens, Activations& a) {
  if (sequences.size() != 1) {
    return absl::FailedPreconditionError("gpu_layers: a pass over several sequences runs on the CPU only");
  }
  const SequenceRows& s = sequences[0];
  if (s.pos0 + n_tokens > n_ctx_) return absl::OutOfRangeError("gpu_layers: rows past the device's cache");
  const LayerBuffers& L = layers_[static_cast<size_t>(layer)];
  for (int64_t t = 0; t < n_tokens; ++t) {
    R1_RETURN_IF_ERROR(Row(c, L, s.pos0 + t, a.cos_sin.data() + t * c.n_rot, a.x.data() + t * c.d_model));
  }
  return absl::OkStatus();
}

Status VulkanDenseLayers::Row(const ModelConfig& c, const LayerBuffers& L, int64_t pos, const float* cos_sin,
                              float* row) {
  const int64_t d = c.d_model, kv_dim = c.n_kv_heads * c.head_dim, q_dim = c.n_heads * c.head_dim;
  const auto add_bias = [&](const std::unique_ptr<Buffer>& bias, Buffer& y, int64_t n) {
    return bias ? ops_->Add(y, *bias, y, n) : absl::OkStatus();
  };
  std::memcpy(x_->data(), row, static_cast<size_t>(d) * sizeof(float));
  std::memcpy(cos_sin_->data(), cos_sin, static_cast<size_t>(c.n_rot) * sizeof(float));

  // Attention block.
  R1_RETURN_IF_ERROR(ops_->RmsNorm(*x_, *L.attn_norm, c.norm_eps, *h_, 1, d));
  R1_RETURN_IF_ERROR(Product(L.wq, *h_, *q_));
  R1_RETURN_IF_ERROR(add_bias(L.bq, *q_, q_dim));
  R1_RETURN_IF_ERROR(Product(L.wk, *h_, *k_));
  R1_RETURN_IF_ERROR(add_bias(L.bk, *k_, kv_dim));
  R1_RETURN_IF_ERROR(Product(L.wv, *h_, *v_));
  R1_RETURN_IF_ERROR(add_bias(L.bv, *v_, kv_dim));
  if (L.q_norm) {
    R1_RETURN_IF_ERROR(ops_->RmsNorm(*q_, *L.q_norm, c.norm_eps, *q_, c.n_heads, c.head_dim));
    R1_RETURN_IF_ERROR(ops_->RmsNorm(*k_, *L.k_norm, c.norm_eps, *k_, c.n_kv_heads, c.head_dim));
  }
  const bool neox = c.rope_ordering == RopeOrdering::kNeox;
  R1_RETURN_IF_ERROR(ops_->Rope(*q_, *cos_sin_, 1, c.n_heads, c.head_dim, c.n_rot, neox));
  R1_RETURN_IF_ERROR(ops_->Rope(*k_, *cos_sin_, 1, c.n_kv_heads, c.head_dim, c.n_rot, neox));
  // The cache is host-visible and the device is idle between operators: the new key and value
  // are copied in place.
  const size_t kv_bytes = static_cast<size_t>(kv_dim) * sizeof(float);
  std::memcpy(static_cast<uint8_t*>(L.keys->data()) + static_cast<size_t>(pos) * kv_bytes, k_->data(), kv_bytes);
  std::memcpy(static_cast<uint8_t*>(L.values->data()) + static_cast<size_t>(pos) * kv_bytes, v_->data(), kv_bytes);
  const FloatOps::AttentionShape shape{1, pos, pos + 1, c.n_heads, c.n_kv_heads, c.head_dim,
                                       1.0f / std::sqrt(static_cast<float>(c.head_dim))};
  R1_RETURN_IF_ERROR(ops_->Attention(*q_, *L.keys, *L.values, *attn_, *scores_, shape));
  R1_RETURN_IF_ERROR(Product(L.wo, *attn_, *out_));
  R1_RETURN_IF_ERROR(add_bias(L.bo, *out_, d));
  R1_RETURN_IF_ERROR(ops_->Add(*x_, *out_, *x_, d));

  // Feed-forward block (SwiGLU).
  R1_RETURN_IF_ERROR(ops_->RmsNorm(*x_, *L.ffn_norm, c.norm_eps, *h_, 1, d));
  R1_RETURN_IF_ERROR(Product(L.w_gate, *h_, *gate_));
  R1_RETURN_IF_ERROR(Product(L.w_up, *h_, *up_));
  R1_RETURN_IF_ERROR(ops_->SiluMul(*gate_, *up_, *gate_, c.d_ff));
  R1_RETURN_IF_ERROR(Product(L.w_down, *gate_, *out_));
  R1_RETURN_IF_ERROR(ops_->Add(*x_, *out_, *x_, d));
  std::memcpy(row, x_->data(), static_cast<size_t>(d) * sizeof(float));
  return absl::OkStatus();
}

}  // namespace r1::vk
