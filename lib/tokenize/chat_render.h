// chat_render.h — the built-in chat templates, each a direct transcription of its model's
// Jinja template (the branches reachable with role/content messages and assistant tool calls).
#pragma once

#include <string>
#include <string_view>

#include "absl/types/span.h"
#include "r1/chat.h"
#include "r1/status.h"

namespace r1::internal {

// The system prompt Qwen2.5's template writes when the conversation does not start with one.
inline constexpr std::string_view kQwenDefaultSystem =
    "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

// DeepSeek-R1 (`join_system`: all system prompts, "\n\n"-joined) and R1-Distill (the last).
StatusOr<std::string> RenderDeepSeek(absl::Span<const ChatMessage> messages, bool join_system,
                                     bool add_generation_prompt, std::string_view bos_token);
// InvalidArgument for assistant tool calls: Llama 3.1's tool syntax is not built in.
StatusOr<std::string> RenderLlama3(absl::Span<const ChatMessage> messages,
                                   bool add_generation_prompt, std::string_view bos_token);
// Plain ChatML, or Qwen2.5's (`qwen_default_system`: a default system turn, tool calls and
// tool responses). Plain ChatML has no syntax for tool calls: InvalidArgument.
StatusOr<std::string> RenderChatMl(absl::Span<const ChatMessage> messages,
                                   bool qwen_default_system, bool add_generation_prompt);

// Python's str.strip() (Jinja's `trim`): removes leading and trailing characters for which
// str.isspace() holds.
std::string_view PythonStrip(std::string_view text);

}  // namespace r1::internal
