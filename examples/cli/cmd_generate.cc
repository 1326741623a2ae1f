// r1 generate MODEL (--tokens 1,2,3 | -p TEXT | -f FILE) -n N — greedy decoding. When the model
// has a tokenizer the generated text is printed first; the last line of stdout is always the
// generated ids separated by spaces.
#include <cstdio>
#include <string>

#include "cli_args.h"
#include "cli_input.h"
#include "cli_session.h"
#include "command_table.h"
#include "commands.h"
#include "r1/tokenizer.h"

namespace r1::cli {

int RunGenerate(int argc, char** argv) {
  const Args args(argc, argv, *FindCommand("generate"));
  if (!args.error().empty()) return Usage("generate", args.error());
  const auto source = FindPrompt(args);
  if (!source.ok()) return Usage("generate", source.status());
  if (args.positional().size() != 1) return Usage("generate", "expected one MODEL path");
  if (args.Value("--tokens").has_value() == source->given()) {
    return Usage("generate", "give the prompt either as --tokens IDS or as text (-p TEXT, -p -, -f FILE)");
  }
  std::optional<std::vector<int32_t>> prompt;
  if (const auto tokens = args.Value("--tokens")) {
    prompt = ParseTokenList(*tokens);
    if (!prompt || prompt->empty()) {
      return Usage("generate", "--tokens: expected token ids such as 1,2,3, got '" + *tokens + "'");
    }
  }
  int64_t n_new = 32;
  if (Status st = args.Int("-n", 0, int64_t{1} << 30, &n_new); !st.ok()) return Usage("generate", st);
  const auto session_options = ParseSessionOptions(args);
  if (!session_options.ok()) return Usage("generate", session_options.status());
  std::string text;
  if (source->given()) {
    auto read = ReadPrompt(*source);
    if (!read.ok()) return Fail("generate", read.status());
    text = *std::move(read);
  }

  auto session = OpenSession(args.positional()[0], ParseLoadOptions(args), *session_options);
  if (!session.ok()) return Fail("generate", session.status());
  Session& s = **session;
  const Tokenizer* tokenizer = s.model().tokenizer();
  if (!prompt) {
    if (tokenizer == nullptr) return Fail("generate", "the model has no tokenizer: use --tokens");
    auto ids = tokenizer->Encode(text, {.parse_special = true});
    if (!ids.ok()) return Fail("generate", ids.status());
    if (ids->empty()) return Fail("generate", "the prompt is empty");
    prompt = *std::move(ids);
  }
  if (static_cast<int64_t>(prompt->size()) + n_new > s.n_ctx() + 1) {
    return Fail("generate", "prompt and -n do not fit in the context (--ctx)");
  }
  std::vector<int32_t> generated;
  if (n_new > 0) {
    if (Status st = s.Evaluate(*prompt); !st.ok()) return Fail("generate", st);
    for (int64_t i = 0; i < n_new; ++i) {
      const int32_t next = Argmax(s.Logits());
      generated.push_back(next);
      if (i + 1 == n_new) break;
      if (Status st = s.Evaluate({&next, 1}); !st.ok()) return Fail("generate", st);
    }
  }
  if (tokenizer != nullptr) {
    auto decoded = tokenizer->Decode(generated, {.render_special = false, .strip_prefix_space = false,
                                                 .replace_invalid_utf8 = true});
    if (decoded.ok()) std::printf("%s\n", decoded->c_str());
  }
  std::string line;
  for (size_t i = 0; i < generated.size(); ++i) line += (i ? " " : "") + std::to_string(generated[i]);
  std::printf("%s\n", line.c_str());
  return 0;
}

}  // namespace r1::cli
