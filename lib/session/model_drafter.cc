// model_drafter.cc — the draft model's session, kept in step with the target's tokens.
#include "session/model_drafter.h"

#include <algorithm>

#include "absl/strings/str_format.h"

namespace r1 {

Status CheckDraftVocabulary(const Tokenizer& target, const Tokenizer& draft) {
  const int32_t shared = std::min(target.n_vocab(), draft.n_vocab());
  for (int32_t id = 0; id < shared; ++id) {
    const StatusOr<std::string_view> a = target.TokenText(id), b = draft.TokenText(id);
    if (!a.ok() || !b.ok() || *a != *b) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "the draft model's vocabulary differs from the target's at token %d ('%s' vs '%s'): a draft must "
          "use the target's tokenizer",
          id, a.ok() ? *a : "?", b.ok() ? *b : "?"));
    }
  }
  return absl::OkStatus();
}

StatusOr<std::unique_ptr<Drafter>> ModelDrafter::Create(std::shared_ptr<const Model> draft, const Session& like,
                                                        const DraftOptions& options) {
  if (draft == nullptr) return absl::InvalidArgumentError("the draft model is null");
  R1_RETURN_IF_ERROR(CheckDraftOptions(options));
  const Tokenizer* target_vocab = like.model().tokenizer();
  const Tokenizer* draft_vocab = draft->tokenizer();
  if (target_vocab == nullptr || draft_vocab == nullptr) {
    return absl::InvalidArgumentError("speculative decoding needs both models' tokenizers (GGUF tokenizer metadata)");
  }
  R1_RETURN_IF_ERROR(CheckDraftVocabulary(*target_vocab, *draft_vocab));
  SessionOptions so;
  so.n_ctx = like.n_ctx();
  so.n_threads = like.n_threads();
  so.cache_type = like.cache_type();
  so.batch_invariant = like.batch_invariant();
  R1_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::Create(std::move(draft), so));
  return std::unique_ptr<Drafter>(new ModelDrafter(std::move(session), options, target_vocab->n_vocab()));
}

ModelDrafter::ModelDrafter(std::unique_ptr<Session> session, const DraftOptions& options, int32_t target_vocab)
    : Drafter(options), session_(std::move(session)), target_vocab_(target_vocab) {}

Status ModelDrafter::CatchUp(absl::Span<const int32_t> history) {
  if (history.empty()) return absl::OkStatus();
  R1_ASSIGN_OR_RETURN(const int64_t kept, session_->KeepSharedPrefix(history));
  return session_->Evaluate(history.subspan(static_cast<size_t>(kept)));
}

StatusOr<std::vector<int32_t>> ModelDrafter::Propose(absl::Span<const int32_t> history, int64_t n) {
  std::vector<int32_t> proposed;
  const int32_t n_vocab = session_->model().config().n_vocab;
  if (n <= 0 || history.empty() || std::any_of(history.begin(), history.end(), [n_vocab](int32_t t) { return t >= n_vocab; })) {
    return proposed;
  }
  R1_RETURN_IF_ERROR(CatchUp(history));
  n = std::min<int64_t>(n, session_->n_ctx() - session_->n_past());
  while (static_cast<int64_t>(proposed.size()) < n) {
    const int32_t guess = Argmax(session_->Logits());
    if (guess >= target_vocab_) break;  // an id of the draft's alone
    proposed.push_back(guess);
    if (static_cast<int64_t>(proposed.size()) == n) break;  // the last guess needs no logits
    R1_RETURN_IF_ERROR(session_->Evaluate({&proposed.back(), 1}));
  }
  return proposed;
}

}  // namespace r1
