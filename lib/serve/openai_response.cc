#include "serve/openai_response.h"

#include "nlohmann/json.hpp"
#include "session/chat_json.h"

namespace r1::serve {
namespace {

using nlohmann::json;

// Generated text is whole UTF-8 characters, but a stop string or the reasoning budget can cut
// anywhere a client wrote; replacing instead of throwing keeps every response well-formed.
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json Envelope(const ResponseInfo& info, bool chunk) {
  const char* object = info.chat ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion";
  return {{"id", info.id}, {"object", object}, {"created", info.created}, {"model", info.model},
          {"system_fingerprint", nullptr}};
}

json Usage(const GenerateResult& r) {
  return {{"prompt_tokens", r.n_prompt_tokens},
          {"completion_tokens", r.n_generated_tokens},
          {"total_tokens", r.n_prompt_tokens + r.n_generated_tokens},
          {"prompt_tokens_details", {{"cached_tokens", r.n_prompt_tokens - r.n_prefilled_tokens}}},
          {"completion_tokens_details", {{"reasoning_tokens", r.n_reasoning_tokens}}}};
}

// OpenAI's tool_calls array; `indexed` adds the index a stream delta carries.
json ToolCalls(const GenerateResult& r, bool indexed) {
  json calls = json::parse(chat_json::ToolCallsJson(r.tool_calls).dump());
  for (size_t i = 0; indexed && i < calls.size(); ++i) calls[i]["index"] = i;
  return calls;
}

std::string ChunkWithChoice(const ResponseInfo& info, json choice) {
  json j = Envelope(info, /*chunk=*/true);
  choice["index"] = 0;
  j["choices"] = json::array({std::move(choice)});
  return Dump(j);
}

}  // namespace

const char* FinishReason(const GenerateResult& result) {
  if (!result.tool_calls.empty()) return "tool_calls";
  switch (result.stop_reason) {
    case StopReason::kEndOfGeneration:
    case StopReason::kGrammarDeadEnd:
    case StopReason::kStopString: return "stop";
    case StopReason::kMaxTokens:
    case StopReason::kContextFull:
    case StopReason::kCancelled: return "length";
  }
  return "stop";
}

std::string CompletionJson(const ResponseInfo& info, const GenerateResult& r) {
  json j = Envelope(info, /*chunk=*/false);
  json choice = {{"index", 0}, {"finish_reason", FinishReason(r)}, {"logprobs", nullptr}};
  if (info.chat) {
    choice["message"] = {{"role", "assistant"}, {"content", r.content}};
    if (!r.reasoning.empty()) choice["message"]["reasoning_content"] = r.reasoning;
    if (!r.tool_calls.empty()) {
      choice["message"]["tool_calls"] = ToolCalls(r, /*indexed=*/false);
      if (r.content.empty()) choice["message"]["content"] = nullptr;  // as OpenAI answers a call alone
    }
  } else {
    // A raw prompt that opens a thought streams reasoning too; the text is both, in order.
    choice["text"] = r.reasoning.empty() ? r.content : r.reasoning + r.content;
  }
  j["choices"] = json::array({std::move(choice)});
  j["usage"] = Usage(r);
  return Dump(j);
}

std::string RoleChunkJson(const ResponseInfo& info) {
  return ChunkWithChoice(info, {{"delta", {{"role", "assistant"}, {"content", ""}}}, {"finish_reason", nullptr},
                                {"logprobs", nullptr}});
}

std::string PieceChunkJson(const ResponseInfo& info, Channel channel, std::string_view text) {
  if (!info.chat) return ChunkWithChoice(info, {{"text", text}, {"finish_reason", nullptr}, {"logprobs", nullptr}});
  const char* field = channel == Channel::kReasoning ? "reasoning_content" : "content";
  return ChunkWithChoice(info, {{"delta", {{field, text}}}, {"finish_reason", nullptr}, {"logprobs", nullptr}});
}

std::string FinishChunkJson(const ResponseInfo& info, const GenerateResult& result) {
  json choice = {{"finish_reason", FinishReason(result)}, {"logprobs", nullptr}};
  if (info.chat) {
    choice["delta"] = json::object();
    if (!result.tool_calls.empty()) choice["delta"]["tool_calls"] = ToolCalls(result, /*indexed=*/true);
  } else {
    choice["text"] = "";
  }
  return ChunkWithChoice(info, std::move(choice));
}

std::string UsageChunkJson(const ResponseInfo& info, const GenerateResult& result) {
  json j = Envelope(info, /*chunk=*/true);
  j["choices"] = json::array();
  j["usage"] = Usage(result);
  return Dump(j);
}

std::string ModelsJson(std::string_view model_id, int64_t created) {
  const json j = {{"object", "list"},
                  {"data", json::array({{{"id", model_id}, {"object", "model"}, {"created", created},
                                         {"owned_by", "r1"}}})}};
  return Dump(j);
}

std::string SseEvent(std::string_view json_text) {
  std::string event = "data: ";
  event += json_text;
  event += "\n\n";
  return event;
}

}  // namespace r1::serve
