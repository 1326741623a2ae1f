// evaluate_batch.cc — one decode step of many sessions in one forward pass.
//
// The rows of all sessions go through the weight products together, always with the per-row
// dot kernels a single decode step uses (the pass runs batch-invariant, however many rows), so
// each row's sums are the ones it gets alone; rotation, cache and attention run per session on
// its own cache. The pass uses the first session's threads and buffers; each row's logits are
// then copied into its session. Nothing is allocated for batches of up to kInlineSessions.
#include <algorithm>
#include <cstring>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_format.h"
#include "session/session_impl.h"

namespace r1 {
namespace {

constexpr size_t kInlineSessions = 16;

Status CheckBatch(absl::Span<Session::Impl* const> batch, absl::Span<const int32_t> tokens) {
  if (batch.empty()) return absl::InvalidArgumentError("no sessions to evaluate");
  if (batch.size() != tokens.size()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%d sessions but %d tokens: one token per session", batch.size(), tokens.size()));
  }
  const Session::Impl& first = *batch[0];
  if (static_cast<int64_t>(batch.size()) > first.n_batch) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%d sessions in one step but the first session's batch holds %d rows", batch.size(), first.n_batch));
  }
  const int64_t n_vocab = first.model->config().n_vocab;
  for (size_t i = 0; i < batch.size(); ++i) {
    const Session::Impl& s = *batch[i];
    if (std::find(batch.begin(), batch.begin() + i, &s) != batch.begin() + i) {
      return absl::InvalidArgumentError(absl::StrFormat("session %d appears twice", i));
    }
    if (&s.model->impl() != &first.model->impl()) {
      return absl::InvalidArgumentError(absl::StrFormat("session %d runs another model than session 0", i));
    }
    if (s.cache_type != first.cache_type || s.ctx.batch_invariant != first.ctx.batch_invariant) {
      return absl::InvalidArgumentError(
          absl::StrFormat("session %d differs from session 0 in cache type or batch invariance", i));
    }
    // The exact (f32) attention engine's score rows are sized by the first session's context.
    if (s.cache_type == CacheType::kF32 && s.n_ctx > first.n_ctx) {
      return absl::InvalidArgumentError(
          absl::StrFormat("session %d has a longer f32-cache context than session 0 (%d > %d)", i, s.n_ctx, first.n_ctx));
    }
    // A session's GPU layers keep their own cache: its rows cannot join another session's pass.
    if (s.device_layers != nullptr && batch.size() > 1) {
      return absl::FailedPreconditionError(
          absl::StrFormat("session %d runs layers on a GPU: it steps alone, not in a batch", i));
    }
    if (s.n_past() >= s.n_ctx) {
      return absl::OutOfRangeError(absl::StrFormat("session %d: the context is full (%d positions)", i, s.n_ctx));
    }
    if (tokens[i] < 0 || tokens[i] >= n_vocab) {
      return absl::InvalidArgumentError(
          absl::StrFormat("token id %d for session %d is outside the vocabulary [0, %d)", tokens[i], i, n_vocab));
    }
  }
  return absl::OkStatus();
}

}  // namespace

Status Session::EvaluateBatch(absl::Span<Session* const> sessions, absl::Span<const int32_t> tokens) {
  absl::InlinedVector<Impl*, kInlineSessions> batch;
  for (size_t i = 0; i < sessions.size(); ++i) {
    if (sessions[i] == nullptr) return absl::InvalidArgumentError(absl::StrFormat("session %d is null", i));
    batch.push_back(sessions[i]->impl_.get());
  }
  R1_RETURN_IF_ERROR(CheckBatch(batch, tokens));

  Impl& first = *batch[0];
  absl::InlinedVector<SequenceRows, kInlineSessions> rows;
  for (Impl* s : batch) rows.push_back({&s->kv, s->n_past(), 1});
  // Wide batches would otherwise take the prompt engines, whose sums round differently.
  const bool invariant = first.ctx.batch_invariant;
  first.ctx.batch_invariant = true;
  const Status pass = Forward(first.model->impl(), tokens.data(), rows, LogitRows::kLast, first.acts, first.ctx);
  first.ctx.batch_invariant = invariant;
  R1_RETURN_IF_ERROR(pass);

  // Row i belongs to session i; the first session's row is already where its logits live, so
  // the others are copied out before anything can overwrite them.
  const size_t n_vocab = static_cast<size_t>(first.model->config().n_vocab);
  for (size_t i = 0; i < batch.size(); ++i) {
    Impl& s = *batch[i];
    if (i > 0) std::memcpy(s.acts.LogitsFor(1, static_cast<int64_t>(n_vocab)), first.acts.logits.data() + i * n_vocab,
                           n_vocab * sizeof(float));
    if (s.keep_hidden) s.KeepHidden(first.acts.x.data() + i * first.model->config().d_model, 1);
    s.tokens.push_back(tokens[i]);
    s.logits = s.acts.logits.data();
    s.n_logit_rows = 1;
  }
  return absl::OkStatus();
}

}  // namespace r1
