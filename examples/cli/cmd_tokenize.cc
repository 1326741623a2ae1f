// r1 tokenize / detokenize / template — the tokenizer and chat formatting from the shell.
//
//   r1 tokenize MODEL (TEXT | --file PATH) [--no-bos] [--special] [--pieces]
//       The last line of stdout is the ids, separated by spaces. The text is used byte for byte
//       (--file - reads stdin); BOS is added when the model's metadata says so.
//   r1 detokenize MODEL 1,2,3
//       Prints the decoded text exactly (no newline added).
//   r1 template MODEL --messages MESSAGES.json [--no-generation-prompt] [--template NAME]
//       Prints exactly the prompt the chat template renders. MESSAGES.json holds
//       [{"role": "system"|"user"|"assistant", "content": "..."}]; "-" reads stdin.
#include <cstdio>
#include <exception>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli_args.h"
#include "cli_input.h"
#include "cli_session.h"
#include "command_table.h"
#include "commands.h"
#include "r1/chat.h"
#include "r1/tokenizer.h"

namespace r1::cli {
namespace {

void WriteAll(std::string_view bytes) {
  std::fwrite(bytes.data(), 1, bytes.size(), stdout);
}

// A token piece made printable: control bytes and bytes of unfinished characters as \xNN.
std::string Printable(std::string_view piece) {
  std::string out;
  for (size_t i = 0; i < piece.size();) {
    const auto c = static_cast<unsigned char>(piece[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
    } else {
      // Keep a complete multi-byte character; escape anything else.
      const size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
      bool whole = len > 0 && i + len <= piece.size();
      for (size_t k = 1; whole && k < len; ++k) {
        whole = (static_cast<unsigned char>(piece[i + k]) & 0xC0) == 0x80;
      }
      if (whole) {
        out.append(piece.substr(i, len));
        i += len;
        continue;
      }
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02X", c);
      out += hex;
    }
    ++i;
  }
  return out;
}

// Messages from JSON; the library never throws, so exceptions from the JSON library stop here.
std::optional<std::vector<ChatMessage>> ParseMessages(const std::string& json, std::string* error) {
  try {
    const nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      *error = "messages are not valid JSON";
      return std::nullopt;
    }
    if (!j.is_array()) {
      *error = "messages must be a JSON array of {\"role\", \"content\"} objects";
      return std::nullopt;
    }
    std::vector<ChatMessage> messages;
    for (size_t i = 0; i < j.size(); ++i) {
      const auto& m = j[i];
      if (!m.is_object() || !m.contains("role") || !m["role"].is_string() ||
          !m.contains("content") || !m["content"].is_string()) {
        *error = "message " + std::to_string(i) + " needs string \"role\" and \"content\"";
        return std::nullopt;
      }
      messages.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
    }
    return messages;
  } catch (const std::exception& e) {
    *error = std::string("cannot read messages: ") + e.what();
    return std::nullopt;
  }
}

}  // namespace

int RunTokenize(int argc, char** argv) {
  const Args args(argc, argv, *FindCommand("tokenize"));
  if (!args.error().empty()) return Usage("tokenize", args.error());
  const std::optional<std::string> file = args.Value("--file");
  if (args.positional().size() != (file ? 1u : 2u)) {
    return Usage("tokenize", file ? "expected one MODEL path with --file" : "expected MODEL and TEXT (or --file PATH)");
  }

  std::string text;
  if (file) {
    std::optional<std::string> data = ReadAll(*file);
    if (!data) return Fail("tokenize", "cannot read " + *file);
    text = std::move(*data);
  } else {
    text = args.positional()[1];
  }
  auto tok = Tokenizer::Load(args.positional()[0]);
  if (!tok.ok()) return Fail("tokenize", tok.status());
  EncodeOptions options;
  if (args.Has("--no-bos")) options.add_bos = false;
  options.parse_special = args.Has("--special");
  auto ids = (*tok)->Encode(text, options);
  if (!ids.ok()) return Fail("tokenize", ids.status());

  std::string out;
  if (args.Has("--pieces")) {
    for (int32_t id : *ids) {
      auto piece = (*tok)->TokenPiece(id);
      out += std::to_string(id) + "\t" + Printable(piece.ok() ? *piece : "") + "\n";
    }
  }
  for (size_t i = 0; i < ids->size(); ++i) {
    if (i > 0) out += ' ';
    out += std::to_string((*ids)[i]);
  }
  out += '\n';
  WriteAll(out);
  return 0;
}

int RunDetokenize(int argc, char** argv) {
  const Args args(argc, argv, *FindCommand("detokenize"));
  if (!args.error().empty()) return Usage("detokenize", args.error());
  if (args.positional().size() < 2) return Usage("detokenize", "expected MODEL and token ids");
  std::string list;
  for (size_t i = 1; i < args.positional().size(); ++i) list += args.positional()[i] + " ";
  const std::optional<std::vector<int32_t>> ids = ParseTokenList(list);
  if (!ids) return Usage("detokenize", "expected token ids (whole numbers ≥ 0) separated by commas or spaces, got '" + list.substr(0, list.size() - 1) + "'");
  auto tok = Tokenizer::Load(args.positional()[0]);
  if (!tok.ok()) return Fail("detokenize", tok.status());
  auto text = (*tok)->Decode(*ids);
  if (!text.ok()) return Fail("detokenize", text.status());
  WriteAll(*text);
  return 0;
}

int RunTemplate(int argc, char** argv) {
  const Args args(argc, argv, *FindCommand("template"));
  if (!args.error().empty()) return Usage("template", args.error());
  const std::optional<std::string> messages_path = args.Value("--messages");
  if (args.positional().size() != 1 || !messages_path) return Usage("template", "expected MODEL --messages FILE");

  std::optional<ChatTemplate> override_template;
  if (const std::optional<std::string> name = args.Value("--template")) {
    override_template = ChatTemplateFromName(*name);
    if (!override_template) {
      return Usage("template", "--template: expected one of " + ChatTemplateNames() + ", got '" + *name + "'");
    }
  }
  const std::optional<std::string> json = ReadAll(*messages_path);
  if (!json) return Fail("template", "cannot read " + *messages_path);
  std::string error;
  const std::optional<std::vector<ChatMessage>> messages = ParseMessages(*json, &error);
  if (!messages) return Fail("template", error);

  auto tok = Tokenizer::Load(args.positional()[0]);
  if (!tok.ok()) return Fail("template", tok.status());
  const bool gen = !args.Has("--no-generation-prompt");
  StatusOr<std::string> prompt = absl::UnknownError("");
  if (const std::optional<std::string> path = args.Value("--template-file")) {
    if (override_template) return Usage("template", "--template and --template-file exclude each other");
    const std::optional<std::string> source = ReadAll(*path);
    if (!source) return Fail("template", "cannot read " + *path);
    prompt = FormatChatJinja(**tok, *source, *messages, gen);
  } else {
    prompt = FormatChat(**tok, *messages, gen, override_template);
  }
  if (!prompt.ok()) return Fail("template", prompt.status());
  WriteAll(*prompt);
  return 0;
}

}  // namespace r1::cli
