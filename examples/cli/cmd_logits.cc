// r1 logits MODEL --tokens 1,2,3 --out FILE — every position's logits from one batched pass,
// written as raw little-endian float32 [n_tokens][n_vocab].
#include <cstdio>

#include "cli_args.h"
#include "cli_session.h"
#include "commands.h"

namespace r1::cli {

int RunLogits(int argc, char** argv) {
  std::vector<std::string> known = {"--tokens", "--out"};
  known.insert(known.end(), kSessionFlags.begin(), kSessionFlags.end());
  const Args args(argc, argv, known);
  if (!args.error().empty()) return Fail("logits", args.error());
  if (auto flag = args.Unknown(known)) return Fail("logits", "unknown option " + *flag);
  if (args.positional().size() != 1 || !args.Value("--tokens") || !args.Value("--out")) {
    return Fail("logits", "usage: r1 logits MODEL --tokens 1,2,3 --out FILE");
  }
  auto tokens = ParseTokenList(*args.Value("--tokens"));
  if (!tokens || tokens->empty()) return Fail("logits", "--tokens needs a list of ids such as 1,2,3");

  auto session = OpenSession(args);
  if (!session.ok()) return Fail("logits", session.status());
  // The whole prompt is one batch, as the format promises.
  if (Status s = (*session)->Evaluate(*tokens, /*all_logits=*/true); !s.ok()) return Fail("logits", s);

  const std::string path = *args.Value("--out");
  FILE* out = std::fopen(path.c_str(), "wb");
  if (out == nullptr) return Fail("logits", "cannot write " + path);
  bool ok = true;
  for (int64_t row = 0; row < (*session)->n_logit_rows(); ++row) {
    const auto logits = (*session)->Logits(row);
    ok = ok && std::fwrite(logits.data(), sizeof(float), logits.size(), out) == logits.size();
  }
  ok = (std::fclose(out) == 0) && ok;
  if (!ok) return Fail("logits", "error writing " + path);
  return 0;
}

}  // namespace r1::cli
