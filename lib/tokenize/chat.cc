// r1/chat.h: template names, detection from Jinja source, and dispatch.
#include "r1/chat.h"

#include "absl/strings/str_format.h"
#include "r1/tokenizer.h"
#include "tokenize/chat_render.h"
#include "tokenize/jinja_json.h"
#include "tokenize/jinja_render.h"
#include "tokenize/tool_prompt.h"

namespace r1 {
namespace {

constexpr struct {
  ChatTemplate tmpl;
  std::string_view name;
} kNames[] = {
    {ChatTemplate::kDeepSeekR1, "deepseek-r1"},
    {ChatTemplate::kDeepSeekR1Distill, "deepseek-r1-distill"},
    {ChatTemplate::kLlama3, "llama3"},
    {ChatTemplate::kChatMl, "chatml"},
    {ChatTemplate::kQwen2, "qwen2"},
};

bool Contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

std::string_view DefaultBos(ChatTemplate tmpl) {
  switch (tmpl) {
    case ChatTemplate::kDeepSeekR1:
    case ChatTemplate::kDeepSeekR1Distill:
      return "<｜begin▁of▁sentence｜>";
    case ChatTemplate::kLlama3:
      return "<|begin_of_text|>";
    default:
      return "";
  }
}

// Calls anywhere but on an assistant message would be dropped by every template.
Status CheckToolCallRoles(absl::Span<const ChatMessage> messages) {
  for (const ChatMessage& m : messages) {
    if (!m.tool_calls.empty() && m.role != "assistant") {
      return absl::InvalidArgumentError(absl::StrFormat(
          "a message with role '%s' has tool calls; only assistant messages can", m.role));
    }
  }
  return absl::OkStatus();
}

// A message as a Jinja dict, with OpenAI's field names.
StatusOr<internal::jinja::Value> MessageValue(const ChatMessage& m, bool object_arguments) {
  namespace jinja = internal::jinja;
  jinja::Dict message;
  message.Set("role", jinja::Value::String(m.role));
  // OpenAI sends content null with calls; the DeepSeek templates branch on `content is none`.
  const bool null_content = m.role == "assistant" && m.content.empty() && !m.tool_calls.empty();
  message.Set("content", null_content ? jinja::Value::None() : jinja::Value::String(m.content));
  if (!m.tool_calls.empty()) {
    jinja::List calls;
    for (const ToolCall& call : m.tool_calls) {
      jinja::Dict function;
      function.Set("name", jinja::Value::String(call.name));
      if (object_arguments) {
        R1_ASSIGN_OR_RETURN(jinja::Value args,
                            jinja::JsonToValue(call.arguments, "the arguments of the call to '" + call.name + "'"));
        function.Set("arguments", std::move(args));
      } else {
        function.Set("arguments", jinja::Value::String(call.arguments));
      }
      jinja::Dict entry;
      entry.Set("id", jinja::Value::String(call.id));
      entry.Set("type", jinja::Value::String("function"));
      entry.Set("function", jinja::Value::MakeDict(std::move(function)));
      calls.push_back(jinja::Value::MakeDict(std::move(entry)));
    }
    message.Set("tool_calls", jinja::Value::MakeList(std::move(calls)));
  }
  if (!m.tool_call_id.empty()) message.Set("tool_call_id", jinja::Value::String(m.tool_call_id));
  return jinja::Value::MakeDict(std::move(message));
}

}  // namespace

std::string_view ChatTemplateName(ChatTemplate t) {
  for (const auto& entry : kNames) {
    if (entry.tmpl == t) return entry.name;
  }
  return "unknown";
}

std::optional<ChatTemplate> ChatTemplateFromName(std::string_view name) {
  for (const auto& entry : kNames) {
    if (entry.name == name) return entry.tmpl;
  }
  return std::nullopt;
}

std::optional<ChatTemplate> DetectChatTemplate(std::string_view source) {
  if (Contains(source, "<｜User｜>") && Contains(source, "<｜Assistant｜>")) {
    // R1 accumulates the system prompts; the Distill templates overwrite them.
    if (Contains(source, "is_first_sp") || Contains(source, "ns.system_prompt + ")) {
      return ChatTemplate::kDeepSeekR1;
    }
    return ChatTemplate::kDeepSeekR1Distill;
  }
  if (Contains(source, "<|start_header_id|>") && Contains(source, "<|eot_id|>")) {
    return ChatTemplate::kLlama3;
  }
  if (Contains(source, "<|im_start|>")) {
    return Contains(source, "You are Qwen, created by Alibaba Cloud") ? ChatTemplate::kQwen2
                                                                      : ChatTemplate::kChatMl;
  }
  return std::nullopt;
}

StatusOr<std::string> FormatChat(ChatTemplate tmpl, absl::Span<const ChatMessage> messages,
                                 const ChatFormatOptions& options) {
  R1_RETURN_IF_ERROR(CheckToolCallRoles(messages));
  std::vector<ChatMessage> with_tools;
  if (!options.tools.empty()) {
    R1_ASSIGN_OR_RETURN(std::string section, internal::ToolSystemSection(options.tools, tmpl));
    with_tools = internal::WithToolSection(messages, section, tmpl);
    messages = with_tools;
  }
  const std::string_view bos =
      options.bos_token.empty() ? DefaultBos(tmpl) : std::string_view(options.bos_token);
  switch (tmpl) {
    case ChatTemplate::kDeepSeekR1:
      return internal::RenderDeepSeek(messages, /*join_system=*/true,
                                      options.add_generation_prompt, bos);
    case ChatTemplate::kDeepSeekR1Distill:
      return internal::RenderDeepSeek(messages, /*join_system=*/false,
                                      options.add_generation_prompt, bos);
    case ChatTemplate::kLlama3:
      return internal::RenderLlama3(messages, options.add_generation_prompt, bos);
    case ChatTemplate::kChatMl:
      return internal::RenderChatMl(messages, /*qwen_default_system=*/false,
                                    options.add_generation_prompt);
    case ChatTemplate::kQwen2:
      return internal::RenderChatMl(messages, /*qwen_default_system=*/true,
                                    options.add_generation_prompt);
  }
  return absl::InvalidArgumentError("unknown chat template");
}

StatusOr<std::string> FormatChatJinja(std::string_view jinja_source,
                                      absl::Span<const ChatMessage> messages,
                                      const ChatFormatOptions& options) {
  namespace jinja = internal::jinja;
  R1_RETURN_IF_ERROR(CheckToolCallRoles(messages));
  jinja::Dict variables;
  std::vector<ChatMessage> with_tools;
  if (!options.tools.empty()) {
    R1_ASSIGN_OR_RETURN(jinja::Value tools, internal::ToolsValue(options.tools));
    variables.Set("tools", std::move(tools));
    // A template without `tools` would leave the model unaware of them: describe them in
    // the system prompt instead.
    if (!internal::TemplateRendersTools(jinja_source)) {
      const ChatTemplate family = internal::ToolSyntaxFamily(jinja_source);
      R1_ASSIGN_OR_RETURN(std::string section, internal::ToolSystemSection(options.tools, family));
      with_tools = internal::WithToolSection(messages, section, family);
      messages = with_tools;
    }
  }
  const bool object_arguments = internal::TemplateWantsArgumentObjects(jinja_source);
  jinja::List list;
  for (const ChatMessage& m : messages) {
    R1_ASSIGN_OR_RETURN(jinja::Value message, MessageValue(m, object_arguments));
    list.push_back(std::move(message));
  }
  variables.Set("messages", jinja::Value::MakeList(std::move(list)));
  variables.Set("add_generation_prompt", jinja::Value::Bool(options.add_generation_prompt));
  variables.Set("bos_token", jinja::Value::String(options.bos_token));
  variables.Set("eos_token", jinja::Value::String(options.eos_token));
  return jinja::RenderSource(jinja_source, variables);
}

StatusOr<std::string> FormatChatJinja(const Tokenizer& tokenizer, std::string_view jinja_source,
                                      absl::Span<const ChatMessage> messages,
                                      bool add_generation_prompt) {
  ChatFormatOptions options;
  options.add_generation_prompt = add_generation_prompt;
  if (std::optional<int32_t> bos = tokenizer.bos_id()) {
    if (auto text = tokenizer.TokenText(*bos); text.ok()) options.bos_token = std::string(*text);
  }
  if (std::optional<int32_t> eos = tokenizer.eos_id()) {
    if (auto text = tokenizer.TokenText(*eos); text.ok()) options.eos_token = std::string(*text);
  }
  return FormatChatJinja(jinja_source, messages, options);
}

StatusOr<std::string> FormatChat(const Tokenizer& tokenizer,
                                 absl::Span<const ChatMessage> messages,
                                 bool add_generation_prompt,
                                 std::optional<ChatTemplate> override_template) {
  std::optional<ChatTemplate> tmpl =
      override_template ? override_template : DetectChatTemplate(tokenizer.chat_template());
  if (!tmpl && tokenizer.chat_template().empty()) {
    return absl::NotFoundError(
        "the model has no chat template (tokenizer.chat_template); choose one explicitly");
  }
  if (!tmpl) {
    // Not a built-in family: render the model's own template.
    return FormatChatJinja(tokenizer, tokenizer.chat_template(), messages, add_generation_prompt);
  }
  ChatFormatOptions options;
  options.add_generation_prompt = add_generation_prompt;
  if (std::optional<int32_t> bos = tokenizer.bos_id()) {
    if (auto text = tokenizer.TokenText(*bos); text.ok()) options.bos_token = std::string(*text);
  }
  return FormatChat(*tmpl, messages, options);
}

}  // namespace r1
