#include "serve/openai_request.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "grammar/ordered_json.h"
#include "nlohmann/json.hpp"
#include "r1/grammar.h"
#include "session/chat_json.h"

namespace r1::serve {
namespace {

// Ordered, so that schemas keep their properties' order (answers follow it).
using json = nlohmann::ordered_json;

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

std::optional<ApiError> ReadMessages(const json& body, const RequestLimits& limits, std::vector<ChatMessage>* out) {
  const json* messages = Field(body, "messages");
  if (messages == nullptr) return InvalidRequest("'messages' is required", "messages");
  if (!messages->is_array()) return InvalidRequest("'messages' must be an array", "messages");
  if (messages->empty()) return InvalidRequest("'messages' must not be empty", "messages");
  if (messages->size() > limits.max_messages) {
    return InvalidRequest(absl::StrFormat("at most %d messages are accepted", limits.max_messages), "messages");
  }
  StatusOr<std::vector<ChatMessage>> read = chat_json::ReadMessages(*messages);
  if (!read.ok()) return InvalidRequest(std::string(read.status().message()), "messages");
  for (size_t i = 0; i < read->size(); ++i) {
    ChatMessage& m = (*read)[i];
    // OpenAI's newer name for the system prompt.
    if (m.role == "developer") m.role = "system";
    if (m.role != "system" && m.role != "user" && m.role != "assistant" && m.role != "tool") {
      return InvalidRequest(absl::StrFormat("unknown role '%s': expected system, user, assistant or tool", m.role),
                            "messages");
    }
    // Only an assistant turn that called tools may come without content.
    if (m.role != "assistant" && Field((*messages)[i], "content") == nullptr) {
      return InvalidRequest("every message needs 'content'", "messages");
    }
  }
  *out = *std::move(read);
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

// response_format (text, json_object, json_schema) and the `grammar` extension, into the GBNF
// the answer must match.
std::optional<ApiError> ReadAnswerGrammar(const json& body, CompletionRequest* r) {
  const json* grammar = Field(body, "grammar");
  const json* format = Field(body, "response_format");
  if (grammar != nullptr) {
    if (!grammar->is_string()) return InvalidRequest("'grammar' must be a string (GBNF)", "grammar");
    if (format != nullptr) return InvalidRequest("give 'grammar' or 'response_format', not both", "grammar");
    const Status checked = CheckGrammar(grammar->get<std::string>());
    if (!checked.ok()) return InvalidRequest(absl::StrCat("'grammar': ", checked.message()), "grammar");
    r->grammar = grammar->get<std::string>();
    return std::nullopt;
  }
  if (format == nullptr) return std::nullopt;
  const json* type = format->is_object() ? Field(*format, "type") : nullptr;
  if (type == nullptr || !type->is_string()) {
    return InvalidRequest("'response_format' must be an object with a 'type'", "response_format");
  }
  const std::string kind = type->get<std::string>();
  if (kind == "text") return std::nullopt;
  if (kind == "json_object") {
    r->grammar = JsonObjectGrammar();
    return std::nullopt;
  }
  if (kind != "json_schema") {
    return InvalidRequest("'response_format.type' must be 'text', 'json_object' or 'json_schema'", "response_format");
  }
  const json* spec = Field(*format, "json_schema");
  const json* schema = spec != nullptr && spec->is_object() ? Field(*spec, "schema") : nullptr;
  if (schema == nullptr || !(schema->is_object() || schema->is_boolean())) {
    return InvalidRequest("'response_format.json_schema.schema' must be a JSON Schema object",
                          "response_format.json_schema.schema");
  }
  const std::string schema_text = schema->dump();
  StatusOr<std::string> gbnf = JsonSchemaToGrammar(schema_text);
  if (!gbnf.ok()) {
    return InvalidRequest(absl::StrCat("'response_format.json_schema.schema': ", gbnf.status().message()),
                          "response_format.json_schema.schema");
  }
  r->grammar = *std::move(gbnf);
  return std::nullopt;
}

// `tools` and `tool_choice`: each function's parameters must be a schema r1 can hold the
// arguments to, and a named choice must be one of the tools.
std::optional<ApiError> ReadTools(const json& body, CompletionRequest* r) {
  if (const json* tools = Field(body, "tools")) {
    StatusOr<std::vector<ToolDefinition>> read = chat_json::ReadTools(*tools);
    if (!read.ok()) return InvalidRequest(std::string(read.status().message()), "tools");
    r->tools = *std::move(read);
    for (size_t i = 0; i < r->tools.size(); ++i) {
      const Status schema = JsonSchemaToGrammar(r->tools[i].parameters).status();
      if (!schema.ok()) {
        return InvalidRequest(absl::StrFormat("tools[%d].function.parameters: %s", i, schema.message()), "tools");
      }
    }
  }
  if (const json* choice = Field(body, "tool_choice")) {
    GenerateOptions o;
    const Status read = chat_json::ReadToolChoice(*choice, &o);
    if (!read.ok()) return InvalidRequest(std::string(read.message()), "tool_choice");
    const bool named_tool_exists = std::any_of(r->tools.begin(), r->tools.end(), [&](const ToolDefinition& t) {
      return t.name == o.tool_choice_function;
    });
    if (o.tool_choice == ToolChoice::kFunction && !named_tool_exists) {
      return InvalidRequest(absl::StrFormat("tool_choice names '%s', which is not among the tools", o.tool_choice_function),
                            "tool_choice");
    }
    if (o.tool_choice == ToolChoice::kRequired && r->tools.empty()) {
      return InvalidRequest("tool_choice 'required' needs tools", "tool_choice");
    }
    if (o.tool_choice != ToolChoice::kAuto && o.tool_choice != ToolChoice::kNone && !r->grammar.empty()) {
      return InvalidRequest("a required tool call and response_format or grammar exclude each other", "tool_choice");
    }
    r->tool_choice = o.tool_choice;
    r->tool_choice_function = o.tool_choice_function;
  }
  return std::nullopt;
}

std::variant<json, ApiError> ParseObject(std::string_view body) {
  std::optional<json> parsed = ParseOrderedJson(body);
  if (!parsed) return InvalidRequest("the body is not valid JSON");
  if (!parsed->is_object()) return InvalidRequest("the body must be a JSON object");
  return *std::move(parsed);
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
  if (auto e = ReadAnswerGrammar(object, &request)) return std::move(*e);
  if (auto e = ReadTools(object, &request)) return std::move(*e);
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
  if (auto e = ReadAnswerGrammar(object, &request)) return std::move(*e);
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
  o.grammar = r.grammar;
  o.json_schema.clear();
  o.tools = r.tools;
  o.tool_choice = r.tool_choice;
  o.tool_choice_function = r.tool_choice_function;
  return o;
}

}  // namespace r1::serve
