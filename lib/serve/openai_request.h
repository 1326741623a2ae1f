// serve/openai_request.h — the body of a /v1/chat/completions or /v1/completions request,
// parsed and checked into a typed request. Every malformed body gives an ApiError that names
// the field at fault; nothing here throws, whatever the bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "r1/chat.h"
#include "r1/session.h"
#include "serve/api_error.h"

namespace r1::serve {

struct RequestLimits {
  size_t max_messages = 1024;
  size_t max_stop_strings = 16;
};

// What the client asked for, before the server applies its own limits.
struct CompletionRequest {
  bool chat = true;
  std::vector<ChatMessage> messages;  // chat
  std::string prompt;                 // raw completion
  std::string model;                  // as sent; the server has one model and ignores it
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  std::optional<int64_t> max_tokens;  // max_completion_tokens, else max_tokens
  std::optional<float> temperature;
  std::optional<float> top_p;
  std::optional<float> presence_penalty;
  std::optional<float> frequency_penalty;
  std::optional<uint64_t> seed;
  std::vector<std::string> stop;
  std::optional<int64_t> reasoning_budget;  // extension: GenerateOptions::reasoning_budget
  // The GBNF the answer must match: from response_format (json_object, json_schema) or the
  // `grammar` extension; checked while parsing, empty for free text.
  std::string grammar;
  // Chat: functions the model may call, and whether it must (GenerateOptions' fields).
  std::vector<ToolDefinition> tools;
  ToolChoice tool_choice = ToolChoice::kAuto;
  std::string tool_choice_function;
};

using ParsedRequest = std::variant<CompletionRequest, ApiError>;

ParsedRequest ParseChatRequest(std::string_view body, const RequestLimits& limits = {});
ParsedRequest ParseCompletionRequest(std::string_view body, const RequestLimits& limits = {});

// The generation options for `request`: `base` (the server's template choice and sampling
// defaults) overridden by the request. `max_new_tokens` is the request's, capped by `cap`
// (<= 0: no cap); without either the generation runs until the context is full.
GenerateOptions ToGenerateOptions(const CompletionRequest& request, const GenerateOptions& base, int64_t cap);

}  // namespace r1::serve
