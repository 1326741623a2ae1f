// generate.cc — THE LOOP: prompt → reuse the cached prefix → prefill → {sample → stream →
// decode} until end of turn, a stop string, the token limit, cancellation or a full context.
#include <algorithm>
#include <chrono>
#include <deque>

#include "absl/strings/str_format.h"
#include "session/chat_prompt.h"
#include "session/session_impl.h"
#include "session/token_stream.h"

namespace r1 {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

Status NeedTokenizer(const Model& model) {
  if (model.tokenizer() == nullptr) {
    return absl::FailedPreconditionError("the model file has no tokenizer; generate from token ids instead");
  }
  return absl::OkStatus();
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

const char* StopReasonName(StopReason reason) {
  switch (reason) {
    case StopReason::kEndOfGeneration: return "end of generation";
    case StopReason::kMaxTokens: return "token limit";
    case StopReason::kStopString: return "stop string";
    case StopReason::kCancelled: return "cancelled";
    case StopReason::kContextFull: return "context full";
  }
  return "unknown";
}

StatusOr<GenerateResult> Session::GenerateFromTokens(absl::Span<const int32_t> prompt, const GenerateOptions& options,
                                                     const StreamCallback& on_piece) {
  Impl& s = *impl_;
  s.cancel.store(false, std::memory_order_relaxed);
  const Tokenizer* tok = s.model->tokenizer();
  R1_RETURN_IF_ERROR(NeedTokenizer(*s.model));
  if (prompt.empty()) return absl::InvalidArgumentError("the prompt is empty");
  if (static_cast<int64_t>(prompt.size()) > s.n_ctx) {
    return absl::OutOfRangeError(absl::StrFormat("the prompt has %d tokens but the context holds %d",
                                                 prompt.size(), s.n_ctx));
  }
  R1_ASSIGN_OR_RETURN(Sampler sampler, Sampler::Create(options.sampler, s.model->config().n_vocab));

  GenerateResult result;
  result.n_prompt_tokens = static_cast<int64_t>(prompt.size());

  // Keep the longest common prefix of the cache; at least the last prompt token is recomputed
  // so that its logits are fresh.
  const size_t common = std::mismatch(s.tokens.begin(), s.tokens.end(), prompt.begin(), prompt.end()).first -
                        s.tokens.begin();
  const size_t keep = std::min(common, prompt.size() - 1);
  R1_RETURN_IF_ERROR(Truncate(static_cast<int64_t>(keep)));
  const Clock::time_point prefill_start = Clock::now();
  R1_RETURN_IF_ERROR(Evaluate(prompt.subspan(keep)));
  result.prefill_seconds = SecondsSince(prefill_start);
  result.n_prefilled_tokens = static_cast<int64_t>(prompt.size() - keep);
  for (int32_t id : prompt) sampler.Accept(id);

  const std::optional<int32_t> think_open = tok->FindToken("<think>");
  const std::optional<int32_t> think_close = tok->FindToken("</think>");
  TokenStream stream(*tok, options.stop, InitialChannel(prompt, think_open, think_close), think_open, think_close,
                     on_piece);
  std::deque<int32_t> forced;  // tokens r1 writes itself (closing a thought at the budget)
  bool budget_spent = false;
  const int64_t max_new = options.max_new_tokens < 0 ? s.n_ctx : options.max_new_tokens;
  const Clock::time_point decode_start = Clock::now();
  StopReason reason = StopReason::kMaxTokens;

  while (true) {
    if (result.n_generated_tokens >= max_new) break;
    if (s.cancel.load(std::memory_order_relaxed)) {
      reason = StopReason::kCancelled;
      break;
    }
    if (forced.empty() && !budget_spent && options.reasoning_budget >= 0 && think_close &&
        stream.channel() == Channel::kReasoning && result.n_reasoning_tokens >= options.reasoning_budget) {
      budget_spent = true;
      forced.push_back(*think_close);
      R1_ASSIGN_OR_RETURN(std::vector<int32_t> blank, tok->Encode("\n\n", {.add_bos = false, .add_eos = false}));
      forced.insert(forced.end(), blank.begin(), blank.end());
    }
    int32_t next;
    if (!forced.empty()) {
      next = forced.front();
      forced.pop_front();
    } else {
      R1_ASSIGN_OR_RETURN(next, sampler.Sample(Logits()));
      if (!options.ignore_eos && tok->IsEndOfGeneration(next)) {
        reason = StopReason::kEndOfGeneration;
        break;
      }
    }
    sampler.Accept(next);
    result.tokens.push_back(next);
    ++result.n_generated_tokens;
    if (stream.channel() == Channel::kReasoning && next != think_close) ++result.n_reasoning_tokens;

    R1_ASSIGN_OR_RETURN(TokenStream::Verdict verdict, stream.Push(next));
    if (verdict == TokenStream::Verdict::kStopString) {
      reason = StopReason::kStopString;
      break;
    }
    if (verdict == TokenStream::Verdict::kCallbackStop) {
      reason = StopReason::kCancelled;
      break;
    }
    if (s.n_past() >= s.n_ctx) {
      reason = StopReason::kContextFull;
      break;
    }
    R1_RETURN_IF_ERROR(Evaluate({&next, 1}));
  }
  if (reason != StopReason::kStopString && reason != StopReason::kCancelled &&
      stream.Finish() == TokenStream::Verdict::kCallbackStop) {
    reason = StopReason::kCancelled;
  }
  result.decode_seconds = SecondsSince(decode_start);
  result.stop_reason = reason;
  result.reasoning = std::move(stream.reasoning());
  result.content = std::move(stream.content());
  return result;
}

StatusOr<GenerateResult> Session::Generate(std::string_view prompt, const GenerateOptions& options,
                                           const StreamCallback& on_piece) {
  R1_RETURN_IF_ERROR(NeedTokenizer(*impl_->model));
  EncodeOptions encode;
  encode.parse_special = true;
  R1_ASSIGN_OR_RETURN(std::vector<int32_t> ids, impl_->model->tokenizer()->Encode(prompt, encode));
  return GenerateFromTokens(ids, options, on_piece);
}

StatusOr<GenerateResult> Session::Chat(absl::Span<const ChatMessage> messages, const GenerateOptions& options,
                                       const StreamCallback& on_piece) {
  R1_RETURN_IF_ERROR(NeedTokenizer(*impl_->model));
  const Tokenizer& tok = *impl_->model->tokenizer();
  std::vector<ChatMessage> turns(messages.begin(), messages.end());
  while (true) {
    R1_ASSIGN_OR_RETURN(std::vector<int32_t> ids, internal::EncodeChatPrompt(tok, turns, options));
    const int64_t room = std::min<int64_t>(impl_->n_ctx, static_cast<int64_t>(ids.size()) +
                                                             std::max<int64_t>(options.max_new_tokens, 0));
    if (static_cast<int64_t>(ids.size()) <= impl_->n_ctx &&
        (!options.drop_oldest_turns || room <= impl_->n_ctx)) {
      if (room > impl_->n_ctx || static_cast<int64_t>(ids.size()) < room || !options.drop_oldest_turns) {
        return GenerateFromTokens(ids, options, on_piece);
      }
    }
    // Too long: drop the oldest turn after the system prompts, if the caller allows it.
    const auto first_turn = std::find_if(turns.begin(), turns.end(), [](const ChatMessage& m) { return m.role != "system"; });
    const bool can_drop = options.drop_oldest_turns && first_turn != turns.end() &&
                          std::count_if(first_turn, turns.end(), [](const ChatMessage& m) { return m.role != "system"; }) > 1;
    if (static_cast<int64_t>(ids.size()) <= impl_->n_ctx && !can_drop) return GenerateFromTokens(ids, options, on_piece);
    if (!can_drop) {
      return absl::OutOfRangeError(absl::StrFormat(
          "the conversation has %d tokens but the context holds %d (allow dropping the oldest turns, or use a "
          "longer context)", ids.size(), impl_->n_ctx));
    }
    turns.erase(first_turn);
  }
}

}  // namespace r1
