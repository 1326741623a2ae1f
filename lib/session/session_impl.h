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
  Activations acts;
  std::vector<float> all_logits;  // [n_rows, n_vocab] when more rows than one batch holds
  const float* logits = nullptr;  // rows of the last Evaluate
  int64_t n_logit_rows = 0;
  std::atomic<bool> cancel{false};
  // Each token's bytes for grammars, built at the first constrained generation.
  std::shared_ptr<const grammar::TokenVocabulary> grammar_vocab;
  std::unique_ptr<Drafter> drafter;  // speculative decoding, when SetDraft gave a draft model

  explicit Impl(int n_threads) : pool(n_threads) {}
  int64_t n_past() const { return static_cast<int64_t>(tokens.size()); }
};

}  // namespace r1
