// chat_json.cc — reading and writing OpenAI's chat JSON shapes, field by field, never throwing.
#include "session/chat_json.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace r1::chat_json {
namespace {

Status Bad(std::string_view field, std::string_view what) {
  std::string message(field);
  message += ": ";
  message += what;
  return absl::InvalidArgumentError(message);
}

// The value of `key` in `object`, nullptr when absent or null.
const Json* Field(const Json& object, const char* key) {
  const auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

StatusOr<std::string> ReadString(const Json& object, const char* key, std::string_view field, bool required) {
  const Json* v = Field(object, key);
  if (v == nullptr) {
    if (required) return Bad(field, absl::StrCat("'", key, "' is required"));
    return std::string();
  }
  if (!v->is_string()) return Bad(field, absl::StrCat("'", key, "' must be a string"));
  return v->get<std::string>();
}

// Message content: a string, or an array of {"type": "text", "text": …} parts (joined).
StatusOr<std::string> ReadContent(const Json* content, std::string_view field) {
  if (content == nullptr) return std::string();
  if (content->is_string()) return content->get<std::string>();
  if (!content->is_array()) return Bad(field, "'content' must be a string or an array of text parts");
  std::string text;
  for (const Json& part : *content) {
    const Json* type = part.is_object() ? Field(part, "type") : nullptr;
    const Json* part_text = part.is_object() ? Field(part, "text") : nullptr;
    if (type != nullptr && type->is_string() && *type != "text") {
      return Bad(field, absl::StrFormat("content parts of type '%s' are not supported; only 'text'",
                                        type->get_ref<const std::string&>()));
    }
    if (type == nullptr || part_text == nullptr || !part_text->is_string()) {
      return Bad(field, "content parts must be {\"type\": \"text\", \"text\": \"…\"}");
    }
    text += part_text->get_ref<const std::string&>();
  }
  return text;
}

}  // namespace

StatusOr<std::vector<ToolDefinition>> ReadTools(const Json& tools) {
  if (!tools.is_array()) return Bad("tools", "must be an array");
  std::vector<ToolDefinition> out;
  for (size_t i = 0; i < tools.size(); ++i) {
    const std::string field = absl::StrFormat("tools[%d]", i);
    const Json& tool = tools[i];
    if (!tool.is_object()) return Bad(field, "must be an object");
    const Json* type = Field(tool, "type");
    if (type != nullptr && *type != "function") return Bad(field, "only tools of type 'function' are supported");
    const Json* function = Field(tool, "function");
    if (function == nullptr || !function->is_object()) return Bad(field, "'function' must be an object");
    const std::string fn_field = field + ".function";
    ToolDefinition def;
    R1_ASSIGN_OR_RETURN(def.name, ReadString(*function, "name", fn_field, /*required=*/true));
    if (def.name.empty()) return Bad(fn_field, "'name' must not be empty");
    R1_ASSIGN_OR_RETURN(def.description, ReadString(*function, "description", fn_field, /*required=*/false));
    if (const Json* parameters = Field(*function, "parameters")) {
      if (!parameters->is_object()) return Bad(fn_field, "'parameters' must be a JSON Schema object");
      def.parameters = parameters->dump();
    }
    for (const ToolDefinition& earlier : out) {
      if (earlier.name == def.name) return Bad(fn_field, absl::StrCat("two tools are named '", def.name, "'"));
    }
    out.push_back(std::move(def));
  }
  return out;
}

Status ReadToolChoice(const Json& choice, GenerateOptions* options) {
  if (choice.is_string()) {
    const std::string& c = choice.get_ref<const std::string&>();
    if (c != "auto" && c != "none" && c != "required") {
      return Bad("tool_choice", "must be 'auto', 'none', 'required' or a function");
    }
    ToolChoiceFromText(c, options);
    return absl::OkStatus();
  }
  const Json* function = choice.is_object() ? Field(choice, "function") : nullptr;
  if (function == nullptr || !function->is_object()) {
    return Bad("tool_choice", "must be 'auto', 'none', 'required' or {\"type\": \"function\", \"function\": {\"name\": …}}");
  }
  R1_ASSIGN_OR_RETURN(options->tool_choice_function, ReadString(*function, "name", "tool_choice.function", true));
  options->tool_choice = ToolChoice::kFunction;
  return absl::OkStatus();
}

void ToolChoiceFromText(std::string_view text, GenerateOptions* options) {
  options->tool_choice_function.clear();
  if (text == "auto") {
    options->tool_choice = ToolChoice::kAuto;
  } else if (text == "none") {
    options->tool_choice = ToolChoice::kNone;
  } else if (text == "required") {
    options->tool_choice = ToolChoice::kRequired;
  } else {
    options->tool_choice = ToolChoice::kFunction;
    options->tool_choice_function = text;
  }
}

StatusOr<std::vector<ToolCall>> ReadToolCalls(const Json& calls, std::string_view field) {
  if (!calls.is_array()) return Bad(field, "must be an array");
  std::vector<ToolCall> out;
  for (size_t i = 0; i < calls.size(); ++i) {
    const std::string call_field = absl::StrFormat("%s[%d]", field, i);
    const Json& call = calls[i];
    const Json* function = call.is_object() ? Field(call, "function") : nullptr;
    if (function == nullptr || !function->is_object()) return Bad(call_field, "needs a 'function' object");
    ToolCall c;
    R1_ASSIGN_OR_RETURN(c.id, ReadString(call, "id", call_field, /*required=*/false));
    R1_ASSIGN_OR_RETURN(c.name, ReadString(*function, "name", call_field + ".function", /*required=*/true));
    // OpenAI carries the arguments as a string of JSON; an object is taken as it is.
    const Json* args = Field(*function, "arguments");
    if (args == nullptr) {
      c.arguments = "{}";
    } else if (args->is_string()) {
      c.arguments = args->get<std::string>();
    } else if (args->is_object()) {
      c.arguments = args->dump();
    } else {
      return Bad(call_field + ".function", "'arguments' must be a string of JSON");
    }
    out.push_back(std::move(c));
  }
  return out;
}

StatusOr<std::vector<ChatMessage>> ReadMessages(const Json& messages) {
  if (!messages.is_array()) return Bad("messages", "must be an array");
  std::vector<ChatMessage> out;
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string field = absl::StrFormat("messages[%d]", i);
    const Json& m = messages[i];
    if (!m.is_object()) return Bad(field, "must be an object");
    ChatMessage message;
    R1_ASSIGN_OR_RETURN(message.role, ReadString(m, "role", field, /*required=*/true));
    R1_ASSIGN_OR_RETURN(message.content, ReadContent(Field(m, "content"), field));
    if (const Json* calls = Field(m, "tool_calls")) {
      R1_ASSIGN_OR_RETURN(message.tool_calls, ReadToolCalls(*calls, field + ".tool_calls"));
    }
    R1_ASSIGN_OR_RETURN(message.tool_call_id, ReadString(m, "tool_call_id", field, /*required=*/false));
    out.push_back(std::move(message));
  }
  return out;
}

Json ToolCallsJson(absl::Span<const ToolCall> calls) {
  Json out = Json::array();
  for (const ToolCall& c : calls) {
    out.push_back({{"id", c.id}, {"type", "function"}, {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
  }
  return out;
}

}  // namespace r1::chat_json
