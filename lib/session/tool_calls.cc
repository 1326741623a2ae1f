// tool_calls.cc — reading calls out of a tool-call section, and the grammar of a required call.
#include "session/tool_calls.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "grammar/gbnf_parser.h"
#include "grammar/gbnf_text.h"
#include "grammar/grammar_matcher.h"
#include "grammar/json_schema_grammar.h"
#include "nlohmann/json.hpp"
#include "session/chat_prompt.h"

namespace r1 {
namespace {

constexpr char kCallsBegin[] = "<｜tool▁calls▁begin｜>";
constexpr char kCallsEnd[] = "<｜tool▁calls▁end｜>";
constexpr char kCallBegin[] = "<｜tool▁call▁begin｜>";
constexpr char kCallEnd[] = "<｜tool▁call▁end｜>";
constexpr char kSep[] = "<｜tool▁sep｜>";
constexpr char kHermesOpen[] = "<tool_call>";
constexpr char kHermesClose[] = "</tool_call>";

bool ConsumePrefix(std::string_view* s, std::string_view prefix) {
  if (s->substr(0, prefix.size()) != prefix) return false;
  s->remove_prefix(prefix.size());
  return true;
}

bool ConsumeSuffix(std::string_view* s, std::string_view suffix) {
  if (s->size() < suffix.size() || s->substr(s->size() - suffix.size()) != suffix) return false;
  s->remove_suffix(suffix.size());
  return true;
}

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

const ToolDefinition* FindTool(absl::Span<const ToolDefinition> tools, std::string_view name) {
  for (const ToolDefinition& t : tools) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

// The arguments, compact, when they are a JSON object that the function's schema accepts.
StatusOr<std::string> CheckedArguments(const ToolDefinition& tool, std::string_view text) {
  const nlohmann::ordered_json args = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (args.is_discarded() || !args.is_object()) {
    return absl::InvalidArgumentError(absl::StrFormat("the arguments of %s are not a JSON object", tool.name));
  }
  R1_ASSIGN_OR_RETURN(std::string gbnf, grammar::JsonSchemaToGbnf(tool.parameters));
  R1_ASSIGN_OR_RETURN(std::shared_ptr<const grammar::Grammar> g, grammar::ParseGbnf(gbnf));
  grammar::GrammarMatcher matcher(std::move(g));
  const std::string compact = args.dump();
  if (!matcher.AcceptBytes(compact) || !matcher.complete()) {
    return absl::InvalidArgumentError(absl::StrFormat("the arguments of %s do not fit its parameters' schema", tool.name));
  }
  return compact;
}

StatusOr<ToolCall> MakeCall(absl::Span<const ToolDefinition> tools, std::string_view name, std::string_view args,
                            size_t index) {
  const ToolDefinition* tool = FindTool(tools, name);
  if (tool == nullptr) return absl::InvalidArgumentError(absl::StrFormat("no tool is named '%s'", name));
  R1_ASSIGN_OR_RETURN(std::string arguments, CheckedArguments(*tool, args));
  // An id that is the same for the same call, so that runs repeat exactly.
  const size_t hash = std::hash<std::string>{}(absl::StrCat(index, ":", std::string(name), ":", arguments));
  return ToolCall{absl::StrFormat("call_%d_%016x", index, hash), std::string(name), std::move(arguments)};
}

// NAME\n```json\nARGS\n``` (the fence optional).
StatusOr<ToolCall> ParseDeepSeekCall(std::string_view body, absl::Span<const ToolDefinition> tools, size_t index) {
  const size_t sep = body.find(kSep);
  if (sep == std::string_view::npos) return absl::InvalidArgumentError("a tool call has no separator");
  body.remove_prefix(sep + std::strlen(kSep));
  const size_t newline = body.find('\n');
  const std::string_view name = TrimSpace(body.substr(0, newline));
  std::string_view args = newline == std::string_view::npos ? std::string_view() : TrimSpace(body.substr(newline));
  if (ConsumePrefix(&args, "```")) {
    ConsumePrefix(&args, "json");
    if (!ConsumeSuffix(&args, "```")) return absl::InvalidArgumentError("a tool call's fence is not closed");
  }
  return MakeCall(tools, name, TrimSpace(args), index);
}

StatusOr<std::vector<ToolCall>> ParseDeepSeek(std::string_view text, absl::Span<const ToolDefinition> tools) {
  text = TrimSpace(text);
  ConsumePrefix(&text, kCallsBegin);
  std::vector<ToolCall> calls;
  while (true) {
    text = TrimSpace(text);
    if (text.empty() || ConsumePrefix(&text, kCallsEnd)) break;
    if (!ConsumePrefix(&text, kCallBegin)) return absl::InvalidArgumentError("text where a tool call should start");
    const size_t end = text.find(kCallEnd);
    if (end == std::string_view::npos) return absl::InvalidArgumentError("a tool call is not closed");
    R1_ASSIGN_OR_RETURN(ToolCall call, ParseDeepSeekCall(text.substr(0, end), tools, calls.size()));
    calls.push_back(std::move(call));
    text.remove_prefix(end + std::strlen(kCallEnd));
  }
  if (!TrimSpace(text).empty()) return absl::InvalidArgumentError("text after the tool calls");
  return calls;
}

StatusOr<std::vector<ToolCall>> ParseHermes(std::string_view text, absl::Span<const ToolDefinition> tools) {
  std::vector<ToolCall> calls;
  while (!(text = TrimSpace(text)).empty()) {
    if (!ConsumePrefix(&text, kHermesOpen)) return absl::InvalidArgumentError("text where a tool call should start");
    const size_t end = text.find(kHermesClose);
    if (end == std::string_view::npos) return absl::InvalidArgumentError("a tool call is not closed");
    const auto call = nlohmann::ordered_json::parse(text.substr(0, end), nullptr, /*allow_exceptions=*/false);
    text.remove_prefix(end + std::strlen(kHermesClose));
    if (call.is_discarded() || !call.is_object() || !call.contains("name") || !call["name"].is_string()) {
      return absl::InvalidArgumentError("a tool call is not {\"name\": …, \"arguments\": …}");
    }
    const auto args = call.value("arguments", nlohmann::ordered_json::object());
    // Some models write the arguments as a string of JSON, as OpenAI's API carries them.
    const std::string args_text = args.is_string() ? args.get<std::string>() : args.dump();
    R1_ASSIGN_OR_RETURN(ToolCall parsed, MakeCall(tools, call["name"].get<std::string>(), args_text, calls.size()));
    calls.push_back(std::move(parsed));
  }
  return calls;
}


}  // namespace

ToolCallStyle ToolCallStyleFor(const Tokenizer& tokenizer, const GenerateOptions& options) {
  // The syntax the prompt taught: the family of the template it was rendered with.
  const StatusOr<internal::ChatTemplateChoice> choice = internal::ChooseChatTemplate(tokenizer, options);
  if (!choice.ok()) return ToolCallStyle::kDeepSeek;  // a raw prompt: r1's own section's syntax
  const ChatTemplate family = internal::ToolCallFamily(*choice);
  return family == ChatTemplate::kQwen2 || family == ChatTemplate::kChatMl ? ToolCallStyle::kHermes
                                                                             : ToolCallStyle::kDeepSeek;
}

std::vector<std::string> ToolSectionMarkers(ToolCallStyle style) {
  if (style == ToolCallStyle::kHermes) return {std::string(kHermesOpen)};
  // Models sometimes open a single call without the list marker.
  return {std::string(kCallsBegin), std::string(kCallBegin)};
}

StatusOr<std::vector<ToolCall>> ParseToolCalls(std::string_view section, ToolCallStyle style,
                                               absl::Span<const ToolDefinition> tools) {
  return style == ToolCallStyle::kHermes ? ParseHermes(section, tools) : ParseDeepSeek(section, tools);
}

StatusOr<RequiredToolCall> RequiredToolCallGrammar(ToolCallStyle style, const GenerateOptions& options) {
  std::vector<const ToolDefinition*> callable;
  for (const ToolDefinition& t : options.tools) {
    if (options.tool_choice != ToolChoice::kFunction || t.name == options.tool_choice_function) callable.push_back(&t);
  }
  if (callable.empty()) {
    return absl::InvalidArgumentError(options.tool_choice == ToolChoice::kFunction
                                          ? absl::StrFormat("tool_choice names '%s', which is not among the tools",
                                                            options.tool_choice_function)
                                          : std::string("tool_choice requires a call but no tools are given"));
  }
  RequiredToolCall out;
  std::string alternatives, rules;
  for (size_t i = 0; i < callable.size(); ++i) {
    const ToolDefinition& tool = *callable[i];
    StatusOr<std::string> args = grammar::JsonSchemaToGbnf(tool.parameters);
    if (!args.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("the parameters of tool '", tool.name, "': ", args.status().message()));
    }
    const std::string prefix = absl::StrFormat("tool%d-", i);
    absl::StrAppend(&rules, grammar::PrefixGbnfRules(*args, prefix), "\n");
    const std::string args_rule = prefix + "root";
    if (!alternatives.empty()) alternatives += " | ";
    if (style == ToolCallStyle::kHermes) {
      const std::string name = nlohmann::json(tool.name).dump();
      absl::StrAppend(&alternatives, grammar::GbnfLiteral(absl::StrCat("{\"name\": ", name, ", \"arguments\": ")), " ",
                      args_rule, " \"}\"");
    } else {
      absl::StrAppend(&alternatives, grammar::GbnfLiteral(absl::StrCat(tool.name, "\n```json\n")), " ", args_rule,
                      " \"\\n```\"");
    }
  }
  out.gbnf = absl::StrCat("root ::= ", alternatives, "\n", rules);
  if (style == ToolCallStyle::kHermes) {
    out.prefix = absl::StrCat(kHermesOpen, "\n");
    out.suffix = absl::StrCat("\n", kHermesClose);
  } else {
    out.prefix = absl::StrCat(kCallsBegin, kCallBegin, "function", kSep);
    out.suffix = absl::StrCat(kCallEnd, kCallsEnd);
  }
  return out;
}

}  // namespace r1
