#include "serve/openai_request.h"

#include <limits>
#include <utility>

#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"

namespace r1::serve {
namespace {

using nlohmann::json;

// A field's value; absent and null are the same, as OpenAI's API treats them.
const json* Field(const json& body, const char* name) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<ApiError> ReadBool(const json& body, const char* name, bool* out) {
  const json* v = Field(body, name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) return InvalidRequest(absl::StrFormat("'%s' must be a boolean", name), name);
  *out = v->get<bool>();
  return std::nullopt;
}

std::optional<ApiError> ReadInt(const json& body, const char* name, int64_t lo, int64_t hi,
                                std::optional<int64_t>* out) {
  const json* v = Field(body, name);
  if (v == nullptr) return std::nullopt;
  // nlohmann stores non-negative integers as unsigned, which may exceed int64_t.
  const bool in_range =
      v->is_number_integer() &&
      (v->is_number_unsigned()
           ? v->get<uint64_t>() <= static_cast<uint64_t>(hi) && (lo <= 0 || v->get<uint64_t>() >= static_cast<uint64_t>(lo))
           : v->get<int64_t>() >= lo && v->get<int64_t>() <= hi);
  if (!in_range) {
    return InvalidRequest(absl::StrFormat("'%s' must be an integer from %d to %d", name, lo, hi), name);
  }
  *out = v->is_number_unsigned() ? static_cast<int64_t>(v->get<uint64_t>()) : v->get<int64_t>();
  return std::nullopt;
}

std::optional<ApiError> ReadReal(const json& body, const char* name, double lo, double hi,
                                 std::optional<float>* out) {
  const json* v = Field(body, name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number() || !(v->get<double>() >= lo && v->get<double>() <= hi)) {
    return InvalidRequest(absl::StrFormat("'%s' must be a number from %g to %g", name, lo, hi), name);
  }
  *out = static_cast<float>(v->get<double>());
  return std::nullopt;
}

// Message content: a string, or an array of {"type": "text", "text": …} parts (joined).
std::optional<ApiError> ReadContent(const json& message, const std::string& role, std::string* out) {
  const json* content = Field(message, "content");
  if (content == nullptr) {
    // An assistant turn that only called tools has no content.
    if (role == "assistant") return std::nullopt;
    return InvalidRequest("every message needs 'content'", "messages");
  }
  if (content->is_string()) {
    *out = content->get<std::string>();
    return std::nullopt;
  }
  if (!content->is_array()) return InvalidRequest("'content' must be a string or an array of parts", "messages");
  for (const json& part : *content) {
    const json* type = part.is_object() ? Field(part, "type") : nullptr;
    if (type == nullptr || !type->is_string()) {
      return InvalidRequest("each content part must be an object with a 'type'", "messages");
    }
    if (type->get_ref<const std::string&>() != "text") {
      return InvalidRequest(absl::StrFormat("content parts of type '%s' are not supported; only 'text'",
                                            type->get_ref<const std::string&>()),
                            "messages");
    }
    const json* text = Field(part, "text");
    if (text == nullptr || !text->is_string()) return InvalidRequest("a text part needs a string 'text'", "messages");
    *out += text->get_ref<const std::string&>();
  }
  return std::nullopt;
}

std::optional<ApiError> ReadMessages(const json& body, const RequestLimits& limits, std::vector<ChatMessage>* out) {
  const json* messages = Field(body, "messages");
  if (messages == nullptr) return InvalidRequest("'messages' is required", "messages");
  if (!messages->is_array()) return InvalidRequest("'messages' must be an array", "messages");
  if (messages->empty()) return InvalidRequest("'messages' must not be empty", "messages");
  if (messages->size() > limits.max_messages) {
    return InvalidRequest(absl::StrFormat("at most %d messages are accepted", limits.max_messages), "messages");
  }
  for (const json& m : *messages) {
    if (!m.is_object()) return InvalidRequest("each message must be an object", "messages");
    const json* role = Field(m, "role");
    if (role == nullptr || !role->is_string()) return InvalidRequest("each message needs a string 'role'", "messages");
    std::string name = role->get<std::string>();
    // OpenAI's newer name for the system prompt.
    if (name == "developer") name = "system";
    if (name != "system" && name != "user" && name != "assistant" && name != "tool") {
      return InvalidRequest(absl::StrFormat("unknown role '%s': expected system, user, assistant or tool", name),
                            "messages");
    }
    ChatMessage message{name, {}};
    if (auto error = ReadContent(m, name, &message.content)) return error;
    out->push_back(std::move(message));
  }
  return std::nullopt;
}

std::optional<ApiError> ReadStop(const json& body, const RequestLimits& limits, std::vector<std::string>* out) {
  const json* stop = Field(body, "stop");
  if (stop == nullptr) return std::nullopt;
  if (stop->is_string()) {
    if (!stop->get_ref<const std::string&>().empty()) out->push_back(stop->get<std::string>());
    return std::nullopt;
  }
  if (!stop->is_array() || stop->size() > limits.max_stop_strings) {
    return InvalidRequest(
        absl::StrFormat("'stop' must be a string or an array of at most %d strings", limits.max_stop_strings), "stop");
  }
  for (const json& s : *stop) {
    if (!s.is_string()) return InvalidRequest("'stop' must contain only strings", "stop");
    if (!s.get_ref<const std::string&>().empty()) out->push_back(s.get<std::string>());
  }
  return std::nullopt;
}

// The fields both endpoints share.
std::optional<ApiError> ReadCommon(const json& body, const RequestLimits& limits, CompletionRequest* r) {
  if (const json* model = Field(body, "model")) {
    if (!model->is_string()) return InvalidRequest("'model' must be a string", "model");
    r->model = model->get<std::string>();
  }
  if (auto e = ReadBool(body, "stream", &r->stream)) return e;
  if (const json* options = Field(body, "stream_options")) {
    if (!options->is_object()) return InvalidRequest("'stream_options' must be an object", "stream_options");
    if (auto e = ReadBool(*options, "include_usage", &r->include_usage)) return e;
  }
  constexpr int64_t kMaxTokens = int64_t{1} << 30;
  std::optional<int64_t> max_tokens, max_completion_tokens;
  if (auto e = ReadInt(body, "max_tokens", 1, kMaxTokens, &max_tokens)) return e;
  if (auto e = ReadInt(body, "max_completion_tokens", 1, kMaxTokens, &max_completion_tokens)) return e;
  r->max_tokens = max_completion_tokens ? max_completion_tokens : max_tokens;
  if (auto e = ReadReal(body, "temperature", 0, 2, &r->temperature)) return e;
  if (auto e = ReadReal(body, "top_p", 0, 1, &r->top_p)) return e;
  if (auto e = ReadReal(body, "presence_penalty", -2, 2, &r->presence_penalty)) return e;
  if (auto e = ReadReal(body, "frequency_penalty", -2, 2, &r->frequency_penalty)) return e;
  if (const json* seed = Field(body, "seed")) {
    if (!seed->is_number_integer()) return InvalidRequest("'seed' must be an integer", "seed");
    r->seed = seed->is_number_unsigned() ? seed->get<uint64_t>() : static_cast<uint64_t>(seed->get<int64_t>());
  }
  if (auto e = ReadStop(body, limits, &r->stop)) return e;
  std::optional<int64_t> n;
  if (auto e = ReadInt(body, "n", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), &n)) {
    return e;
  }
  if (n && *n != 1) return InvalidRequest("only n = 1 is supported", "n");
  if (const json* logprobs = Field(body, "logprobs")) {
    if (!logprobs->is_boolean() || logprobs->get<bool>()) return InvalidRequest("'logprobs' is not supported", "logprobs");
  }
  if (auto e = ReadInt(body, "reasoning_budget", 0, kMaxTokens, &r->reasoning_budget)) return e;
  return std::nullopt;
}

std::variant<json, ApiError> ParseObject(std::string_view body) {
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return InvalidRequest("the body is not valid JSON");
  if (!parsed.is_object()) return InvalidRequest("the body must be a JSON object");
  return parsed;
}

}  // namespace

ParsedRequest ParseChatRequest(std::string_view body, const RequestLimits& limits) {
  auto parsed = ParseObject(body);
  if (auto* error = std::get_if<ApiError>(&parsed)) return std::move(*error);
  const json& object = std::get<json>(parsed);
  CompletionRequest request;
  request.chat = true;
  if (auto e = ReadMessages(object, limits, &request.messages)) return std::move(*e);
  if (auto e = ReadCommon(object, limits, &request)) return std::move(*e);
  return request;
}

ParsedRequest ParseCompletionRequest(std::string_view body, const RequestLimits& limits) {
  auto parsed = ParseObject(body);
  if (auto* error = std::get_if<ApiError>(&parsed)) return std::move(*error);
  const json& object = std::get<json>(parsed);
  CompletionRequest request;
  request.chat = false;
  const json* prompt = Field(object, "prompt");
  // A one-element array is how some clients send a single prompt.
  if (prompt != nullptr && prompt->is_array() && prompt->size() == 1) prompt = &(*prompt)[0];
  if (prompt == nullptr || !prompt->is_string()) {
    return InvalidRequest("'prompt' must be a string (one prompt per request)", "prompt");
  }
  request.prompt = prompt->get<std::string>();
  if (request.prompt.empty()) return InvalidRequest("'prompt' must not be empty", "prompt");
  if (auto e = ReadCommon(object, limits, &request)) return std::move(*e);
  return request;
}

GenerateOptions ToGenerateOptions(const CompletionRequest& r, const GenerateOptions& base, int64_t cap) {
  GenerateOptions o = base;
  o.max_new_tokens = r.max_tokens.value_or(-1);
  if (cap > 0 && (o.max_new_tokens < 0 || o.max_new_tokens > cap)) o.max_new_tokens = cap;
  if (r.temperature) o.sampler.temperature = *r.temperature;
  if (r.top_p) o.sampler.top_p = *r.top_p;
  if (r.presence_penalty) o.sampler.presence_penalty = *r.presence_penalty;
  if (r.frequency_penalty) o.sampler.frequency_penalty = *r.frequency_penalty;
  if (r.seed) o.sampler.seed = *r.seed;
  o.stop = r.stop;
  if (r.reasoning_budget) o.reasoning_budget = *r.reasoning_budget;
  return o;
}

}  // namespace r1::serve
