#include "session/chat_prompt.h"

#include <algorithm>
#include <bitset>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "tokenize/tool_prompt.h"
#include "tokenize/utf8.h"

namespace r1::internal {
namespace {

// Messages whose text comes from a person or a tool rather than from the application.
bool IsLiteralRole(std::string_view role) { return role == "user" || role == "tool"; }

// Added tokens in literal messages are wrapped in two marks that the template passes through
// untouched; after rendering, the marks are removed and what they enclosed becomes a literal
// range of the encoder. The marks are code points of the supplementary private use planes
// (U+F0000 to U+10FFFD) that appear nowhere in the messages or the template.
constexpr char32_t kFirstMark = 0xF0000, kLastMark = 0x10FFFD;
constexpr size_t kMarkCount = kLastMark - kFirstMark + 1;
constexpr size_t kMarkBytes = 4;  // every code point of those planes takes four UTF-8 bytes

struct Marks {
  std::string open, close;
};

// Flags every mark code point that occurs in `text`.
void NoteMarksUsed(std::string_view text, std::bitset<kMarkCount>* used) {
  // Planes 15 and 16 start with the bytes F3 B0..BF or F4 80..8F.
  for (size_t i = 0; i + kMarkBytes <= text.size(); ++i) {
    const auto b = [&](size_t k) { return static_cast<uint8_t>(text[i + k]); };
    if (b(0) != 0xF3 && b(0) != 0xF4) continue;
    const char32_t cp = (static_cast<char32_t>(b(0) & 0x07) << 18) | (static_cast<char32_t>(b(1) & 0x3F) << 12) |
                        (static_cast<char32_t>(b(2) & 0x3F) << 6) | static_cast<char32_t>(b(3) & 0x3F);
    if (cp >= kFirstMark && cp <= kLastMark) used->set(cp - kFirstMark);
  }
}

StatusOr<Marks> ChooseMarks(absl::Span<const ChatMessage> turns, absl::Span<const ToolDefinition> tools,
                            std::string_view template_source) {
  auto used = std::make_unique<std::bitset<kMarkCount>>();
  NoteMarksUsed(template_source, used.get());
  for (const ChatMessage& m : turns) {
    NoteMarksUsed(m.content, used.get());
    for (const ToolCall& call : m.tool_calls) {
      NoteMarksUsed(call.name, used.get());
      NoteMarksUsed(call.arguments, used.get());
    }
  }
  for (const ToolDefinition& tool : tools) {
    NoteMarksUsed(tool.name, used.get());
    NoteMarksUsed(tool.description, used.get());
    NoteMarksUsed(tool.parameters, used.get());
  }
  Marks marks;
  for (size_t i = 0; i < kMarkCount && marks.close.empty(); ++i) {
    if (used->test(i)) continue;
    AppendUtf8(static_cast<char32_t>(kFirstMark + i), marks.open.empty() ? &marks.open : &marks.close);
  }
  if (marks.close.empty()) {
    return absl::InvalidArgumentError("the conversation uses every private-use character of planes 15 and 16");
  }
  return marks;
}

// `text` with each added token in it enclosed in the marks.
std::string EncloseAddedTokens(const Tokenizer& tokenizer, const std::string& text, const Marks& marks) {
  const auto found = tokenizer.FindAddedTokens(text);
  if (found.empty()) return text;
  std::string out;
  size_t copied = 0;
  for (const auto& [begin, end] : found) {
    out.append(text, copied, begin - copied);
    out += marks.open;
    out.append(text, begin, end - begin);
    out += marks.close;
    copied = end;
  }
  out.append(text, copied);
  return out;
}

// Removes the marks from `rendered`, returning the enclosed stretches as byte ranges of what
// remains. An opening mark whose close the template dropped keeps the rest literal.
std::pair<std::string, std::vector<std::pair<size_t, size_t>>> TakeOutMarks(std::string_view rendered,
                                                                            const Marks& marks) {
  std::string text;
  text.reserve(rendered.size());
  std::vector<std::pair<size_t, size_t>> ranges;
  std::optional<size_t> open_at;
  size_t pos = 0;
  while (pos < rendered.size()) {
    const size_t next_open = rendered.find(marks.open, pos), next_close = rendered.find(marks.close, pos);
    const size_t next = std::min(next_open, next_close);
    text.append(rendered.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos));
    if (next == std::string_view::npos) break;
    if (next == next_open) {
      if (!open_at) open_at = text.size();
    } else if (open_at) {
      if (text.size() > *open_at) ranges.emplace_back(*open_at, text.size());
      open_at.reset();
    }
    pos = next + kMarkBytes;
  }
  if (open_at && text.size() > *open_at) ranges.emplace_back(*open_at, text.size());
  return {std::move(text), std::move(ranges)};
}

std::string TokenTextOf(const Tokenizer& tokenizer, std::optional<int32_t> id) {
  if (!id) return {};
  auto text = tokenizer.TokenText(*id);
  return text.ok() ? std::string(*text) : std::string();
}

}  // namespace

StatusOr<ChatTemplateChoice> ChooseChatTemplate(const Tokenizer& tokenizer, const GenerateOptions& options) {
  ChatTemplateChoice choice;
  choice.jinja_source = options.chat_template_source;
  if (!choice.jinja_source.empty()) return choice;
  choice.builtin = options.chat_template ? options.chat_template : DetectChatTemplate(tokenizer.chat_template());
  if (!choice.builtin && tokenizer.chat_template().empty()) {
    return absl::NotFoundError("the model has no chat template (tokenizer.chat_template); choose one explicitly");
  }
  if (!choice.builtin) choice.jinja_source = tokenizer.chat_template();
  return choice;
}

ChatTemplate ToolCallFamily(const ChatTemplateChoice& choice) {
  return choice.builtin ? *choice.builtin : ToolSyntaxFamily(choice.jinja_source);
}

StatusOr<std::vector<int32_t>> EncodeChatPrompt(const Tokenizer& tokenizer, absl::Span<const ChatMessage> turns,
                                                const GenerateOptions& options) {
  R1_ASSIGN_OR_RETURN(const ChatTemplateChoice choice, ChooseChatTemplate(tokenizer, options));
  const std::optional<ChatTemplate> builtin = choice.builtin;
  const std::string_view jinja_source = choice.jinja_source;
  ChatFormatOptions format;
  format.add_generation_prompt = true;
  format.bos_token = TokenTextOf(tokenizer, tokenizer.bos_id());
  format.eos_token = TokenTextOf(tokenizer, tokenizer.eos_id());
  // The tools (or r1's section describing them) are application text, so their markers are
  // the template's: only user and tool messages are kept literal below.
  if (options.tool_choice != ToolChoice::kNone) format.tools = options.tools;

  R1_ASSIGN_OR_RETURN(Marks marks, ChooseMarks(turns, format.tools,
                                               builtin ? tokenizer.chat_template() : jinja_source));
  std::vector<ChatMessage> enclosed(turns.begin(), turns.end());
  for (ChatMessage& m : enclosed) {
    if (IsLiteralRole(m.role)) m.content = EncloseAddedTokens(tokenizer, m.content, marks);
  }
  R1_ASSIGN_OR_RETURN(std::string rendered, builtin ? FormatChat(*builtin, enclosed, format)
                                                    : FormatChatJinja(jinja_source, enclosed, format));
  auto [text, literal] = TakeOutMarks(rendered, marks);

  EncodeOptions encode;
  encode.parse_special = true;
  encode.literal_ranges = std::move(literal);
  // Templates that write the BOS text themselves must not get a second one.
  if (tokenizer.bos_id()) {
    R1_ASSIGN_OR_RETURN(std::string_view bos_text, tokenizer.TokenText(*tokenizer.bos_id()));
    if (!bos_text.empty() && text.rfind(std::string(bos_text), 0) == 0) encode.add_bos = false;
  }
  return tokenizer.Encode(text, encode);
}

}  // namespace r1::internal
