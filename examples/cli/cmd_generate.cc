// r1 generate MODEL (--tokens 1,2,3 | -p TEXT) -n N — greedy decoding. When the model has a
// tokenizer the generated text is printed first; the last line of stdout is always the
// generated ids separated by spaces.
#include <cstdio>
#include <string>

#include "cli_args.h"
#include "cli_session.h"
#include "commands.h"
#include "r1/tokenizer.h"

namespace r1::cli {

int RunGenerate(int argc, char** argv) {
  std::vector<std::string> known = {"--tokens", "-p", "--prompt", "-n"};
  known.insert(known.end(), kSessionFlags.begin(), kSessionFlags.end());
  const Args args(argc, argv, known);
  if (!args.error().empty()) return Fail("generate", args.error());
  if (auto flag = args.Unknown(known)) return Fail("generate", "unknown option " + *flag);
  auto text = args.Value("-p") ? args.Value("-p") : args.Value("--prompt");
  if (args.positional().size() != 1 || (!args.Value("--tokens") == !text)) {
    return Fail("generate", "usage: r1 generate MODEL (--tokens 1,2,3 | -p TEXT) [-n N]");
  }
  std::optional<std::vector<int32_t>> prompt;
  if (!text) {
    prompt = ParseTokenList(*args.Value("--tokens"));
    if (!prompt || prompt->empty()) return Fail("generate", "--tokens needs a list of ids such as 1,2,3");
  }
  int64_t n_new = 32;
  if (auto v = args.Value("-n")) {
    auto n = ParseInt(*v);
    if (!n || *n < 0) return Fail("generate", "-n needs a non-negative count");
    n_new = *n;
  }

  auto session = OpenSession(args);
  if (!session.ok()) return Fail("generate", session.status());
  Session& s = **session;
  const Tokenizer* tokenizer = s.model().tokenizer();
  if (text) {
    if (tokenizer == nullptr) return Fail("generate", "the model has no tokenizer: use --tokens");
    auto ids = tokenizer->Encode(*text, {.parse_special = true});
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
