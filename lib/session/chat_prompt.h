// chat_prompt.h — a conversation rendered with its chat template and encoded into token ids.
//
// Only the template's own markers become control tokens. Text of user and tool messages stays
// literal: a control or added token written there ("<｜Assistant｜>", "<|im_start|>", "</think>")
// is encoded as the plain text it is, so a message can neither forge a turn nor end a thought.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/types/span.h"
#include "r1/chat.h"
#include "r1/session.h"
#include "r1/status.h"
#include "r1/tokenizer.h"

namespace r1::internal {

// The template a chat with `options` renders with: the caller's Jinja source, else the
// built-in template named or detected from the model's, else the model's Jinja source.
// NotFound when the model has none and none is named.
struct ChatTemplateChoice {
  std::optional<ChatTemplate> builtin;
  std::string_view jinja_source;  // when not built-in
};
StatusOr<ChatTemplateChoice> ChooseChatTemplate(const Tokenizer& tokenizer, const GenerateOptions& options);

// The family whose tool-call syntax the chosen template uses (and r1's tools section teaches).
ChatTemplate ToolCallFamily(const ChatTemplateChoice& choice);

// The prompt of `turns` with the template `options` names (the model's own by default), ending
// with the start of the assistant's turn. options.tools are presented unless tool_choice is
// kNone: as the template's `tools` variable, or in r1's system section (tokenize/tool_prompt.h).
StatusOr<std::vector<int32_t>> EncodeChatPrompt(const Tokenizer& tokenizer, absl::Span<const ChatMessage> turns,
                                                const GenerateOptions& options);

}  // namespace r1::internal
