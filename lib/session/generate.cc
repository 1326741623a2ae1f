// generate.cc — whole generations: a raw prompt or a conversation to token ids, then the
// generation's steps (r1/generation.h) run to the end.
#include <algorithm>
#include <optional>

#include "absl/strings/str_format.h"
#include "r1/generation.h"
#include "session/chat_prompt.h"
#include "session/session_impl.h"
#include "session/speculative_decode.h"

namespace r1 {
namespace {

Status NeedTokenizer(const Model& model) {
  if (model.tokenizer() == nullptr) {
    return absl::FailedPreconditionError("the model file has no tokenizer; generate from token ids instead");
  }
  return absl::OkStatus();
}

}  // namespace

const char* StopReasonName(StopReason reason) {
  switch (reason) {
    case StopReason::kEndOfGeneration: return "end of generation";
    case StopReason::kMaxTokens: return "token limit";
    case StopReason::kStopString: return "stop string";
    case StopReason::kCancelled: return "cancelled";
    case StopReason::kContextFull: return "context full";
    case StopReason::kGrammarDeadEnd: return "grammar dead end";
  }
  return "unknown";
}

StatusOr<GenerateResult> Session::GenerateFromTokens(absl::Span<const int32_t> prompt, const GenerateOptions& options,
                                                     const StreamCallback& on_piece) {
  R1_ASSIGN_OR_RETURN(std::unique_ptr<Generation> g, Generation::Start(*this, prompt, options, on_piece));
  R1_RETURN_IF_ERROR(g->Prefill());
  if (impl_->drafter != nullptr) {
    R1_RETURN_IF_ERROR(DecodeWithDraft(*this, *impl_->drafter, *g));
    return g->Finish();
  }
  while (true) {
    R1_ASSIGN_OR_RETURN(std::optional<int32_t> next, g->Next());
    if (!next) break;
    R1_RETURN_IF_ERROR(Evaluate({&*next, 1}));
  }
  return g->Finish();
}

StatusOr<std::vector<int32_t>> ChatPromptTokens(const Model& model, absl::Span<const ChatMessage> messages,
                                                const GenerateOptions& options) {
  R1_RETURN_IF_ERROR(NeedTokenizer(model));
  return internal::EncodeChatPrompt(*model.tokenizer(), messages, options);
}

StatusOr<std::vector<int32_t>> RawPromptTokens(const Model& model, std::string_view prompt) {
  R1_RETURN_IF_ERROR(NeedTokenizer(model));
  EncodeOptions encode;
  encode.parse_special = true;
  return model.tokenizer()->Encode(prompt, encode);
}

StatusOr<GenerateResult> Session::Generate(std::string_view prompt, const GenerateOptions& options,
                                           const StreamCallback& on_piece) {
  R1_ASSIGN_OR_RETURN(std::vector<int32_t> ids, RawPromptTokens(*impl_->model, prompt));
  return GenerateFromTokens(ids, options, on_piece);
}

StatusOr<GenerateResult> Session::Chat(absl::Span<const ChatMessage> messages, const GenerateOptions& options,
                                       const StreamCallback& on_piece) {
  std::vector<ChatMessage> turns(messages.begin(), messages.end());
  while (true) {
    R1_ASSIGN_OR_RETURN(std::vector<int32_t> ids, ChatPromptTokens(*impl_->model, turns, options));
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
