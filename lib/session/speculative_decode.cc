// speculative_decode.cc — draft, verify in one pass, roll back past the first miss.
#include "session/speculative_decode.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "session/session_impl.h"

namespace r1 {

StatusOr<std::optional<int32_t>> SpeculativeRound(Session& target, Drafter& drafter, Generation& g, int32_t next) {
  const int64_t base = target.n_past();
  const absl::Span<const int32_t> context = target.tokens();
  std::vector<int32_t> history(context.begin(), context.end());
  history.push_back(next);
  // The checked batch [next, guesses…] must fit in the context, and a round yields at most its
  // kept guesses and one more token within the limit.
  const int64_t room = target.n_ctx() - base - 1;
  R1_ASSIGN_OR_RETURN(std::vector<int32_t> guesses,
                      drafter.Propose(history, std::min({drafter.NextLength(), room, g.tokens_left() - 1})));
  std::vector<int32_t> batch(1, next);
  batch.insert(batch.end(), guesses.begin(), guesses.end());
  R1_RETURN_IF_ERROR(target.Evaluate(batch, /*all_logits=*/!guesses.empty()));
  if (guesses.empty()) return g.Next();  // nothing to check (resting, no room, or an id the draft lacks)

  const int64_t n_guesses = static_cast<int64_t>(guesses.size());
  int64_t accepted = 0;
  // The context keeps next and the accepted guesses, as if the others were never seen (also
  // when choosing fails).
  absl::Cleanup drop_rest = [&] { (void)target.Truncate(base + 1 + accepted); };
  std::optional<int32_t> chosen;
  while (true) {  // row i holds the logits after batch[i]
    g.ReadLogitsRow(accepted, base + 1 + accepted);
    R1_ASSIGN_OR_RETURN(chosen, g.Next());
    if (!chosen || accepted == n_guesses || *chosen != guesses[static_cast<size_t>(accepted)]) break;
    ++accepted;
  }
  std::move(drop_rest).Cancel();
  // A round the generation ended (end of turn, stop string, limit) says nothing of the draft.
  if (chosen) drafter.Record(n_guesses, accepted);
  g.RecordDraft(n_guesses, accepted);
  R1_RETURN_IF_ERROR(g.KeepCheckedPrefix(base + 1 + accepted, accepted));
  return chosen;
}

Status DecodeWithDraft(Session& target, Drafter& drafter, Generation& g) {
  {  // the draft reads the prompt: prefill time, not decode time
    const auto start = std::chrono::steady_clock::now();
    R1_RETURN_IF_ERROR(drafter.CatchUp(target.tokens()));
    g.CountAsPrefill(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  R1_ASSIGN_OR_RETURN(std::optional<int32_t> next, g.Next());
  while (next) {
    R1_ASSIGN_OR_RETURN(next, SpeculativeRound(target, drafter, g, *next));
  }
  return absl::OkStatus();
}

StatusOr<std::optional<int32_t>> Session::EvaluateWithDraft(Generation& g, int32_t next) {
  if (impl_->drafter == nullptr) return absl::FailedPreconditionError("EvaluateWithDraft: the session has no draft");
  return SpeculativeRound(*this, *impl_->drafter, g, next);
}

}  // namespace r1
