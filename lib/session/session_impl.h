// session_impl.h — what a Session holds; shared by the files of lib/session.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "grammar/grammar_constraint.h"
#include "model/forward.h"
#include "r1/session.h"
#include "session/drafter.h"

namespace r1 {

struct Session::Impl {
  std::shared_ptr<const Model> model;
  int64_t n_ctx = 0;
  int64_t n_batch = 0;
  CacheType cache_type = CacheType::kF16;
  std::vector<int32_t> tokens;  // the context: tokens[i] is at position i; size() == n_past
  ThreadPool pool;
  OpContext ctx;
  KvCache kv;
  std::unique_ptr<DeviceLayers> device_layers;  // SessionOptions::gpu_layers; acts points at it
  Activations acts;
  std::vector<float> all_logits;  // [n_rows, n_vocab] when more rows than one batch holds
  const float* logits = nullptr;  // rows of the last Evaluate
  int64_t n_logit_rows = 0;
  std::atomic<bool> cancel{false};
  // Each token's bytes for grammars, built at the first constrained generation.
  std::shared_ptr<const grammar::TokenVocabulary> grammar_vocab;
  std::unique_ptr<Drafter> drafter;  // speculative decoding (SetDraft, SetNextnDraft)
  // The last hidden states (before the output norm) of positions [hidden_pos0, n_past), kept
  // while the drafter is the model's own MTP block, which reads them (keep_hidden): it drops
  // those it has read, truncating drops those past the new end.
  bool keep_hidden = false;
  int64_t hidden_pos0 = 0;
  std::vector<float> hidden;

  explicit Impl(int n_threads) : pool(n_threads) {}
  int64_t n_past() const { return static_cast<int64_t>(tokens.size()); }

  // Appends the hidden states [n, d_model] of n positions about to join the context.
  void KeepHidden(const float* rows, int64_t n);
  // Drops the hidden states of positions before `pos` and after `end`.
  void DropHiddenBefore(int64_t pos);
  void TruncateHidden(int64_t end);
};

}  // namespace r1
