// tool_prompt.h — the functions a chat model may call, as a prompt presents them: the `tools`
// variable of Jinja templates, and r1's own system section for templates that have no place
// for them (the built-in ones, and Jinja templates that never mention `tools`).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/types/span.h"
#include "r1/chat.h"
#include "r1/status.h"
#include "tokenize/jinja_value.h"

namespace r1::internal {

// The system-prompt text describing `tools` and the call syntax of `family`: DeepSeek's tool
// markers with a ```json fenced arguments object for the DeepSeek templates (and Llama 3,
// which has none of its own); for Qwen2 and ChatML the Hermes <tool_call> JSON, in exactly
// the words Qwen2.5's template uses. InvalidArgument for a tool without a name or with
// parameters that are not a JSON object.
StatusOr<std::string> ToolSystemSection(absl::Span<const ToolDefinition> tools, ChatTemplate family);

// `messages` with `section` joined to the system prompt of `family`: after the content of the
// system message the template keeps (a blank line between), or as a new first system message
// (Qwen2's default system prompt first, as its template does when given tools).
std::vector<ChatMessage> WithToolSection(absl::Span<const ChatMessage> messages, std::string_view section,
                                         ChatTemplate family);

// The `tools` list a Jinja template gets: {"type": "function", "function": {"name",
// "description", "parameters": <the schema as an object>}} per tool.
StatusOr<jinja::Value> ToolsValue(absl::Span<const ToolDefinition> tools);

// Whether Jinja source uses a `tools` variable (and so presents the tools itself).
bool TemplateRendersTools(std::string_view jinja_source);

// Whether Jinja source formats call arguments with `tojson` (Qwen2.5 and Hermes templates),
// so that they must be given as objects rather than as JSON text.
bool TemplateWantsArgumentObjects(std::string_view jinja_source);

// The family whose call syntax r1's section describes for Jinja source that does not render
// the tools itself: Hermes for Qwen/ChatML-style templates, else DeepSeek's.
ChatTemplate ToolSyntaxFamily(std::string_view jinja_source);

}  // namespace r1::internal
