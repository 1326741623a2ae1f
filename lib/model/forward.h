// forward.h — the transformer forward pass shared by prefill and decode.
//
// Prefill is decode with more rows: Forward takes n_tokens new tokens at positions
// pos0 .. pos0 + n_tokens - 1, appends their keys and values to the cache, and returns the
// logits of the rows asked for.
#pragma once

#include <cstdint>
#include <vector>

#include "model/kv_cache.h"
#include "model/model_impl.h"
#include "ops/attention.h"
#include "ops/matmul.h"
#include "ops/op_context.h"

namespace r1 {

// Per-session buffers, sized once for the largest batch: the decode loop allocates nothing.
struct Activations {
  int64_t max_tokens = 0;
  std::vector<float> x;        // [max_tokens, d_model] residual stream
  std::vector<float> h;        // [max_tokens, d_model] normalized input of a block
  std::vector<float> q;        // [max_tokens, n_heads * head_dim]
  std::vector<float> attn;     // [max_tokens, n_heads * head_dim]
  std::vector<float> gate;     // [max_tokens, d_ff]
  std::vector<float> up;       // [max_tokens, d_ff]
  std::vector<float> cos_sin;  // [max_tokens, n_rot]
  std::vector<float> logits;   // [max_tokens, n_vocab]
  MatMulScratch matmul;
  AttentionScratch attention;

  void Init(const ModelConfig& c, int64_t max_tokens, int64_t n_ctx, int n_threads);
};

enum class LogitRows { kNone, kLast, kAll };

// Runs the model on `tokens` (ids already checked < n_vocab) and writes logits to
// acts.logits: none for kNone (the cache is filled only), one row for kLast, n_tokens rows for kAll. pos0 + n_tokens <= kv.n_ctx().
void Forward(const Model::Impl& model, const int32_t* tokens, int64_t n_tokens, int64_t pos0, LogitRows rows,
             KvCache& kv, Activations& acts, OpContext& ctx);

}  // namespace r1
