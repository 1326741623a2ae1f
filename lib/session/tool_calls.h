// tool_calls.h — the tool-call syntax of a model family: the markers that open a call section
// in the answer, reading the calls out of it, and the grammar that makes the model call one.
//
// DeepSeek (R1 and its distills, and r1's own tools section for templates without one):
//   <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\nARGS\n```<｜tool▁call▁end｜>…<｜tool▁calls▁end｜>
// Hermes (Qwen2.5 and ChatML templates):
//   <tool_call>\n{"name": NAME, "arguments": ARGS}\n</tool_call>
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/types/span.h"
#include "r1/chat.h"
#include "r1/session.h"
#include "r1/status.h"
#include "r1/tokenizer.h"

namespace r1 {

enum class ToolCallStyle { kDeepSeek, kHermes };

// The style of the template a chat with `options` renders with (the model's own by default).
ToolCallStyle ToolCallStyleFor(const Tokenizer& tokenizer, const GenerateOptions& options);

// Texts that open a tool-call section in the answer.
std::vector<std::string> ToolSectionMarkers(ToolCallStyle style);

// The calls of a section (its text from the opening marker on, control tokens written out).
// InvalidArgument when the section is not well formed, names a function that is not in
// `tools`, or has arguments that are not a JSON object valid for the function's schema.
StatusOr<std::vector<ToolCall>> ParseToolCalls(std::string_view section, ToolCallStyle style,
                                               absl::Span<const ToolDefinition> tools);

// A call the model must make (ToolChoice kRequired or kFunction): the text r1 writes before
// it, the grammar of the part the model writes (the name and the arguments, shaped by the
// function's schema) and the text r1 writes after it.
struct RequiredToolCall {
  std::string prefix;
  std::string gbnf;
  std::string suffix;
};
StatusOr<RequiredToolCall> RequiredToolCallGrammar(ToolCallStyle style, const GenerateOptions& options);

}  // namespace r1
