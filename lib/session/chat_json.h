// chat_json.h — the JSON shapes of OpenAI's chat API (tools, tool_choice, a message's tool
// calls) to and from r1's types; shared by the C ABI, the Python module and r1 serve.
// Errors are InvalidArgument naming the field at fault ("tools[1].function.name: …").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/types/span.h"
#include "nlohmann/json.hpp"
#include "r1/chat.h"
#include "r1/session.h"
#include "r1/status.h"

namespace r1::chat_json {

using Json = nlohmann::ordered_json;

// [{"type": "function", "function": {"name", "description"?, "parameters"?}}, …]
StatusOr<std::vector<ToolDefinition>> ReadTools(const Json& tools);
// "auto", "none", "required" or {"type": "function", "function": {"name": …}}.
Status ReadToolChoice(const Json& choice, GenerateOptions* options);
// The plain-text form the C ABI and Python take: "auto", "none", "required", or any other text
// as the name of the function that must be called.
void ToolChoiceFromText(std::string_view text, GenerateOptions* options);
// A message's [{"id", "type": "function", "function": {"name", "arguments": "JSON text"}}, …].
StatusOr<std::vector<ToolCall>> ReadToolCalls(const Json& calls, std::string_view field = "tool_calls");
// [{"role", "content"?, "tool_calls"?, "tool_call_id"?}, …] (content a string, null or text parts).
StatusOr<std::vector<ChatMessage>> ReadMessages(const Json& messages);
// The calls as OpenAI returns them: [{"id", "type": "function", "function": {"name", "arguments"}}].
Json ToolCallsJson(absl::Span<const ToolCall> calls);

}  // namespace r1::chat_json
