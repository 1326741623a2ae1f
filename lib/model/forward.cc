// forward.cc — embed → (attention block, feed-forward block) × n_layers → norm → logits.
#include "model/forward.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "ops/rope.h"

namespace r1 {

Status InitKvCache(const ModelConfig& c, int64_t n_ctx, DType type, Isa isa, KvCache& kv) {
  if (c.kv_lora_rank > 0) {
    // One shared row [latent, k_pe]; its blocks must not straddle the two parts.
    return kv.Init(c.n_layers, n_ctx, c.kv_lora_rank + c.n_rot, 0, type, std::gcd(c.kv_lora_rank, c.n_rot), isa);
  }
  return kv.Init(c.n_layers, n_ctx, c.n_kv_heads * c.head_dim, c.n_kv_heads * c.head_dim, type, c.head_dim, isa);
}

void Activations::Init(const ModelConfig& c, int64_t n, int64_t n_ctx, int n_threads, DType cache_type) {
  max_tokens = n;
  const auto sized = [n](int64_t width) { return static_cast<size_t>(n * width); };
  const bool mla = c.kv_lora_rank > 0;
  const int64_t d_ff = std::max(c.d_ff, c.n_experts_shared * c.d_ff_expert);
  x.assign(sized(c.d_model), 0.0f);
  h.assign(sized(c.d_model), 0.0f);
  q.assign(sized(c.n_heads * c.head_dim), 0.0f);
  k.assign(sized(mla ? c.kv_lora_rank + c.n_rot : c.n_kv_heads * c.head_dim), 0.0f);
  v.assign(sized(mla ? 0 : c.n_kv_heads * c.head_dim), 0.0f);
  attn.assign(sized(c.n_heads * (mla ? c.v_head_dim : c.head_dim)), 0.0f);
  gate.assign(sized(d_ff), 0.0f);
  up.assign(sized(d_ff), 0.0f);
  if (mla) {
    q_a.assign(sized(c.q_lora_rank), 0.0f);
    q_lat.assign(sized(c.n_heads * (c.kv_lora_rank + c.n_rot)), 0.0f);
    o_lat.assign(sized(c.n_heads * c.kv_lora_rank), 0.0f);
    ffn_out.assign(sized(c.d_model), 0.0f);
    head_conv.assign(HeadMatMulScratchBytes(c.n_heads, std::max(c.qk_nope_dim, c.kv_lora_rank)), 0);
    if (c.n_experts > 0) moe.Init(c, n);
  }
  cos_sin.assign(sized(c.n_rot), 0.0f);
  logits.assign(static_cast<size_t>(c.n_vocab), 0.0f);
  const bool exact = cache_type == DType::kF32;
  const int64_t k_dim = mla ? c.kv_lora_rank + c.n_rot : c.head_dim, v_dim = mla ? c.kv_lora_rank : c.head_dim;
  attention.Reserve(n_threads, !exact, k_dim, v_dim, exact ? n_ctx : 0);
}

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

void RmsNormRows(const float* x, const float* w, float eps, float* out, int64_t n_tokens, int64_t width,
                 OpContext& ctx) {
  for (int64_t t = 0; t < n_tokens; ++t) ctx.kernels->rms_norm(x + t * width, w, eps, out + t * width, width);
}

void AddInPlace(float* x, const float* delta, int64_t n, OpContext& ctx) { ctx.kernels->add(x, delta, x, n); }

}  // namespace

int64_t TotalRows(absl::Span<const SequenceRows> sequences) {
  int64_t n = 0;
  for (const SequenceRows& s : sequences) n += s.n_tokens;
  return n;
}

int64_t NormalizeOutputRows(const float* x, const float* norm, float eps, int64_t width,
                            absl::Span<const SequenceRows> sequences, LogitRows rows, float* out, OpContext& ctx) {
  int64_t row0 = 0, n_out = 0;
  for (const SequenceRows& s : sequences) {
    const int64_t first = rows == LogitRows::kAll ? 0 : s.n_tokens - 1;
    for (int64_t t = first; t < s.n_tokens; ++t, ++n_out) {
      ctx.kernels->rms_norm(x + (row0 + t) * width, norm, eps, out + n_out * width, width);
    }
    row0 += s.n_tokens;
  }
  return n_out;
}

void Forward(const Model::Impl& model, const int32_t* tokens, absl::Span<const SequenceRows> sequences,
             LogitRows rows, Activations& a, OpContext& ctx) {
  if (model.config.kv_lora_rank > 0) {
    ForwardDeepseek2(model, tokens, sequences, rows, a, ctx);
    return;
  }
  const ModelConfig& c = model.config;
  const ModelWeights& w = *model.weights;
  const int64_t d = c.d_model, q_dim = c.n_heads * c.head_dim, kv_dim = c.n_kv_heads * c.head_dim;
  const int64_t n_tokens = TotalRows(sequences);
  const AttentionShape shape{c.n_heads, c.n_kv_heads, c.head_dim, c.head_dim, q_dim, q_dim,
                             1.0f / std::sqrt(static_cast<float>(c.head_dim))};

  GetRows(w.token_embd, tokens, n_tokens, a.x.data(), ctx);  // x: [n_tokens, d_model]

  const RopeParams rope{c.n_rot, c.rope_freq_base, c.rope_freq_scale, w.rope_freq_factors};
  for (int64_t row0 = 0; const SequenceRows& s : sequences) {
    for (int64_t t = 0; t < s.n_tokens; ++t) RopeCosSin(s.pos0 + t, rope, a.cos_sin.data() + (row0 + t) * c.n_rot);
    row0 += s.n_tokens;
  }

  for (int64_t l = 0; l < c.n_layers; ++l) {
    const LayerWeights& L = w.layers[static_cast<size_t>(l)];

    // Attention block: x += Wo · attention(rope(Wq h), rope(Wk h), Wv h), h = norm(x); Qwen3
    // normalizes each query and key head before RoPE.
    RmsNormRows(a.x.data(), L.attn_norm, c.norm_eps, a.h.data(), n_tokens, d, ctx);
    const MatMulPart qkv[] = {{&L.wq, L.bq, a.q.data()}, {&L.wk, L.bk, a.k.data()}, {&L.wv, L.bv, a.v.data()}};
    MatMulShared(qkv, 3, a.h.data(), n_tokens, a.matmul, ctx);  // q: [n_tokens, q_dim], k, v: [n_tokens, kv_dim]
    if (c.has_qk_norm) {  // Qwen3: each head's query and key normalized on its own
      RmsNormRows(a.q.data(), L.q_norm, c.norm_eps, a.q.data(), n_tokens * c.n_heads, c.head_dim, ctx);
      RmsNormRows(a.k.data(), L.k_norm, c.norm_eps, a.k.data(), n_tokens * c.n_kv_heads, c.head_dim, ctx);
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
    RmsNormRows(a.x.data(), L.ffn_norm, c.norm_eps, a.h.data(), n_tokens, d, ctx);
    MatMulSwiGlu(L.w_gate, L.w_up, a.h.data(), n_tokens, a.gate.data(), a.up.data(), a.matmul, ctx);  // [n_tokens, d_ff]
    MatMul(L.w_down, a.gate.data(), n_tokens, nullptr, a.h.data(), a.matmul, ctx);  // [n_tokens, d_model]
    AddInPlace(a.x.data(), a.h.data(), n_tokens * d, ctx);
  }

  // Output: logits = W_out · norm(x), for the rows asked for.
  if (rows == LogitRows::kNone) return;
  const int64_t n_out = NormalizeOutputRows(a.x.data(), w.output_norm, c.norm_eps, d, sequences, rows, a.h.data(), ctx);
  MatMul(w.output, a.h.data(), n_out, nullptr, a.LogitsFor(n_out, c.n_vocab), a.matmul, ctx);  // [n_out, n_vocab]
}

}  // namespace r1
