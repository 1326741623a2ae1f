// attention.h — causal attention of new tokens over the KV cache.
//
// Two engines, chosen by what the cache stores (the session's cache type, never per call):
//  - f16 / q8_0 rows: FlashAttention. Blocks of cached positions are converted to f32 once
//    and used by every query row of a tile (all query heads that share the KV head, and
//    several tokens in a prompt), with an online softmax, so each cached row is read once per
//    token and KV head. Each row's softmax is formed per chunk of 256 positions (aligned to
//    position 0) and the chunks merged in order; with few tiles (decode) the threads share the
//    chunks. A row's arithmetic thus depends on its position and the cache only: any thread
//    count, and a prompt or the same tokens one at a time, give the same bits.
//  - f32 rows: ExactAttention. Whole score rows, softmax, weighted sum: the reference's
//    arithmetic, for the f32 cache, r1's exactness mode.
#pragma once

#include <cstdint>
#include <vector>

#include "ops/op_context.h"
#include "r1/dtype.h"

namespace r1 {

// Cached rows of one layer: position p's row starts at data + p * row_bytes.
struct KvRows {
  const uint8_t* data = nullptr;
  DType type = DType::kF32;
  uint64_t row_bytes = 0;
};

struct AttentionShape {
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;   // query head h uses KV head h / (n_heads / n_kv_heads)
  int64_t k_dim = 0;        // query/key length per head; KV head g's key is at element g * k_dim of a row
  int64_t v_dim = 0;        // value length per head; KV head g's value is at element g * v_dim of a row
  int64_t q_stride = 0;     // floats between tokens of q; head h's query starts at h * k_dim
  int64_t out_stride = 0;   // floats between tokens of out; head h writes at h * v_dim
  float scale = 1.0f;       // on q·k, usually 1/sqrt(k_dim)
  bool values_in_keys = false;  // MLA: one KV head whose values are the first v_dim of each key row
};

// Per-thread buffers, sized by Reserve for the session's shapes, so that the decode loop
// allocates nothing. A call with larger shapes or more threads than reserved grows them (never
// shrinks); the buffer of shared chunks' partial results grows with the cache in decode.
struct AttentionScratch {
  int n_threads = 0;
  int64_t k_dim = 0, v_dim = 0;  // what the tiles hold
  int64_t block = 0;             // cached positions per tile
  int64_t thread_floats = 0;
  std::vector<float> tiles;      // FlashAttention: [n_threads][thread_floats]
  std::vector<float> partials;   // FlashAttention: shared chunks' results before merging
  int64_t scores_stride = 0;
  std::vector<float> scores;     // ExactAttention: [n_threads][scores_stride]

  // flash: tiles for keys of k_dim and values of v_dim; exact_ctx > 0: score rows that long.
  void Reserve(int n_threads, bool flash, int64_t k_dim, int64_t v_dim, int64_t exact_ctx);
};

//   q:   [n_tokens, q_stride], token t at position pos0 + t
//   k, v: rows of positions 0 .. n_kv - 1 (the new tokens' included); v may be k itself
//   out: [n_tokens, out_stride]
// Token t attends to positions 0 .. min(n_kv, pos0 + t + 1) - 1. F32 rows take ExactAttention,
// the others FlashAttention.
void Attention(const float* q, const KvRows& k, const KvRows& v, float* out, int64_t n_tokens, int64_t pos0,
               int64_t n_kv, const AttentionShape& shape, AttentionScratch& scratch, OpContext& ctx);

// The engines themselves (tests compare them). FlashAttention takes rows of any cache type;
// ExactAttention takes F32 rows only.
void FlashAttention(const float* q, const KvRows& k, const KvRows& v, float* out, int64_t n_tokens, int64_t pos0,
                    int64_t n_kv, const AttentionShape& shape, AttentionScratch& scratch, OpContext& ctx);
void ExactAttention(const float* q, const KvRows& k, const KvRows& v, float* out, int64_t n_tokens, int64_t pos0,
                    int64_t n_kv, const AttentionShape& shape, AttentionScratch& scratch, OpContext& ctx);

}  // namespace r1
