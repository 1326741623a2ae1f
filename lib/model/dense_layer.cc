// dense_layer.cc — the llama / qwen2 / qwen3 layer: grouped-query attention with RoPE over a
// per-head key/value cache, then a SwiGLU feed-forward.
#include <cmath>

#include "model/layer_family.h"
#include "model/row_ops.h"
#include "ops/rope.h"

namespace r1 {
namespace {

// Rotates the first n_rot dimensions of each of n_heads heads of every token row.
void ApplyRope(float* rows, int64_t n_tokens, int64_t n_heads, int64_t head_dim, const ModelConfig& c,
               const float* cos_sin, OpContext& ctx) {
  const bool neox = c.rope_ordering == RopeOrdering::kNeox;
  const FloatKernels& fk = *ctx.kernels;
  // A head's rotation takes well under a microsecond: a decode step's heads run inline.
  ctx.pool->ParallelFor(static_cast<size_t>(n_tokens * n_heads), 64, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      const int64_t t = static_cast<int64_t>(i) / n_heads;
      fk.rope(rows + static_cast<int64_t>(i) * head_dim, cos_sin + t * c.n_rot, static_cast<size_t>(c.n_rot), neox);
    }
  });
}

class DenseLayer final : public LayerFamily {
 public:
  Status BindLayer(WeightBinder& b, const ModelConfig& c, int64_t l, LayerWeights& L) const override {
    const int64_t q_dim = c.n_heads * c.head_dim, kv_dim = c.n_kv_heads * c.head_dim;
    R1_ASSIGN_OR_RETURN(L.attn_norm, b.Vector(BlockTensor(l, "attn_norm.weight"), c.d_model, true));
    R1_ASSIGN_OR_RETURN(L.wq, b.Matrix(BlockTensor(l, "attn_q.weight"), c.d_model, q_dim));
    R1_ASSIGN_OR_RETURN(L.wk, b.Matrix(BlockTensor(l, "attn_k.weight"), c.d_model, kv_dim));
    R1_ASSIGN_OR_RETURN(L.wv, b.Matrix(BlockTensor(l, "attn_v.weight"), c.d_model, kv_dim));
    R1_ASSIGN_OR_RETURN(L.wo, b.Matrix(BlockTensor(l, "attn_output.weight"), q_dim, c.d_model));
    R1_ASSIGN_OR_RETURN(L.bq, b.Vector(BlockTensor(l, "attn_q.bias"), q_dim, false));
    R1_ASSIGN_OR_RETURN(L.bk, b.Vector(BlockTensor(l, "attn_k.bias"), kv_dim, false));
    R1_ASSIGN_OR_RETURN(L.bv, b.Vector(BlockTensor(l, "attn_v.bias"), kv_dim, false));
    R1_ASSIGN_OR_RETURN(L.bo, b.Vector(BlockTensor(l, "attn_output.bias"), c.d_model, false));
    if (c.has_qk_norm) {
      R1_ASSIGN_OR_RETURN(L.q_norm, b.Vector(BlockTensor(l, "attn_q_norm.weight"), c.head_dim, true));
      R1_ASSIGN_OR_RETURN(L.k_norm, b.Vector(BlockTensor(l, "attn_k_norm.weight"), c.head_dim, true));
    }
    R1_ASSIGN_OR_RETURN(L.ffn_norm, b.Vector(BlockTensor(l, "ffn_norm.weight"), c.d_model, true));
    R1_ASSIGN_OR_RETURN(L.w_gate, b.Matrix(BlockTensor(l, "ffn_gate.weight"), c.d_model, c.d_ff));
    R1_ASSIGN_OR_RETURN(L.w_up, b.Matrix(BlockTensor(l, "ffn_up.weight"), c.d_model, c.d_ff));
    R1_ASSIGN_OR_RETURN(L.w_down, b.Matrix(BlockTensor(l, "ffn_down.weight"), c.d_ff, c.d_model));
    return absl::OkStatus();
  }

  // Per-head keys and values.
  Status InitKvCache(const ModelConfig& c, int64_t n_ctx, DType type, Isa isa, KvCache& kv) const override {
    const int64_t kv_dim = c.n_kv_heads * c.head_dim;
    return kv.Init(c.n_layers, n_ctx, kv_dim, kv_dim, type, c.head_dim, isa);
  }

  void InitActivations(const ModelConfig& c, int64_t n, int64_t n_ctx, int n_threads, DType cache_type,
                       Activations& a) const override {
    const auto sized = [n](int64_t width) { return static_cast<size_t>(n * width); };
    a.k.assign(sized(c.n_kv_heads * c.head_dim), 0.0f);
    a.v.assign(sized(c.n_kv_heads * c.head_dim), 0.0f);
    a.attn.assign(sized(c.n_heads * c.head_dim), 0.0f);
    a.gate.assign(sized(c.d_ff), 0.0f);
    a.up.assign(sized(c.d_ff), 0.0f);
    const bool exact = cache_type == DType::kF32;
    a.attention.Reserve(n_threads, !exact, c.head_dim, c.head_dim, exact ? n_ctx : 0);
  }

  void RotationTable(const ModelConfig& c, const ModelWeights& w, absl::Span<const SequenceRows> sequences,
                     float* cos_sin) const override {
    const RopeParams rope{c.n_rot, c.rope_freq_base, c.rope_freq_scale, w.rope_freq_factors};
    for (int64_t row0 = 0; const SequenceRows& s : sequences) {
      for (int64_t t = 0; t < s.n_tokens; ++t) RopeCosSin(s.pos0 + t, rope, cos_sin + (row0 + t) * c.n_rot);
      row0 += s.n_tokens;
    }
  }

  void Layer(const ModelConfig& c, const LayerWeights& L, int64_t l, absl::Span<const SequenceRows> sequences,
             int64_t n_tokens, Activations& a, OpContext& ctx) const override {
    const int64_t d = c.d_model, q_dim = c.n_heads * c.head_dim, kv_dim = c.n_kv_heads * c.head_dim;
    const AttentionShape shape{c.n_heads, c.n_kv_heads, c.head_dim, c.head_dim, q_dim, q_dim,
                               1.0f / std::sqrt(static_cast<float>(c.head_dim))};

    // Attention block: x += Wo · attention(rope(Wq h), rope(Wk h), Wv h), h = norm(x); Qwen3
    // normalizes each query and key head before RoPE.
    RmsNormRows(a.x.data(), L.attn_norm, c.norm_eps, a.h.data(), n_tokens, d, d, ctx);
    const MatMulPart qkv[] = {{&L.wq, L.bq, a.q.data()}, {&L.wk, L.bk, a.k.data()}, {&L.wv, L.bv, a.v.data()}};
    MatMulShared(qkv, 3, a.h.data(), n_tokens, a.matmul, ctx);  // q: [n_tokens, q_dim], k, v: [n_tokens, kv_dim]
    if (c.has_qk_norm) {
      const int64_t hd = c.head_dim;
      RmsNormRows(a.q.data(), L.q_norm, c.norm_eps, a.q.data(), n_tokens * c.n_heads, hd, hd, ctx);
      RmsNormRows(a.k.data(), L.k_norm, c.norm_eps, a.k.data(), n_tokens * c.n_kv_heads, hd, hd, ctx);
    }
    ApplyRope(a.q.data(), n_tokens, c.n_heads, c.head_dim, c, a.cos_sin.data(), ctx);
    ApplyRope(a.k.data(), n_tokens, c.n_kv_heads, c.head_dim, c, a.cos_sin.data(), ctx);
    for (int64_t row0 = 0; const SequenceRows& s : sequences) {  // each sequence against its own cache
      s.kv->StoreKeys(l, s.pos0, s.n_tokens, a.k.data() + row0 * kv_dim, kv_dim);
      s.kv->StoreValues(l, s.pos0, s.n_tokens, a.v.data() + row0 * kv_dim, kv_dim);
      Attention(a.q.data() + row0 * q_dim, s.kv->Keys(l), s.kv->Values(l), a.attn.data() + row0 * q_dim, s.n_tokens,
                s.pos0, s.pos0 + s.n_tokens, shape, a.attention, ctx);
      row0 += s.n_tokens;
    }
    MatMul(L.wo, a.attn.data(), n_tokens, L.bo, a.h.data(), a.matmul, ctx);  // [n_tokens, d_model]
    AddInPlace(a.x.data(), a.h.data(), n_tokens * d, ctx);

    // Feed-forward block (SwiGLU): x += W_down (silu(W_gate h) * W_up h), h = norm(x).
    RmsNormRows(a.x.data(), L.ffn_norm, c.norm_eps, a.h.data(), n_tokens, d, d, ctx);
    MatMulSwiGlu(L.w_gate, L.w_up, a.h.data(), n_tokens, a.gate.data(), a.up.data(), a.matmul, ctx);  // [n_tokens, d_ff]
    MatMul(L.w_down, a.gate.data(), n_tokens, nullptr, a.h.data(), a.matmul, ctx);  // [n_tokens, d_model]
    AddInPlace(a.x.data(), a.h.data(), n_tokens * d, ctx);
  }
};

}  // namespace

const LayerFamily& DenseLayerFamily() {
  static const DenseLayer family;
  return family;
}

}  // namespace r1
