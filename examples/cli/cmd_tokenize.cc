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
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli_args.h"
#include "commands.h"
#include "r1/chat.h"
#include "r1/tokenizer.h"

namespace r1::cli {
namespace {

// Reads a whole file (or stdin for "-") in binary.
std::optional<std::string> ReadAll(const std::string& path) {
  if (path == "-") {
    std::string data;
    char buffer[1 << 16];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof(buffer), stdin)) > 0) data.append(buffer, n);
    if (std::ferror(stdin)) return std::nullopt;
    return data;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

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

// Like Args, but only the listed options are options: any other argument (and everything
// after "--") is positional, so a text may start with "-".
struct Parsed {
  std::vector<std::string> positional;
  std::vector<std::string> switches;
  std::vector<std::pair<std::string, std::string>> values;
  std::string error;

  bool Has(std::string_view s) const {
    for (const auto& x : switches) {
      if (x == s) return true;
    }
    return false;
  }
  std::optional<std::string> Value(std::string_view key) const {
    for (const auto& [k, v] : values) {
      if (k == key) return v;
    }
    return std::nullopt;
  }
};

Parsed ParseArgs(int argc, char** argv, const std::vector<std::string>& switches,
                 const std::vector<std::string>& with_value) {
  Parsed p;
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (options_done || arg.size() < 2 || arg[0] != '-') {
      p.positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    std::optional<std::string> value;
    if (const size_t eq = arg.find('='); eq != std::string::npos && arg.rfind("--", 0) == 0) {
      value = arg.substr(eq + 1);
      arg.resize(eq);
    }
    bool known = false;
    for (const auto& s : switches) {
      if (arg == s && !value) {
        p.switches.push_back(arg);
        known = true;
      }
    }
    for (const auto& w : with_value) {
      if (arg != w) continue;
      if (!value) {
        if (i + 1 >= argc) {
          p.error = arg + " needs a value";
          return p;
        }
        value = argv[++i];
      }
      p.values.emplace_back(arg, *value);
      known = true;
    }
    if (!known) {
      // A negative number or other dash-led text is a positional argument.
      if (arg.size() > 1 && arg[1] >= '0' && arg[1] <= '9') {
        p.positional.push_back(argv[i]);
        continue;
      }
      p.error = "unknown option " + arg;
      return p;
    }
  }
  return p;
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
  const Parsed args = ParseArgs(argc, argv, {"--no-bos", "--special", "--pieces"}, {"--file"});
  const char* usage =
      "usage: r1 tokenize MODEL (TEXT | --file PATH) [--no-bos] [--special] [--pieces]";
  if (!args.error.empty()) return Fail("tokenize", args.error + "\n" + usage);
  const std::optional<std::string> file = args.Value("--file");
  if (args.positional.size() != (file ? 1u : 2u)) return Fail("tokenize", usage);

  std::string text;
  if (file) {
    std::optional<std::string> data = ReadAll(*file);
    if (!data) return Fail("tokenize", "cannot read " + *file);
    text = std::move(*data);
  } else {
    text = args.positional[1];
  }
  auto tok = Tokenizer::Load(args.positional[0]);
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
  const Parsed args = ParseArgs(argc, argv, {}, {});
  const char* usage = "usage: r1 detokenize MODEL 1,2,3";
  if (!args.error.empty()) return Fail("detokenize", args.error + "\n" + usage);
  if (args.positional.size() < 2) return Fail("detokenize", usage);
  std::string list;
  for (size_t i = 1; i < args.positional.size(); ++i) list += args.positional[i] + " ";
  const std::optional<std::vector<int32_t>> ids = ParseTokenList(list);
  if (!ids) return Fail("detokenize", "token ids must be integers separated by commas or spaces");
  auto tok = Tokenizer::Load(args.positional[0]);
  if (!tok.ok()) return Fail("detokenize", tok.status());
  auto text = (*tok)->Decode(*ids);
  if (!text.ok()) return Fail("detokenize", text.status());
  WriteAll(*text);
  return 0;
}

int RunTemplate(int argc, char** argv) {
  const Parsed args =
      ParseArgs(argc, argv, {"--no-generation-prompt"}, {"--messages", "--template"});
  const char* usage =
      "usage: r1 template MODEL --messages MESSAGES.json [--no-generation-prompt] "
      "[--template deepseek-r1|deepseek-r1-distill|llama3|chatml|qwen2]";
  if (!args.error.empty()) return Fail("template", args.error + "\n" + usage);
  const std::optional<std::string> messages_path = args.Value("--messages");
  if (args.positional.size() != 1 || !messages_path) return Fail("template", usage);

  std::optional<ChatTemplate> override_template;
  if (const std::optional<std::string> name = args.Value("--template")) {
    override_template = ChatTemplateFromName(*name);
    if (!override_template) return Fail("template", "unknown template '" + *name + "'\n" + usage);
  }
  const std::optional<std::string> json = ReadAll(*messages_path);
  if (!json) return Fail("template", "cannot read " + *messages_path);
  std::string error;
  const std::optional<std::vector<ChatMessage>> messages = ParseMessages(*json, &error);
  if (!messages) return Fail("template", error);

  auto tok = Tokenizer::Load(args.positional[0]);
  if (!tok.ok()) return Fail("template", tok.status());
  auto prompt =
      FormatChat(**tok, *messages, !args.Has("--no-generation-prompt"), override_template);
  if (!prompt.ok()) return Fail("template", prompt.status());
  WriteAll(*prompt);
  return 0;
}

}  // namespace r1::cli
