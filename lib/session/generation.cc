// generation.cc — the generation steps: prompt → reuse the cached prefix → prefill → {choose →
// stream → (the caller decodes)} until end of turn, a stop string, the token limit,
// cancellation or a full context.
#include "r1/generation.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "session/session_impl.h"
#include "session/token_stream.h"

namespace r1 {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// The channel generation starts in: reasoning when the prompt opened <think> and did not close it
// (R1's chat template ends its generation prompt with "<think>\n").
Channel InitialChannel(absl::Span<const int32_t> prompt, std::optional<int32_t> open, std::optional<int32_t> close) {
  for (size_t i = prompt.size(); i-- > 0;) {
    if (prompt[i] == open) return Channel::kReasoning;
    if (prompt[i] == close) return Channel::kContent;
  }
  return Channel::kContent;
}

}  // namespace

Generation::Generation(Session& session, const GenerateOptions& options, const StreamCallback& on_piece,
                       Sampler sampler)
    : session_(session), options_(options), on_piece_(on_piece), sampler_(std::move(sampler)) {}

Generation::~Generation() = default;

StatusOr<std::unique_ptr<Generation>> Generation::Start(Session& session, absl::Span<const int32_t> prompt,
                                                        const GenerateOptions& options, const StreamCallback& on_piece) {
  Session::Impl& s = *session.impl_;
  s.cancel.store(false, std::memory_order_relaxed);
  const Tokenizer* tok = s.model->tokenizer();
  if (tok == nullptr) {
    return absl::FailedPreconditionError("the model file has no tokenizer; generate from token ids instead");
  }
  if (prompt.empty()) return absl::InvalidArgumentError("the prompt is empty");
  if (static_cast<int64_t>(prompt.size()) > s.n_ctx) {
    return absl::OutOfRangeError(absl::StrFormat("the prompt has %d tokens but the context holds %d",
                                                 prompt.size(), s.n_ctx));
  }
  R1_ASSIGN_OR_RETURN(Sampler sampler, Sampler::Create(options.sampler, s.model->config().n_vocab));
  std::unique_ptr<Generation> g(new Generation(session, options, on_piece, std::move(sampler)));
  g->prompt_.assign(prompt.begin(), prompt.end());
  g->result_.n_prompt_tokens = static_cast<int64_t>(prompt.size());
  g->max_new_ = options.max_new_tokens < 0 ? s.n_ctx : options.max_new_tokens;

  // Keep the longest common prefix of the cache; at least the last prompt token is recomputed
  // so that its logits are fresh.
  const size_t common = std::mismatch(s.tokens.begin(), s.tokens.end(), prompt.begin(), prompt.end()).first -
                        s.tokens.begin();
  g->prompt_done_ = std::min(common, prompt.size() - 1);
  R1_RETURN_IF_ERROR(session.Truncate(static_cast<int64_t>(g->prompt_done_)));
  g->result_.n_prefilled_tokens = static_cast<int64_t>(prompt.size() - g->prompt_done_);
  for (int32_t id : prompt) g->sampler_.Accept(id);

  const std::optional<int32_t> think_open = tok->FindToken("<think>");
  g->think_close_ = tok->FindToken("</think>");
  g->stream_ = std::make_unique<TokenStream>(*tok, g->options_.stop, InitialChannel(prompt, think_open, g->think_close_),
                                             think_open, g->think_close_, g->on_piece_);
  return g;
}

Status Generation::Prefill(int64_t max_tokens) {
  const size_t left = prompt_.size() - prompt_done_;
  const size_t n = max_tokens <= 0 ? left : std::min(left, static_cast<size_t>(max_tokens));
  if (n == 0) return absl::OkStatus();
  const Clock::time_point start = Clock::now();
  R1_RETURN_IF_ERROR(session_.Evaluate(absl::MakeConstSpan(prompt_).subspan(prompt_done_, n)));
  prompt_done_ += n;
  result_.prefill_seconds += SecondsSince(start);
  if (prefilled()) decode_start_ = Clock::now();
  return absl::OkStatus();
}

bool Generation::prefilled() const { return prompt_done_ == prompt_.size(); }
int64_t Generation::prompt_tokens_left() const { return static_cast<int64_t>(prompt_.size() - prompt_done_); }

void Generation::End(StopReason reason) {
  ended_ = true;
  result_.stop_reason = reason;
}

// At the reasoning budget r1 closes the thought itself: "</think>" and a blank line, as the model would.
Status Generation::ForceThoughtClosed() {
  budget_spent_ = true;
  forced_.push_back(*think_close_);
  R1_ASSIGN_OR_RETURN(std::vector<int32_t> blank,
                      session_.model().tokenizer()->Encode("\n\n", {.add_bos = false, .add_eos = false}));
  forced_.insert(forced_.end(), blank.begin(), blank.end());
  return absl::OkStatus();
}

StatusOr<std::optional<int32_t>> Generation::Next() {
  if (ended_) return std::nullopt;
  if (!prefilled()) return absl::FailedPreconditionError("the prompt is not prefilled yet");
  const Session::Impl& s = *session_.impl_;
  const Tokenizer& tok = *s.model->tokenizer();
  if (result_.n_generated_tokens >= max_new_) {
    End(StopReason::kMaxTokens);
    return std::nullopt;
  }
  if (s.cancel.load(std::memory_order_relaxed)) {
    End(StopReason::kCancelled);
    return std::nullopt;
  }
  if (forced_.empty() && !budget_spent_ && options_.reasoning_budget >= 0 && think_close_ &&
      stream_->channel() == Channel::kReasoning && result_.n_reasoning_tokens >= options_.reasoning_budget) {
    R1_RETURN_IF_ERROR(ForceThoughtClosed());
  }
  int32_t next;
  if (!forced_.empty()) {
    next = forced_.front();
    forced_.pop_front();
  } else {
    R1_ASSIGN_OR_RETURN(next, sampler_.Sample(session_.Logits()));
    if (!options_.ignore_eos && tok.IsEndOfGeneration(next)) {
      End(StopReason::kEndOfGeneration);
      return std::nullopt;
    }
  }
  sampler_.Accept(next);
  result_.tokens.push_back(next);
  ++result_.n_generated_tokens;
  if (stream_->channel() == Channel::kReasoning && next != think_close_) ++result_.n_reasoning_tokens;

  R1_ASSIGN_OR_RETURN(TokenStream::Verdict verdict, stream_->Push(next));
  if (verdict == TokenStream::Verdict::kStopString) {
    End(StopReason::kStopString);
    return std::nullopt;
  }
  if (verdict == TokenStream::Verdict::kCallbackStop) {
    End(StopReason::kCancelled);
    return std::nullopt;
  }
  if (s.n_past() >= s.n_ctx) {  // the token is streamed, but there is no room to decode it
    End(StopReason::kContextFull);
    return std::nullopt;
  }
  return next;
}

GenerateResult Generation::Finish() {
  if (!ended_) End(StopReason::kCancelled);
  const StopReason reason = result_.stop_reason;
  if (reason != StopReason::kStopString && reason != StopReason::kCancelled &&
      stream_->Finish() == TokenStream::Verdict::kCallbackStop) {
    result_.stop_reason = StopReason::kCancelled;
  }
  if (prefilled()) result_.decode_seconds = SecondsSince(decode_start_);
  result_.reasoning = std::move(stream_->reasoning());
  result_.content = std::move(stream_->content());
  return std::move(result_);
}

}  // namespace r1
