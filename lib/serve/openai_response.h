// serve/openai_response.h — the JSON of OpenAI-shaped responses: whole completions, the
// chunks of a stream (Server-Sent Events), the model list. An R1 answer's thinking goes in
// `reasoning_content` and the answer in `content`, as DeepSeek's own API does.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "r1/session.h"

namespace r1::serve {

// What every response of one request repeats.
struct ResponseInfo {
  std::string id;       // "chatcmpl-…" / "cmpl-…"
  int64_t created = 0;  // Unix seconds
  std::string model;
  bool chat = true;     // chat.completion(.chunk) or text_completion
};

// "tool_calls" when the answer called functions, else "stop" (the model ended its turn, a
// stop string, a finished grammar) or "length" (max tokens, context full, the time limit).
const char* FinishReason(const GenerateResult& result);

// The whole response of a non-streamed request.
std::string CompletionJson(const ResponseInfo& info, const GenerateResult& result);

// Stream chunks. A chat stream starts with a chunk announcing the assistant role, carries one
// chunk per piece (a `reasoning_content` or `content` delta; raw completions have `text`), then
// one with the finish reason (chat: with the tool calls, whole, as the last delta), then, when
// asked for, one with empty choices and the usage.
std::string RoleChunkJson(const ResponseInfo& info);
std::string PieceChunkJson(const ResponseInfo& info, Channel channel, std::string_view text);
std::string FinishChunkJson(const ResponseInfo& info, const GenerateResult& result);
std::string UsageChunkJson(const ResponseInfo& info, const GenerateResult& result);

// GET /v1/models with the one model served.
std::string ModelsJson(std::string_view model_id, int64_t created);

// One Server-Sent Event carrying `json`, and the stream's last event.
std::string SseEvent(std::string_view json);
inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";

}  // namespace r1::serve
