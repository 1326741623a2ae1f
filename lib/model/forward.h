// forward.h — the transformer forward pass shared by prefill and decode.
//
// Prefill is decode with more rows: Forward takes n_tokens new tokens at positions
// pos0 .. pos0 + n_tokens - 1, appends their keys and values to the cache, and returns the
// logits of the rows asked for.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/types/span.h"

#include "model/device_layers.h"
#include "model/kv_cache.h"
#include "model/model_impl.h"
#include "ops/attention.h"
#include "ops/head_matmul.h"
#include "ops/matmul.h"
#include "ops/moe.h"
#include "ops/op_context.h"

namespace r1 {

// Per-session buffers, sized once for the largest batch: the decode loop allocates nothing.
struct Activations {
  int64_t max_tokens = 0;
  std::vector<float> x;        // [max_tokens, d_model] residual stream
  std::vector<float> h;        // [max_tokens, d_model] normalized input of a block
  std::vector<float> q;        // [max_tokens, n_heads * head_dim]
  std::vector<float> k;        // [max_tokens, kv width] new keys (MLA: new cache rows) before the cache
  std::vector<float> v;        // [max_tokens, n_kv_heads * head_dim] new values
  std::vector<float> attn;     // [max_tokens, n_heads * head_dim]
  std::vector<float> gate;     // [max_tokens, d_ff]
  std::vector<float> up;       // [max_tokens, d_ff]
  std::vector<float> cos_sin;  // [max_tokens, n_rot]
  std::vector<float> logits;   // [n_vocab]; [n_tokens, n_vocab] after a kAll pass (LogitsFor)
  MatMulScratch matmul;
  AttentionScratch attention;

  // deepseek2 (MLA, mixture of experts).
  std::vector<float> q_a;       // [max_tokens, q_lora_rank]
  std::vector<float> q_lat;     // [max_tokens, n_heads, kv_lora_rank + n_rot] absorbed queries
  std::vector<float> o_lat;     // [max_tokens, n_heads, kv_lora_rank] attention-weighted latents
  std::vector<float> ffn_out;   // [max_tokens, d_model]
  std::vector<uint8_t> head_conv;  // per-head activations in vec_dot_type (HeadMatMul)
  MoeScratch moe;

  // The logits buffer for n_rows rows. One row is sized by Init; more (only a pass asking for
  // every row's logits) grow it then, so that a long prompt batch does not keep n_batch rows of
  // the vocabulary resident (311 MB for 512 rows of 151,936) when only the last is wanted.
  float* LogitsFor(int64_t n_rows, int64_t n_vocab) {
    const size_t need = static_cast<size_t>(n_rows * n_vocab);
    if (logits.size() < need) logits.resize(need);
    return logits.data();
  }
  ExpertReadStats expert_stats;  // what the routed experts read, summed over Forward calls
  // The layers a device runs for this session (SessionOptions::gpu_layers), or null: all on
  // the CPU. Owned by the session.
  DeviceLayers* device_layers = nullptr;
  // The reference MLA path: decompress every cached position into per-head keys and values
  // and run ordinary attention. For tests; EnablePlainMla sizes its buffers.
  bool mla_plain = false;
  std::vector<float> plain_k;    // [n_ctx, n_heads * head_dim]
  std::vector<float> plain_v;    // [n_ctx, n_heads * v_head_dim]
  std::vector<float> plain_lat;  // [n_ctx, kv_lora_rank]
  std::vector<float> plain_tmp;  // [n_ctx, max(v_head_dim, qk_nope_dim)]
  std::vector<float> plain_row;  // [qk_nope_dim] one dequantized row of attn_k_b
  std::vector<float> plain_cache;  // [n_ctx, kv_lora_rank + n_rot] the cache rows in f32

  // Sizes every buffer the model's layers use; cache_type decides the attention engine's
  // buffers (attention.h).
  void Init(const Model::Impl& model, int64_t max_tokens, int64_t n_ctx, int n_threads, DType cache_type);
  void EnablePlainMla(const ModelConfig& c, int64_t n_ctx, int n_threads);
};

// Sizes the cache for the model as its layer family keeps it (per-head keys and values for
// dense models, one (kv_lora_rank + n_rot) row per position for MLA models), stored as `type`.
Status InitKvCache(const Model::Impl& model, int64_t n_ctx, DType type, Isa isa, KvCache& kv);

enum class LogitRows { kNone, kLast, kAll };

// One sequence's share of a forward pass: the next n_tokens rows of the batch are its tokens at
// positions pos0 … pos0 + n_tokens - 1, appended to its own cache. A pass may carry several
// sequences (one decode step of many conversations): the weight products run over all rows at
// once, so the weights are read once for all; rotation, cache and attention run per sequence.
struct SequenceRows {
  KvCache* kv;
  int64_t pos0;
  int64_t n_tokens;
};

// Runs the model on `tokens` (the sequences' rows in order; ids already checked < n_vocab) and
// writes logits to acts.logits: none for kNone (the caches are filled only), each sequence's
// last row for kLast ([n_sequences, n_vocab]), every row for kAll. pos0 + n_tokens <= kv->n_ctx().
// Fails only where a device runs layers (acts.device_layers) and fails.
Status Forward(const Model::Impl& model, const int32_t* tokens, absl::Span<const SequenceRows> sequences,
               LogitRows rows, Activations& acts, OpContext& ctx);

// One sequence.
inline Status Forward(const Model::Impl& model, const int32_t* tokens, int64_t n_tokens, int64_t pos0, LogitRows rows,
                      KvCache& kv, Activations& acts, OpContext& ctx) {
  const SequenceRows one{&kv, pos0, n_tokens};
  return Forward(model, tokens, {&one, 1}, rows, acts, ctx);
}

// The total rows of `sequences`.
int64_t TotalRows(absl::Span<const SequenceRows> sequences);

}  // namespace r1
