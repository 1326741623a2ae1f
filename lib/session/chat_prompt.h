// chat_prompt.h — a conversation rendered with its chat template and encoded into token ids.
//
// Only the template's own markers become control tokens. Text of user and tool messages stays
// literal: a control or added token written there ("<｜Assistant｜>", "<|im_start|>", "</think>")
// is encoded as the plain text it is, so a message can neither forge a turn nor end a thought.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "r1/chat.h"
#include "r1/session.h"
#include "r1/status.h"
#include "r1/tokenizer.h"

namespace r1::internal {

// The prompt of `turns` with the template `options` names (the model's own by default), ending
// with the start of the assistant's turn. options.tools are presented unless tool_choice is
// kNone: as the template's `tools` variable, or in r1's system section (tokenize/tool_prompt.h).
StatusOr<std::vector<int32_t>> EncodeChatPrompt(const Tokenizer& tokenizer, absl::Span<const ChatMessage> turns,
                                                const GenerateOptions& options);

}  // namespace r1::internal
