// r1/chat.h — turning a conversation into the prompt text a chat model was trained on.
//
// The built-in templates render byte for byte what the models' own Jinja chat templates
// (tokenizer.chat_template) render, for conversations of system/user/assistant messages:
//
//   std::vector<r1::ChatMessage> chat = {{"user", "Hello! Who are you?"}};
//   R1_ASSIGN_OR_RETURN(std::string prompt, r1::FormatChat(*tokenizer, chat));
//   // "<｜begin▁of▁sentence｜><｜User｜>Hello! Who are you?<｜Assistant｜><think>\n"
//   R1_ASSIGN_OR_RETURN(auto ids, tokenizer->Encode(prompt, {.add_bos = false,
//                                                            .parse_special = true}));
//
// The prompt already starts with BOS where the template puts one, so encode it without adding
// another, and with special-token parsing on. All functions are thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/types/span.h"
#include "r1/status.h"

namespace r1 {

class Tokenizer;

// A function the model called, as OpenAI's API and the chat templates name its parts.
struct ToolCall {
  std::string id;         // the caller's handle for matching the result ("call_…")
  std::string name;       // the function
  std::string arguments;  // JSON text of the arguments object
};

// A function the model may call: its name, what it does, and a JSON Schema of its arguments.
struct ToolDefinition {
  std::string name;
  std::string description;
  std::string parameters = "{}";  // JSON Schema text
};

struct ChatMessage {
  std::string role;     // "system", "user", "assistant" (and "tool" where the template has it)
  std::string content;
  std::vector<ToolCall> tool_calls;  // assistant: the calls it made
  std::string tool_call_id;          // tool: the call this is the result of
};

enum class ChatTemplate {
  // DeepSeek-R1 (671B): BOS, all system prompts joined by "\n\n", then the turns as
  // <｜User｜>… and <｜Assistant｜>…<｜end▁of▁sentence｜>; earlier assistant turns lose everything
  // up to their last </think>; the generation prompt is "<｜Assistant｜><think>\n".
  kDeepSeekR1,
  // DeepSeek-R1-Distill-Qwen/-Llama: as kDeepSeekR1 but only the last system prompt is kept.
  kDeepSeekR1Distill,
  // Llama 3 Instruct: <|start_header_id|>role<|end_header_id|>\n\n + trimmed content + <|eot_id|>.
  kLlama3,
  // ChatML: <|im_start|>role\ncontent<|im_end|>\n.
  kChatMl,
  // Qwen2/2.5 ChatML: as kChatMl, with Qwen's default system prompt when the conversation
  // does not start with one.
  kQwen2,
};

// "deepseek-r1", "deepseek-r1-distill", "llama3", "chatml", "qwen2".
std::string_view ChatTemplateName(ChatTemplate t);
std::optional<ChatTemplate> ChatTemplateFromName(std::string_view name);

// The built-in template a model's tokenizer.chat_template (Jinja source) corresponds to, from
// the markers it uses; nullopt when it is none of them.
std::optional<ChatTemplate> DetectChatTemplate(std::string_view jinja_source);

struct ChatFormatOptions {
  // End with the start of an assistant turn, for the model to continue.
  bool add_generation_prompt = true;
  // The text of the BOS token, for templates that start with it; empty means the family's own
  // (<｜begin▁of▁sentence｜> for DeepSeek, <|begin_of_text|> for Llama 3).
  std::string bos_token;
  // The text of the EOS token, for Jinja templates that use `eos_token`.
  std::string eos_token;
  // Functions the model may call. A Jinja template that uses a `tools` variable gets them as
  // that list ({"type": "function", "function": {"name", "description", "parameters"}}, the
  // schema as an object); otherwise, and for the built-in templates, r1 joins a section
  // describing them and the family's call syntax to the system prompt (Qwen2 gets the text its
  // own template writes). InvalidArgument for a tool without a name or whose parameters are
  // not a JSON object.
  std::vector<ToolDefinition> tools;
};

// Tool calls and results. Assistant messages carry their calls in `tool_calls`; results are
// messages with role "tool". Only assistant messages may have calls (InvalidArgument else).
//  - kDeepSeekR1 and kDeepSeekR1Distill render them byte for byte as the official templates
//    do, quirks included (only the conversation's first call opens with <｜Assistant｜> and
//    the content). One deviation: the Distill template drops the calls of an assistant message
//    whose content is not empty; r1 renders them, the content placed as R1's template does.
//  - kQwen2 renders them as Qwen2.5's template: <tool_call>\n{"name": …, "arguments": …}\n
//    </tool_call> in the assistant turn (arguments must be JSON text), results as
//    <tool_response> in a user turn.
//  - kChatMl and kLlama3 have no call syntax: InvalidArgument for a message with calls.
// For Jinja templates each message gets `tool_calls` (when it has any) as a list of {"id",
// "type": "function", "function": {"name", "arguments"}}, arguments as JSON text (as the R1
// templates concatenate it; as an object for templates that apply `tojson` to it), and
// `tool_call_id` (when set). An assistant message with calls and empty content gets content
// none, as OpenAI's API sends it (the DeepSeek templates test `content is none`).

// Renders `messages` with `tmpl`. InvalidArgument for a role the template does not render.
StatusOr<std::string> FormatChat(ChatTemplate tmpl,
                                        absl::Span<const ChatMessage> messages,
                                        const ChatFormatOptions& options = {});

// Renders `messages` with a Jinja chat template, as transformers' apply_chat_template does
// (trim_blocks and lstrip_blocks on), given `messages` (role/content dicts, with the tool
// fields above), `add_generation_prompt`, `bos_token`, `eos_token` and, when options.tools is
// not empty, `tools`. r1 implements the subset of Jinja2
// that Hugging Face chat templates use (doc/tokenizer.md, "Jinja chat templates"), bounded
// in time, memory and output (16 MiB). InvalidArgument for source outside that subset or a
// template error (raise_exception's message as it is); ResourceExhausted when a bound is
// reached.
StatusOr<std::string> FormatChatJinja(std::string_view jinja_source,
                                      absl::Span<const ChatMessage> messages,
                                      const ChatFormatOptions& options = {});

// FormatChatJinja with the tokenizer's BOS and EOS texts.
StatusOr<std::string> FormatChatJinja(const Tokenizer& tokenizer, std::string_view jinja_source,
                                      absl::Span<const ChatMessage> messages,
                                      bool add_generation_prompt = true);

// Renders with the template detected from the tokenizer's metadata (or `override_template`),
// using the tokenizer's BOS text. A metadata template that is none of the built-in ones is
// rendered as Jinja (FormatChatJinja, with the BOS and EOS texts). NotFound when the metadata
// has no template and none is given.
StatusOr<std::string> FormatChat(
    const Tokenizer& tokenizer, absl::Span<const ChatMessage> messages,
    bool add_generation_prompt = true,
    std::optional<ChatTemplate> override_template = std::nullopt);

}  // namespace r1
