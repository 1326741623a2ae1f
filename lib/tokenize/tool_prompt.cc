#include "tokenize/tool_prompt.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tokenize/chat_render.h"
#include "tokenize/jinja_json.h"

namespace r1::internal {
namespace {

bool IsHermes(ChatTemplate family) { return family == ChatTemplate::kQwen2 || family == ChatTemplate::kChatMl; }

bool IsIdentifierChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

StatusOr<jinja::Value> ToolValue(const ToolDefinition& tool) {
  if (tool.name.empty()) return absl::InvalidArgumentError("a tool has no name");
  const std::string what = absl::StrCat("the parameters of tool '", tool.name, "'");
  R1_ASSIGN_OR_RETURN(jinja::Value parameters,
                      jinja::JsonToValue(tool.parameters.empty() ? "{}" : tool.parameters, what));
  if (parameters.kind != jinja::Value::Kind::kDict) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not a JSON object"));
  }
  jinja::Dict function;
  function.Set("name", jinja::Value::String(tool.name));
  function.Set("description", jinja::Value::String(tool.description));
  function.Set("parameters", std::move(parameters));
  jinja::Dict entry;
  entry.Set("type", jinja::Value::String("function"));
  entry.Set("function", jinja::Value::MakeDict(std::move(function)));
  return jinja::Value::MakeDict(std::move(entry));
}

// json.dumps(value) as transformers' tojson writes it (", " and ": ", non-ASCII kept).
StatusOr<std::string> PythonJson(const jinja::Value& value) { return jinja::ToJson(value, -1, false); }

const jinja::Value* Field(const jinja::Value& dict, std::string_view key) {
  return dict.kind == jinja::Value::Kind::kDict ? dict.dict->Find(key) : nullptr;
}

// Example arguments for the worked call: the schema's required properties (all of them when
// none is required), each with a placeholder of its type.
jinja::Value ExampleArguments(const jinja::Value& parameters) {
  jinja::Dict args;
  const jinja::Value* properties = Field(parameters, "properties");
  if (properties == nullptr || properties->kind != jinja::Value::Kind::kDict) return jinja::Value::MakeDict({});
  const jinja::Value* required = Field(parameters, "required");
  const bool has_required =
      required != nullptr && required->kind == jinja::Value::Kind::kList && !required->list->empty();
  for (const auto& [name, schema] : properties->dict->entries) {
    if (has_required) {
      bool listed = false;
      for (const jinja::Value& r : *required->list) listed = listed || (r.is_string() && r.s == name);
      if (!listed) continue;
    }
    const jinja::Value* type = Field(schema, "type");
    const std::string_view t = type != nullptr && type->is_string() ? std::string_view(type->s) : "";
    jinja::Value placeholder = jinja::Value::String("...");
    if (t == "integer" || t == "number") placeholder = jinja::Value::Int(0);
    if (t == "boolean") placeholder = jinja::Value::Bool(false);
    if (t == "array") placeholder = jinja::Value::MakeList({});
    if (t == "object") placeholder = jinja::Value::MakeDict({});
    args.Set(name, std::move(placeholder));
  }
  return jinja::Value::MakeDict(std::move(args));
}

// Qwen2.5's own words, so that the built-in renders what its template renders with `tools`.
StatusOr<std::string> HermesSection(const jinja::Value& tools) {
  std::string out =
      "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
      "You are provided with function signatures within <tools></tools> XML tags:\n<tools>";
  for (const jinja::Value& tool : *tools.list) {
    R1_ASSIGN_OR_RETURN(std::string json, PythonJson(tool));
    absl::StrAppend(&out, "\n", json);
  }
  out +=
      "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
      "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": "
      "<args-json-object>}\n</tool_call>";
  return out;
}

// DeepSeek's markers, laid out as the R1 template renders an assistant's calls.
StatusOr<std::string> DeepSeekSection(const jinja::Value& tools) {
  std::string out = "## Tools\n\nYou can call these functions:\n";
  for (const jinja::Value& tool : *tools.list) {
    const jinja::Value& function = *Field(tool, "function");
    R1_ASSIGN_OR_RETURN(std::string schema, PythonJson(*Field(function, "parameters")));
    absl::StrAppend(&out, "\n### ", Field(function, "name")->s, "\n");
    if (!Field(function, "description")->s.empty()) absl::StrAppend(&out, Field(function, "description")->s, "\n");
    absl::StrAppend(&out, "Parameters (JSON Schema): ", schema, "\n");
  }
  const jinja::Value& first = *Field(tools.list->front(), "function");
  R1_ASSIGN_OR_RETURN(std::string example, PythonJson(ExampleArguments(*Field(first, "parameters"))));
  absl::StrAppend(&out,
                  "\nTo call functions, end your answer with the calls in exactly this form, the arguments "
                  "as a JSON object:\n<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>",
                  Field(first, "name")->s, "\n```json\n", example,
                  "\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>\n"
                  "For several calls, put a new line and the next <｜tool▁call▁begin｜>…<｜tool▁call▁end｜> "
                  "before <｜tool▁calls▁end｜>. The results come back in the next turn.");
  return out;
}

}  // namespace

StatusOr<jinja::Value> ToolsValue(absl::Span<const ToolDefinition> tools) {
  jinja::List list;
  list.reserve(tools.size());
  for (const ToolDefinition& tool : tools) {
    R1_ASSIGN_OR_RETURN(jinja::Value v, ToolValue(tool));
    list.push_back(std::move(v));
  }
  return jinja::Value::MakeList(std::move(list));
}

StatusOr<std::string> ToolSystemSection(absl::Span<const ToolDefinition> tools, ChatTemplate family) {
  if (tools.empty()) return std::string();
  R1_ASSIGN_OR_RETURN(jinja::Value value, ToolsValue(tools));
  return IsHermes(family) ? HermesSection(value) : DeepSeekSection(value);
}

std::vector<ChatMessage> WithToolSection(absl::Span<const ChatMessage> messages, std::string_view section,
                                         ChatTemplate family) {
  std::vector<ChatMessage> out(messages.begin(), messages.end());
  if (section.empty()) return out;
  // The system message the template keeps whole: the DeepSeek templates keep the last one (R1
  // joins them all, so the last one ends its system prompt); the others treat a leading one
  // as the system prompt.
  std::optional<size_t> target;
  if (family == ChatTemplate::kDeepSeekR1 || family == ChatTemplate::kDeepSeekR1Distill) {
    for (size_t i = 0; i < out.size(); ++i) {
      if (out[i].role == "system") target = i;
    }
  } else if (!out.empty() && out[0].role == "system") {
    target = 0;
  }
  if (target) {
    ChatMessage& m = out[*target];
    // Qwen2.5 writes the blank line even after an empty system prompt.
    if (!m.content.empty() || IsHermes(family)) m.content += "\n\n";
    m.content += section;
    return out;
  }
  ChatMessage system{"system", ""};
  if (family == ChatTemplate::kQwen2) system.content = std::string(kQwenDefaultSystem) + "\n\n";
  system.content += section;
  out.insert(out.begin(), std::move(system));
  return out;
}

bool TemplateRendersTools(std::string_view source) {
  constexpr std::string_view kName = "tools";
  for (size_t at = source.find(kName); at != std::string_view::npos; at = source.find(kName, at + 1)) {
    const bool starts = at == 0 || !IsIdentifierChar(source[at - 1]);
    const bool ends = at + kName.size() == source.size() || !IsIdentifierChar(source[at + kName.size()]);
    if (starts && ends) return true;
  }
  return false;
}

bool TemplateWantsArgumentObjects(std::string_view source) {
  constexpr std::string_view kName = "arguments";
  for (size_t at = source.find(kName); at != std::string_view::npos; at = source.find(kName, at + 1)) {
    size_t i = at + kName.size();
    while (i < source.size() && (source[i] == ' ' || source[i] == '\t')) ++i;
    if (i >= source.size() || source[i] != '|') continue;
    ++i;
    while (i < source.size() && (source[i] == ' ' || source[i] == '\t')) ++i;
    if (source.substr(i, 6) == "tojson") return true;
  }
  return false;
}

ChatTemplate ToolSyntaxFamily(std::string_view source) {
  const std::optional<ChatTemplate> detected = DetectChatTemplate(source);
  // A template that shows <tool_call> calls is Hermes-style whatever else it resembles.
  if (source.find("<tool_call>") != std::string_view::npos) {
    return detected == ChatTemplate::kQwen2 ? ChatTemplate::kQwen2 : ChatTemplate::kChatMl;
  }
  return detected.value_or(ChatTemplate::kDeepSeekR1);
}

}  // namespace r1::internal
