// r1 run MODEL -p "…" — streams an answer: reasoning dimmed on a terminal (or hidden), the
// answer on stdout, then a one-line summary on stderr.
#include <cstdio>
#include <string>

#include "cli_args.h"
#include "cli_session.h"
#include "commands.h"
#include "r1/tokenizer.h"

namespace r1::cli {

int RunRun(int argc, char** argv) {
  std::vector<std::string> with_value = {"-p", "--prompt", "-n", "--seed", "--temp", "--top-k", "--top-p", "--min-p",
                                         "--think-budget", "--system"};
  with_value.insert(with_value.end(), kSessionFlags.begin(), kSessionFlags.end());
  std::vector<std::string> known = with_value;
  known.insert(known.end(), {"--hide-thinking", "--no-chat"});
  const Args args(argc, argv, with_value);
  if (!args.error().empty()) return Fail("run", args.error());
  if (auto flag = args.Unknown(known)) return Fail("run", "unknown option " + *flag);
  auto prompt = args.Value("-p");
  if (!prompt) prompt = args.Value("--prompt");
  if (args.positional().size() != 1 || !prompt) {
    return Fail("run", "usage: r1 run MODEL -p PROMPT [-n MAX_NEW] [--seed S] [--temp T] [--top-k K] [--top-p P] "
                       "[--min-p P] [--think-budget N] [--hide-thinking] [--no-chat] [--system TEXT]");
  }
  auto options = ParseGenerateOptions(args);
  if (!options.ok()) return Fail("run", options.status());
  auto session = OpenSession(args);
  if (!session.ok()) return Fail("run", session.status());
  Session& s = **session;

  PiecePrinter printer(args.Has("--hide-thinking"));
  const StreamCallback print = printer.callback();

  const bool chat = !args.Has("--no-chat") && s.model().tokenizer() != nullptr &&
                    !s.model().tokenizer()->chat_template().empty();
  StatusOr<GenerateResult> result = [&]() -> StatusOr<GenerateResult> {
    if (!chat) return s.Generate(*prompt, *options, print);
    std::vector<ChatMessage> messages;
    if (auto system = args.Value("--system")) messages.push_back({"system", *system});
    messages.push_back({"user", *prompt});
    return s.Chat(messages, *options, print);
  }();
  printer.Finish();
  if (!result.ok()) return Fail("run", result.status());
  PrintSummary(*result);
  return 0;
}

}  // namespace r1::cli
