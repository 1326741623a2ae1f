// deepseek2_layer.cc — the DeepSeek-V2/V3/R1 layer: multi-head latent attention (MLA) over a
// compressed cache, then a dense (leading layers) or mixture-of-experts feed-forward.
//
// Per token and layer the cache holds one row [latent (kv_lora_rank), k_pe (n_rot)]: the
// normalized output of attn_kv_a_mqa and its rotated shared key part. With per-head matrices
// W_kb[h] (qk_nope -> latent, i.e. k_nope_h = W_kb[h]^T latent) and W_vb[h] (latent -> v):
//   score(t, j, h) = q_nope_h · k_nope_h(j) + q_pe_h · k_pe(j)
//                  = (W_kb[h] q_nope_h) · latent(j) + q_pe_h · k_pe(j)
//   out_h(t)       = sum_j p_j W_vb[h] latent(j) = W_vb[h] (sum_j p_j latent(j))
// so the absorbed form turns each query into latent space once, attends over the cached rows
// as one shared key/value head, and expands the weighted latent once per head: the work per
// cached position is kv_lora_rank + n_rot per head, independent of head size.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "model/layer_family.h"
#include "model/row_ops.h"
#include "ops/head_matmul.h"
#include "ops/yarn.h"
#include "quant/quant_kernels.h"

namespace r1 {
namespace {

// Copies `width` floats of each of n rows from src (row stride src_stride) to dst (dst_stride).
void CopyRows(const float* src, int64_t src_stride, float* dst, int64_t dst_stride, int64_t n, int64_t width) {
  for (int64_t t = 0; t < n; ++t) {
    std::memcpy(dst + t * dst_stride, src + t * src_stride, static_cast<size_t>(width) * sizeof(float));
  }
}

// Absorbed MLA: queries to latent space, attention of each sequence over its cached rows,
// per-head expansion. The per-head products run over all rows at once.
void AbsorbedAttention(const ModelConfig& c, const LayerWeights& L, int64_t layer,
                       absl::Span<const SequenceRows> sequences, int64_t n_tokens, Activations& a, OpContext& ctx) {
  const int64_t H = c.n_heads, hd = c.head_dim, nope = c.qk_nope_dim, lat = c.kv_lora_rank, rope = c.n_rot;
  const int64_t row = lat + rope, vd = c.v_head_dim;
  // q_lat = [W_kb[h] q_nope_h, q_pe_h] per head: [n_tokens, n_heads, kv_lora_rank + n_rot]
  HeadMatMul(L.wk_b, a.q.data(), H * hd, hd, n_tokens, a.q_lat.data(), H * row, row, a.head_conv, ctx);
  for (int64_t h = 0; h < H; ++h) {
    CopyRows(a.q.data() + h * hd + nope, H * hd, a.q_lat.data() + h * row + lat, H * row, n_tokens, rope);
  }
  // One shared KV head: keys are whole cached rows, values their latent part.
  AttentionShape shape{H, 1, row, lat, H * row, H * lat, c.attn_scale};
  shape.values_in_keys = true;
  for (int64_t row0 = 0; const SequenceRows& s : sequences) {
    const KvRows cache = s.kv->Keys(layer);
    Attention(a.q_lat.data() + row0 * H * row, cache, cache, a.o_lat.data() + row0 * H * lat, s.n_tokens, s.pos0,
              s.pos0 + s.n_tokens, shape, a.attention, ctx);
    row0 += s.n_tokens;
  }
  // attn[t, h] = W_vb[h] o_lat[t, h]: [n_tokens, n_heads * v_head_dim]
  HeadMatMul(L.wv_b, a.o_lat.data(), H * lat, lat, n_tokens, a.attn.data(), H * vd, vd, a.head_conv, ctx);
}

// Reference MLA: every cached position decompressed into per-head keys [k_nope, k_pe] and
// values, then ordinary multi-head attention.
void PlainAttention(const ModelConfig& c, const LayerWeights& L, const KvCache& kv, int64_t layer, int64_t row0,
                    int64_t n_tokens, int64_t pos0, Activations& a, OpContext& ctx) {
  const int64_t H = c.n_heads, hd = c.head_dim, nope = c.qk_nope_dim, lat = c.kv_lora_rank, rope = c.n_rot;
  const int64_t row = lat + rope, vd = c.v_head_dim, n_kv = pos0 + n_tokens;
  float* cache = a.plain_cache.data();  // the cached rows in f32
  for (int64_t j = 0; j < n_kv; ++j) kv.LoadKeys(layer, j, cache + j * row);
  CopyRows(cache, row, a.plain_lat.data(), lat, n_kv, lat);
  float* w_row = a.plain_row.data();
  for (int64_t h = 0; h < H; ++h) {
    // k_nope_h(j)[i] = sum_r W_kb[h][r][i] latent(j)[r]
    const WeightMatrix& kb = L.wk_b[static_cast<size_t>(h)];
    const QuantKernels* qk = GetQuantKernels(Isa::kScalar, kb.type);
    std::fill(a.plain_tmp.begin(), a.plain_tmp.begin() + n_kv * nope, 0.0f);
    for (int64_t r = 0; r < lat; ++r) {
      qk->to_float(kb.Row(r), w_row, nope);
      for (int64_t j = 0; j < n_kv; ++j) {
        ctx.kernels->axpy(a.plain_lat[static_cast<size_t>(j * lat + r)], w_row, a.plain_tmp.data() + j * nope, nope);
      }
    }
    CopyRows(a.plain_tmp.data(), nope, a.plain_k.data() + h * hd, H * hd, n_kv, nope);
    CopyRows(cache + lat, row, a.plain_k.data() + h * hd + nope, H * hd, n_kv, rope);
    MatMul(L.wv_b[static_cast<size_t>(h)], a.plain_lat.data(), n_kv, nullptr, a.plain_tmp.data(), a.matmul, ctx);
    CopyRows(a.plain_tmp.data(), vd, a.plain_v.data() + h * vd, H * vd, n_kv, vd);
  }
  const AttentionShape s{H, H, hd, vd, H * hd, H * vd, c.attn_scale};
  const auto f32_rows = [](const std::vector<float>& rows, int64_t width) {
    return KvRows{reinterpret_cast<const uint8_t*>(rows.data()), DType::kF32, static_cast<uint64_t>(width) * sizeof(float)};
  };
  ExactAttention(a.q.data() + row0 * H * hd, f32_rows(a.plain_k, H * hd), f32_rows(a.plain_v, H * vd),
                 a.attn.data() + row0 * H * vd, n_tokens, pos0, n_kv, s, a.attention, ctx);
}

void SwiGlu(const WeightMatrix& gate, const WeightMatrix& up, const WeightMatrix& down, const float* x,
            int64_t n_tokens, float* out, Activations& a, OpContext& ctx) {
  MatMulSwiGlu(gate, up, x, n_tokens, a.gate.data(), a.up.data(), a.matmul, ctx);
  MatMul(down, a.gate.data(), n_tokens, nullptr, out, a.matmul, ctx);
}

class Deepseek2Layer final : public LayerFamily {
 public:
  Status BindLayer(WeightBinder& b, const ModelConfig& c, int64_t l, LayerWeights& L) const override {
    const int64_t q_dim = c.n_heads * c.head_dim, latent = c.kv_lora_rank;
    R1_ASSIGN_OR_RETURN(L.attn_norm, b.Vector(BlockTensor(l, "attn_norm.weight"), c.d_model, true));
    if (c.q_lora_rank > 0) {
      R1_ASSIGN_OR_RETURN(L.wq_a, b.Matrix(BlockTensor(l, "attn_q_a.weight"), c.d_model, c.q_lora_rank));
      R1_ASSIGN_OR_RETURN(L.q_a_norm, b.Vector(BlockTensor(l, "attn_q_a_norm.weight"), c.q_lora_rank, true));
      R1_ASSIGN_OR_RETURN(L.wq_b, b.Matrix(BlockTensor(l, "attn_q_b.weight"), c.q_lora_rank, q_dim));
    } else {
      R1_ASSIGN_OR_RETURN(L.wq_b, b.Matrix(BlockTensor(l, "attn_q.weight"), c.d_model, q_dim));
    }
    R1_ASSIGN_OR_RETURN(L.wkv_a, b.Matrix(BlockTensor(l, "attn_kv_a_mqa.weight"), c.d_model, latent + c.n_rot));
    R1_ASSIGN_OR_RETURN(L.kv_a_norm, b.Vector(BlockTensor(l, "attn_kv_a_norm.weight"), latent, true));
    R1_ASSIGN_OR_RETURN(const GgufTensorInfo* k_b, b.Find(BlockTensor(l, "attn_k_b.weight"), false));
    if (k_b != nullptr) {
      R1_ASSIGN_OR_RETURN(const GgufTensorInfo* v_b, b.Find(BlockTensor(l, "attn_v_b.weight"), true));
      R1_ASSIGN_OR_RETURN(L.wk_b, b.PerHead(*k_b, c.qk_nope_dim, latent, c.n_heads));
      R1_ASSIGN_OR_RETURN(L.wv_b, b.PerHead(*v_b, latent, c.v_head_dim, c.n_heads));
    } else {
      R1_ASSIGN_OR_RETURN(const GgufTensorInfo* kv_b, b.Find(BlockTensor(l, "attn_kv_b.weight"), true));
      R1_RETURN_IF_ERROR(b.SplitKvB(*kv_b, c, L));
    }
    R1_ASSIGN_OR_RETURN(L.wo, b.Matrix(BlockTensor(l, "attn_output.weight"), c.n_heads * c.v_head_dim, c.d_model));
    R1_ASSIGN_OR_RETURN(L.ffn_norm, b.Vector(BlockTensor(l, "ffn_norm.weight"), c.d_model, true));
    if (l < c.n_dense_lead) {
      R1_ASSIGN_OR_RETURN(L.w_gate, b.Matrix(BlockTensor(l, "ffn_gate.weight"), c.d_model, c.d_ff));
      R1_ASSIGN_OR_RETURN(L.w_up, b.Matrix(BlockTensor(l, "ffn_up.weight"), c.d_model, c.d_ff));
      R1_ASSIGN_OR_RETURN(L.w_down, b.Matrix(BlockTensor(l, "ffn_down.weight"), c.d_ff, c.d_model));
      return absl::OkStatus();
    }
    R1_ASSIGN_OR_RETURN(L.experts.router, b.Matrix(BlockTensor(l, "ffn_gate_inp.weight"), c.d_model, c.n_experts));
    R1_ASSIGN_OR_RETURN(L.experts.selection_bias, b.Vector(BlockTensor(l, "exp_probs_b.bias"), c.n_experts, false));
    R1_ASSIGN_OR_RETURN(L.experts.gate, b.Experts(BlockTensor(l, "ffn_gate_exps.weight"), c.d_model, c.d_ff_expert, c.n_experts));
    R1_ASSIGN_OR_RETURN(L.experts.up, b.Experts(BlockTensor(l, "ffn_up_exps.weight"), c.d_model, c.d_ff_expert, c.n_experts));
    R1_ASSIGN_OR_RETURN(L.experts.down, b.Experts(BlockTensor(l, "ffn_down_exps.weight"), c.d_ff_expert, c.d_model, c.n_experts));
    if (c.n_experts_shared > 0) {
      const int64_t d_sh = c.n_experts_shared * c.d_ff_expert;
      L.has_shexp = true;
      R1_ASSIGN_OR_RETURN(L.gate_shexp, b.Matrix(BlockTensor(l, "ffn_gate_shexp.weight"), c.d_model, d_sh));
      R1_ASSIGN_OR_RETURN(L.up_shexp, b.Matrix(BlockTensor(l, "ffn_up_shexp.weight"), c.d_model, d_sh));
      R1_ASSIGN_OR_RETURN(L.down_shexp, b.Matrix(BlockTensor(l, "ffn_down_shexp.weight"), d_sh, c.d_model));
    }
    return absl::OkStatus();
  }

  // One shared row [latent, k_pe] per position; its blocks must not straddle the two parts.
  Status InitKvCache(const ModelConfig& c, int64_t n_ctx, DType type, Isa isa, KvCache& kv) const override {
    return kv.Init(c.n_layers, n_ctx, c.kv_lora_rank + c.n_rot, 0, type, std::gcd(c.kv_lora_rank, c.n_rot), isa);
  }

  void InitActivations(const ModelConfig& c, int64_t n, int64_t n_ctx, int n_threads, DType cache_type,
                       Activations& a) const override {
    const auto sized = [n](int64_t width) { return static_cast<size_t>(n * width); };
    const int64_t d_ff = std::max(c.d_ff, c.n_experts_shared * c.d_ff_expert);
    a.k.assign(sized(c.kv_lora_rank + c.n_rot), 0.0f);  // the new cache rows
    a.attn.assign(sized(c.n_heads * c.v_head_dim), 0.0f);
    a.gate.assign(sized(d_ff), 0.0f);
    a.up.assign(sized(d_ff), 0.0f);
    a.q_a.assign(sized(c.q_lora_rank), 0.0f);
    a.q_lat.assign(sized(c.n_heads * (c.kv_lora_rank + c.n_rot)), 0.0f);
    a.o_lat.assign(sized(c.n_heads * c.kv_lora_rank), 0.0f);
    a.ffn_out.assign(sized(c.d_model), 0.0f);
    a.head_conv.assign(HeadMatMulScratchBytes(c.n_heads, std::max(c.qk_nope_dim, c.kv_lora_rank)), 0);
    if (c.n_experts > 0) a.moe.Init(c, n);
    // Absorbed attention: one shared key/value head of whole cache rows, values their latent part.
    const bool exact = cache_type == DType::kF32;
    a.attention.Reserve(n_threads, !exact, c.kv_lora_rank + c.n_rot, c.kv_lora_rank, exact ? n_ctx : 0);
  }

  void RotationTable(const ModelConfig& c, const ModelWeights&, absl::Span<const SequenceRows> sequences,
                     float* cos_sin) const override {
    const YarnParams yarn = MakeYarnParams(c.n_rot, c.rope_freq_base, c.rope_freq_scale, c.yarn_ext_factor,
                                           c.yarn_attn_factor, c.yarn_n_ctx_orig, c.yarn_beta_fast, c.yarn_beta_slow);
    for (int64_t row0 = 0; const SequenceRows& s : sequences) {
      for (int64_t t = 0; t < s.n_tokens; ++t) YarnCosSin(s.pos0 + t, yarn, cos_sin + (row0 + t) * c.n_rot);
      row0 += s.n_tokens;
    }
  }

  void Layer(const ModelConfig& c, const LayerWeights& L, int64_t l, absl::Span<const SequenceRows> sequences,
             int64_t n_tokens, Activations& a, OpContext& ctx) const override {
    const FloatKernels& fk = *ctx.kernels;
    const int64_t d = c.d_model, H = c.n_heads, hd = c.head_dim, nope = c.qk_nope_dim, rope = c.n_rot;
    const int64_t lat = c.kv_lora_rank, row = lat + rope;

    // Queries: [n_tokens, n_heads, qk_nope + n_rot], through the low-rank path when present.
    RmsNormRows(a.x.data(), L.attn_norm, c.norm_eps, a.h.data(), n_tokens, d, d, ctx);
    if (c.q_lora_rank > 0) {
      MatMul(L.wq_a, a.h.data(), n_tokens, nullptr, a.q_a.data(), a.matmul, ctx);
      RmsNormRows(a.q_a.data(), L.q_a_norm, c.norm_eps, a.q_a.data(), n_tokens, c.q_lora_rank, c.q_lora_rank, ctx);
      MatMul(L.wq_b, a.q_a.data(), n_tokens, nullptr, a.q.data(), a.matmul, ctx);
    } else {
      MatMul(L.wq_b, a.h.data(), n_tokens, nullptr, a.q.data(), a.matmul, ctx);
    }
    // The new cache rows: [latent, k_pe] straight from attn_kv_a_mqa, then normed / rotated.
    float* fresh = a.k.data();  // [n_tokens, kv_lora_rank + n_rot]
    MatMul(L.wkv_a, a.h.data(), n_tokens, nullptr, fresh, a.matmul, ctx);
    for (int64_t t = 0; t < n_tokens; ++t) {
      const float* cs = a.cos_sin.data() + t * rope;
      for (int64_t h = 0; h < H; ++h) fk.rope(a.q.data() + (t * H + h) * hd + nope, cs, static_cast<size_t>(rope), false);
      fk.rope(fresh + t * row + lat, cs, static_cast<size_t>(rope), false);
    }
    RmsNormRows(fresh, L.kv_a_norm, c.norm_eps, fresh, n_tokens, lat, row, ctx);
    for (int64_t row0 = 0; const SequenceRows& s : sequences) {  // each sequence into its own cache
      s.kv->StoreKeys(l, s.pos0, s.n_tokens, fresh + row0 * row, row);
      if (a.mla_plain) PlainAttention(c, L, *s.kv, l, row0, s.n_tokens, s.pos0, a, ctx);
      row0 += s.n_tokens;
    }
    if (!a.mla_plain) AbsorbedAttention(c, L, l, sequences, n_tokens, a, ctx);
    MatMul(L.wo, a.attn.data(), n_tokens, nullptr, a.h.data(), a.matmul, ctx);  // [n_tokens, d_model]
    AddInPlace(a.x.data(), a.h.data(), n_tokens * d, ctx);

    // Feed-forward: dense SwiGLU in the leading layers, routed plus shared experts after.
    RmsNormRows(a.x.data(), L.ffn_norm, c.norm_eps, a.h.data(), n_tokens, d, d, ctx);
    if (l < c.n_dense_lead) {
      SwiGlu(L.w_gate, L.w_up, L.w_down, a.h.data(), n_tokens, a.ffn_out.data(), a, ctx);
    } else {
      MoeFeedForward(c, L.experts, a.h.data(), n_tokens, a.ffn_out.data(), a.moe, a.matmul, &a.expert_stats, ctx);
      if (L.has_shexp) {
        SwiGlu(L.gate_shexp, L.up_shexp, L.down_shexp, a.h.data(), n_tokens, a.h.data(), a, ctx);
        AddInPlace(a.ffn_out.data(), a.h.data(), n_tokens * d, ctx);
      }
    }
    AddInPlace(a.x.data(), a.ffn_out.data(), n_tokens * d, ctx);
  }
};

}  // namespace

void Activations::EnablePlainMla(const ModelConfig& c, int64_t n_ctx, int n_threads) {
  const auto sized = [n_ctx](int64_t width) { return static_cast<size_t>(n_ctx * width); };
  mla_plain = true;
  // Plain MLA attends over decompressed f32 rows: the exact engine, whole score rows.
  attention.Reserve(n_threads, false, c.head_dim, c.v_head_dim, n_ctx);
  plain_cache.assign(sized(c.kv_lora_rank + c.n_rot), 0.0f);
  plain_k.assign(sized(c.n_heads * c.head_dim), 0.0f);
  plain_v.assign(sized(c.n_heads * c.v_head_dim), 0.0f);
  plain_lat.assign(sized(c.kv_lora_rank), 0.0f);
  plain_tmp.assign(sized(std::max(c.v_head_dim, c.qk_nope_dim)), 0.0f);
  plain_row.assign(static_cast<size_t>(c.qk_nope_dim), 0.0f);
}

const LayerFamily& Deepseek2LayerFamily() {
  static const Deepseek2Layer family;
  return family;
}

}  // namespace r1
