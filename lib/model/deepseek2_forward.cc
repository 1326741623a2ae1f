// deepseek2_forward.cc — the DeepSeek-V2/V3/R1 block: multi-head latent attention (MLA) over a
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

#include "model/forward.h"
#include "ops/head_matmul.h"
#include "ops/yarn.h"
#include "quant/quant_kernels.h"

namespace r1 {
namespace {

void RmsNormRows(const float* x, const float* w, float eps, float* out, int64_t n_tokens, int64_t width,
                 int64_t stride, OpContext& ctx) {
  for (int64_t t = 0; t < n_tokens; ++t) ctx.kernels->rms_norm(x + t * stride, w, eps, out + t * stride, width);
}

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

}  // namespace

void ForwardDeepseek2(const Model::Impl& model, const int32_t* tokens, absl::Span<const SequenceRows> sequences,
                      LogitRows rows, Activations& a, OpContext& ctx) {
  const ModelConfig& c = model.config;
  const ModelWeights& w = *model.weights;
  const FloatKernels& fk = *ctx.kernels;
  const int64_t d = c.d_model, H = c.n_heads, hd = c.head_dim, nope = c.qk_nope_dim, rope = c.n_rot;
  const int64_t lat = c.kv_lora_rank, row = lat + rope;
  const int64_t n_tokens = TotalRows(sequences);

  GetRows(w.token_embd, tokens, n_tokens, a.x.data(), ctx);  // x: [n_tokens, d_model]
  const YarnParams yarn = MakeYarnParams(rope, c.rope_freq_base, c.rope_freq_scale, c.yarn_ext_factor,
                                         c.yarn_attn_factor, c.yarn_n_ctx_orig, c.yarn_beta_fast, c.yarn_beta_slow);
  for (int64_t row0 = 0; const SequenceRows& s : sequences) {
    for (int64_t t = 0; t < s.n_tokens; ++t) YarnCosSin(s.pos0 + t, yarn, a.cos_sin.data() + (row0 + t) * rope);
    row0 += s.n_tokens;
  }

  for (int64_t l = 0; l < c.n_layers; ++l) {
    const LayerWeights& L = w.layers[static_cast<size_t>(l)];
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
    fk.add(a.x.data(), a.h.data(), a.x.data(), static_cast<size_t>(n_tokens * d));

    // Feed-forward: dense SwiGLU in the leading layers, routed plus shared experts after.
    RmsNormRows(a.x.data(), L.ffn_norm, c.norm_eps, a.h.data(), n_tokens, d, d, ctx);
    if (l < c.n_dense_lead) {
      SwiGlu(L.w_gate, L.w_up, L.w_down, a.h.data(), n_tokens, a.ffn_out.data(), a, ctx);
    } else {
      MoeFeedForward(c, L, a.h.data(), n_tokens, a.ffn_out.data(), a.moe, a.matmul, &a.expert_stats, ctx);
      if (L.has_shexp) {
        SwiGlu(L.gate_shexp, L.up_shexp, L.down_shexp, a.h.data(), n_tokens, a.h.data(), a, ctx);
        fk.add(a.ffn_out.data(), a.h.data(), a.ffn_out.data(), static_cast<size_t>(n_tokens * d));
      }
    }
    fk.add(a.x.data(), a.ffn_out.data(), a.x.data(), static_cast<size_t>(n_tokens * d));
  }

  if (rows == LogitRows::kNone) return;
  const int64_t n_out = NormalizeOutputRows(a.x.data(), w.output_norm, c.norm_eps, d, sequences, rows, a.h.data(), ctx);
  MatMul(w.output, a.h.data(), n_out, nullptr, a.LogitsFor(n_out, c.n_vocab), a.matmul, ctx);  // [n_out, n_vocab]
}

}  // namespace r1
