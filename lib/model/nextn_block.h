// nextn_block.h — a model's multi-token-prediction (MTP, "nextn") block run as a drafter: from
// the model's last hidden state at position p and the token at p + 1, one more layer guesses the
// token at p + 2 (DeepSeek-V3's MTP module of depth 1).
//
// A row of the block combines [enorm(embedding of the next token), hnorm(hidden state)] through
// eh_proj, runs the layer with the block's own one-layer cache, and ends in the shared head. Its
// output hidden state can stand in for the model's to guess further ahead (chained drafts).
#pragma once

#include <cstdint>
#include <memory>

#include "absl/types/span.h"

#include "model/forward.h"

namespace r1 {

// One pass of rows over consecutive positions.
struct NextnRows {
  const float* hidden;         // [n, d_model] hidden states (before output_norm) at pos0 … pos0 + n - 1
  const int32_t* next_tokens;  // [n] the token after each of those positions
  int64_t n;
  int64_t pos0;   // the first row's position in the text: its rotation
  int64_t slot0;  // the first row's place in the block's cache; row i attends over slots 0 … slot0 + i
};

// OK when the model carries an MTP block r1 can run; else FailedPrecondition saying why (the
// file has none, or declares one that r1 cannot bind, naming the cause).
Status NextnBlockStatus(const Model::Impl& model);

class NextnBlock {
 public:
  // The model's first MTP block with a cache of n_ctx rows of `cache_type` and buffers for up to
  // max_rows rows a pass; NextnBlockStatus's error when there is none to run.
  static StatusOr<std::unique_ptr<NextnBlock>> Create(const Model::Impl& model, int64_t n_ctx, int64_t max_rows,
                                                      DType cache_type, Isa isa, int n_threads);

  // Runs rows.n <= max_rows() rows (slot0 + n <= n_ctx), storing their cache rows; with
  // `logits`, the last row's guess for the position after next is logits() afterwards.
  // rows.hidden may be output(): it is read before anything is written.
  void Run(const NextnRows& rows, bool logits, OpContext& ctx);

  const float* output(int64_t row) const { return acts_.x.data() + row * config_.d_model; }
  absl::Span<const float> logits() const { return {acts_.logits.data(), static_cast<size_t>(config_.n_vocab)}; }
  int64_t max_rows() const { return acts_.max_tokens; }
  int64_t n_ctx() const { return kv_.n_ctx(); }

 private:
  NextnBlock(const Model::Impl& model, const NextnWeights& weights);

  const Model::Impl& model_;
  const NextnWeights& weights_;
  ModelConfig config_;  // the model's, as for a model of this one layer
  KvCache kv_;
  Activations acts_;
  std::vector<float> eh_in_;  // [max_rows, 2 * d_model] eh_proj's input
};

}  // namespace r1
