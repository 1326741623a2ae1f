#include "tokenize/chat_render.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tokenize/jinja_json.h"
#include "tokenize/utf8.h"

namespace r1::internal {
namespace {

Status UnsupportedRole(std::string_view tmpl, std::string_view role) {
  return absl::InvalidArgumentError(absl::StrFormat(
      "the %s chat template has no place for a message with role '%s'", std::string(tmpl),
      std::string(role)));
}

// The text after the last occurrence of `separator` (Python's s.split(sep)[-1]).
std::string_view AfterLast(std::string_view text, std::string_view separator) {
  const size_t at = text.rfind(separator);
  return at == std::string_view::npos ? text : text.substr(at + separator.size());
}

// Python's str.isspace() for one character: the Unicode White_Space characters plus the
// information separators U+001C..U+001F.
bool IsPythonSpace(int32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

Status CannotRenderToolCalls(std::string_view tmpl) {
  return absl::InvalidArgumentError(
      absl::StrFormat("the chat template %s cannot render tool calls", std::string(tmpl)));
}

// One call as the DeepSeek templates write it, from its <｜tool▁call▁begin｜> on.
void AppendDeepSeekCall(const ToolCall& call, std::string* out) {
  absl::StrAppend(out, "<｜tool▁call▁begin｜>function<｜tool▁sep｜>", call.name, "\n```json\n", call.arguments,
                  "\n```<｜tool▁call▁end｜>");
}

// An assistant message with tool calls. Both templates keep an `is_first` flag that is never
// reset, so only the first call of the whole conversation opens with <｜Assistant｜> (and the
// message's content); every later call, in any message, is written as a continuation.
// R1 closes each message's calls with <｜tool▁calls▁end｜><｜end▁of▁sentence｜>; the Distill
// template renders only messages whose content is none (empty here), and writes that closing
// after each call but the conversation's first. The Distill template would drop the calls of a
// message with content; they are rendered instead, the content placed as R1 places it.
void AppendDeepSeekCalls(const ChatMessage& m, bool r1_layout, bool* is_first, std::string* out) {
  for (const ToolCall& call : m.tool_calls) {
    if (!*is_first) {
      absl::StrAppend(out, "<｜Assistant｜>", m.content, "<｜tool▁calls▁begin｜>");
      AppendDeepSeekCall(call, out);
      *is_first = true;
    } else {
      *out += "\n";
      AppendDeepSeekCall(call, out);
      if (!r1_layout) *out += "<｜tool▁calls▁end｜><｜end▁of▁sentence｜>";
    }
  }
  if (r1_layout) *out += "<｜tool▁calls▁end｜><｜end▁of▁sentence｜>";
}

// `arguments | tojson` of Qwen2.5's template, given the arguments as an object.
StatusOr<std::string> QwenArguments(const ToolCall& call) {
  const std::string what = absl::StrCat("the arguments of the call to '", call.name, "'");
  R1_ASSIGN_OR_RETURN(jinja::Value args, jinja::JsonToValue(call.arguments, what));
  return jinja::ToJson(args, -1, /*ensure_ascii=*/false);
}

}  // namespace

std::string_view PythonStrip(std::string_view text) {
  // Leading.
  size_t begin = 0;
  while (begin < text.size()) {
    size_t next = begin;
    if (!IsPythonSpace(DecodeUtf8(text, &next))) break;
    begin = next;
  }
  // Trailing: step back to each character's first byte.
  size_t end = text.size();
  while (end > begin) {
    size_t start = end - 1;
    while (start > begin && (static_cast<uint8_t>(text[start]) & 0xC0) == 0x80 && end - start < 4) {
      --start;
    }
    size_t next = start;
    const int32_t cp = DecodeUtf8(text, &next);
    if (next != end || !IsPythonSpace(cp)) break;
    end = start;
  }
  return text.substr(begin, end - begin);
}

StatusOr<std::string> RenderDeepSeek(absl::Span<const ChatMessage> messages, bool join_system,
                                     bool add_generation_prompt, std::string_view bos_token) {
  const std::string_view name = join_system ? "DeepSeek-R1" : "DeepSeek-R1-Distill";
  std::string system_prompt;
  bool first_system = true;
  for (const ChatMessage& m : messages) {
    if (m.role != "system") continue;
    if (!join_system) {
      system_prompt = m.content;
    } else {
      if (!first_system) system_prompt += "\n\n";
      system_prompt += m.content;
      first_system = false;
    }
  }
  std::string out(bos_token);
  out += system_prompt;
  bool is_tool = false;
  bool is_output_first = true;  // never set back in the original either
  bool is_first_call = false;   // nor this one
  for (const ChatMessage& m : messages) {
    if (m.role == "system") continue;
    if (m.role == "assistant" && !m.tool_calls.empty()) {
      is_tool = false;
      AppendDeepSeekCalls(m, /*r1_layout=*/join_system || !m.content.empty(), &is_first_call, &out);
    } else if (m.role == "user") {
      is_tool = false;
      out += "<｜User｜>";
      out += m.content;
    } else if (m.role == "assistant") {
      if (is_tool) {
        out += "<｜tool▁outputs▁end｜>";
        out += m.content;
        out += "<｜end▁of▁sentence｜>";
        is_tool = false;
      } else {
        // Earlier turns keep only the answer after the reasoning.
        out += "<｜Assistant｜>";
        out += AfterLast(m.content, "</think>");
        out += "<｜end▁of▁sentence｜>";
      }
    } else if (m.role == "tool") {
      is_tool = true;
      if (is_output_first) {
        out += "<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>";
        is_output_first = false;
      } else {
        out += join_system ? "<｜tool▁output▁begin｜>" : "\n<｜tool▁output▁begin｜>";
      }
      out += m.content;
      out += "<｜tool▁output▁end｜>";
    } else {
      return UnsupportedRole(name, m.role);
    }
  }
  if (is_tool) out += "<｜tool▁outputs▁end｜>";
  if (add_generation_prompt && !is_tool) out += "<｜Assistant｜><think>\n";
  return out;
}

StatusOr<std::string> RenderLlama3(absl::Span<const ChatMessage> messages,
                                   bool add_generation_prompt, std::string_view bos_token) {
  std::string out;
  for (size_t i = 0; i < messages.size(); ++i) {
    if (messages[i].role.empty()) return UnsupportedRole("Llama 3", "");
    if (!messages[i].tool_calls.empty()) return CannotRenderToolCalls("llama3");
    if (i == 0) out += bos_token;
    out += "<|start_header_id|>";
    out += messages[i].role;
    out += "<|end_header_id|>\n\n";
    out += PythonStrip(messages[i].content);
    out += "<|eot_id|>";
  }
  if (add_generation_prompt) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return out;
}

StatusOr<std::string> RenderChatMl(absl::Span<const ChatMessage> messages,
                                   bool qwen_default_system, bool add_generation_prompt) {
  std::string out;
  auto turn = [&out](std::string_view role, std::string_view content) {
    out += "<|im_start|>";
    out += role;
    out += "\n";
    out += content;
    out += "<|im_end|>\n";
  };
  if (!qwen_default_system) {
    for (const ChatMessage& m : messages) {
      if (m.role.empty()) return UnsupportedRole("ChatML", "");
      if (!m.tool_calls.empty()) return CannotRenderToolCalls("chatml");
      turn(m.role, m.content);
    }
  } else {
    const bool leading_system = !messages.empty() && messages[0].role == "system";
    turn("system", leading_system ? std::string_view(messages[0].content) : kQwenDefaultSystem);
    for (size_t i = 0; i < messages.size(); ++i) {
      const ChatMessage& m = messages[i];
      if (m.role == "assistant" && !m.tool_calls.empty()) {
        out += "<|im_start|>assistant";
        if (!m.content.empty()) absl::StrAppend(&out, "\n", m.content);
        for (const ToolCall& call : m.tool_calls) {
          R1_ASSIGN_OR_RETURN(std::string args, QwenArguments(call));
          absl::StrAppend(&out, "\n<tool_call>\n{\"name\": \"", call.name, "\", \"arguments\": ", args,
                          "}\n</tool_call>");
        }
        out += "<|im_end|>\n";
      } else if (m.role == "user" || m.role == "assistant" || (m.role == "system" && i > 0)) {
        turn(m.role, m.content);
      } else if (m.role == "tool") {
        // Consecutive tool results share one user turn.
        if (i == 0 || messages[i - 1].role != "tool") out += "<|im_start|>user";
        out += "\n<tool_response>\n";
        out += m.content;
        out += "\n</tool_response>";
        if (i + 1 == messages.size() || messages[i + 1].role != "tool") out += "<|im_end|>\n";
      } else if (m.role != "system") {
        return UnsupportedRole("Qwen2", m.role);
      }
    }
  }
  if (add_generation_prompt) out += "<|im_start|>assistant\n";
  return out;
}

}  // namespace r1::internal
