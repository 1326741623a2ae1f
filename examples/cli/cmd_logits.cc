// r1 logits MODEL --tokens 1,2,3 --out FILE — every position's logits from one batched pass,
// written as raw little-endian float32 [n_tokens][n_vocab].
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "cli_args.h"
#include "cli_input.h"
#include "cli_session.h"
#include "command_table.h"
#include "commands.h"

namespace r1::cli {

int RunLogits(int argc, char** argv) {
  const Args args(argc, argv, *FindCommand("logits"));
  if (!args.error().empty()) return Usage("logits", args.error());
  if (args.positional().size() != 1 || !args.Value("--tokens") || !args.Value("--out")) {
    return Usage("logits", "expected MODEL --tokens IDS --out FILE");
  }
  auto tokens = ParseTokenList(*args.Value("--tokens"));
  if (!tokens || tokens->empty()) {
    return Usage("logits", "--tokens: expected token ids such as 1,2,3, got '" + *args.Value("--tokens") + "'");
  }
  const auto session_options = ParseSessionOptions(args);
  if (!session_options.ok()) return Usage("logits", session_options.status());

  // A path that cannot be written fails before any computing.
  const std::string path = *args.Value("--out");
  if (Status st = CheckWritable(path); !st.ok()) return Fail("logits", st);
  auto session = OpenSession(args.positional()[0], ParseLoadOptions(args), *session_options);
  if (!session.ok()) return Fail("logits", session.status());
  // The whole prompt is one batch, as the format promises.
  if (Status s = (*session)->Evaluate(*tokens, /*all_logits=*/true); !s.ok()) return Fail("logits", s);

  FILE* out = std::fopen(path.c_str(), "wb");
  if (out == nullptr) return Fail("logits", "cannot write '" + path + "': " + std::strerror(errno));
  bool ok = true;
  for (int64_t row = 0; row < (*session)->n_logit_rows(); ++row) {
    const auto logits = (*session)->Logits(row);
    ok = ok && std::fwrite(logits.data(), sizeof(float), logits.size(), out) == logits.size();
  }
  ok = (std::fclose(out) == 0) && ok;
  if (!ok) {
    std::remove(path.c_str());
    return Fail("logits", "error writing '" + path + "'");
  }
  return 0;
}

}  // namespace r1::cli
