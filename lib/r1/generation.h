// r1/generation.h — one generation on a Session, taken a step at a time.
//
// Session::Generate runs prefill → {choose a token → stream it → decode it} to the end in one
// call. A Generation exposes those steps so a caller can interleave many conversations: prefill
// a long prompt in chunks between other sessions' steps, and decode the tokens of many sessions
// in one forward pass (Session::EvaluateBatch). The output is the same as Session::Generate's.
//
//   R1_ASSIGN_OR_RETURN(auto g, r1::Generation::Start(session, prompt_ids, options, on_piece));
//   while (!g->prefilled()) R1_RETURN_IF_ERROR(g->Prefill(256));
//   while (true) {
//     R1_ASSIGN_OR_RETURN(std::optional<int32_t> next, g->Next());
//     if (!next) break;
//     R1_RETURN_IF_ERROR(session.Evaluate({&*next, 1}));  // or EvaluateBatch with others
//   }
//   r1::GenerateResult result = g->Finish();
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "absl/types/span.h"
#include "r1/sampler.h"
#include "r1/session.h"
#include "r1/status.h"

namespace r1 {

namespace grammar {
class TokenVocabulary;  // grammar/token_mask.h
}
class TokenStream;    // session/token_stream.h
class AnswerGrammar;  // session/answer_grammar.h
enum class ToolCallStyle;  // session/tool_calls.h

class Generation {
 public:
  // Keeps the longest cached prefix of `prompt` in the session (at least its last token is
  // recomputed, for fresh logits) and prepares sampling. Errors: no tokenizer, an empty prompt
  // or one longer than the context, bad sampler options, a bad grammar or JSON schema. The
  // session must outlive the Generation and take no other work until it ends.
  static StatusOr<std::unique_ptr<Generation>> Start(Session& session, absl::Span<const int32_t> prompt,
                                                     const GenerateOptions& options,
                                                     const StreamCallback& on_piece = nullptr);
  ~Generation();
  Generation(const Generation&) = delete;
  Generation& operator=(const Generation&) = delete;

  // Evaluates up to max_tokens more of the prompt (all of it for max_tokens <= 0).
  Status Prefill(int64_t max_tokens = 0);
  bool prefilled() const;
  int64_t prompt_tokens_left() const;

  // The next token, chosen (sampled — among those the grammar allows, when one applies — or
  // written by r1 to close a thought) and streamed; the caller then evaluates it before calling
  // Next again. nullopt when the generation has ended: end of turn, a finished grammar, a stop
  // string, the token limit, cancellation (the callback said stop, or Session::Cancel), a full
  // context or a grammar dead end. FailedPrecondition before the prompt is prefilled.
  StatusOr<std::optional<int32_t>> Next();
  bool ended() const { return ended_; }

  // Speculative decoding: the session evaluated several tokens at once, and the following Next
  // chooses from row `row` of those logits as if the context held n_past positions (the token
  // of that row the last one). Applies to one Next call.
  void ReadLogitsRow(int64_t row, int64_t n_past) {
    logits_row_ = row;
    view_n_past_ = n_past;
  }
  void RecordDraft(int64_t drafted, int64_t accepted) {
    result_.n_drafted_tokens += drafted;
    result_.n_accepted_tokens += accepted;
  }
  // Tokens the limit still allows after those chosen so far.
  int64_t tokens_left() const { return max_new_ - result_.n_generated_tokens; }
  // Ends a checked pass: the context keeps its first n_past positions and row `row` of the
  // pass's logits (the last kept token's) stays the session's current row, as if only those
  // tokens had been evaluated.
  Status KeepCheckedPrefix(int64_t n_past, int64_t row);
  // Time spent before decoding proper (the draft reading the prompt) counts as prefill.
  void CountAsPrefill(double seconds) {
    result_.prefill_seconds += seconds;
    decode_start_ += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  }

  // The result; call once, after Next returned nullopt (earlier, it ends the generation as
  // cancelled).
  GenerateResult Finish();

 private:
  using Clock = std::chrono::steady_clock;
  Generation(Session& session, const GenerateOptions& options, const StreamCallback& on_piece, Sampler sampler);
  void End(StopReason reason);
  Status ForceBlankLine();
  StatusOr<std::optional<int32_t>> Choose();
  Status PrepareRequiredCall(const Tokenizer& tokenizer, std::shared_ptr<const grammar::TokenVocabulary> vocab);
  void CollectToolCalls();

  Session& session_;
  const GenerateOptions options_;
  const StreamCallback on_piece_;
  Sampler sampler_;
  std::vector<int32_t> prompt_;
  size_t prompt_done_ = 0;  // prompt tokens in the cache
  std::optional<int32_t> think_close_;
  std::unique_ptr<TokenStream> stream_;
  std::unique_ptr<AnswerGrammar> grammar_;  // null without one
  ToolCallStyle tool_style_{};
  std::deque<int32_t> forced_;  // tokens r1 writes itself (closing a thought at the budget)
  bool budget_spent_ = false;
  int64_t max_new_ = 0;
  bool ended_ = false;
  GenerateResult result_;
  int64_t logits_row_ = -1;   // ReadLogitsRow; -1: the last row
  int64_t view_n_past_ = -1;  // ReadLogitsRow; -1: the session's
  Clock::time_point decode_start_;
};

}  // namespace r1
