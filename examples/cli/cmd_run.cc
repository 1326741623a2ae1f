// r1 run MODEL (-p PROMPT | -f FILE) — streams an answer to stdout: the reasoning (dimmed on a
// terminal, between <think> lines otherwise, or as JSON events with --json), then the answer,
// then a one-line summary on stderr. Ctrl-C stops the answer; the exit status is then 130.
#include <cstdio>
#include <string>

#include "cli_args.h"
#include "cli_input.h"
#include "cli_interrupt.h"
#include "cli_output.h"
#include "cli_session.h"
#include "command_table.h"
#include "commands.h"

namespace r1::cli {

int RunRun(int argc, char** argv) {
  const Args args(argc, argv, *FindCommand("run"));
  if (!args.error().empty()) return Usage("run", args.error());
  const auto source = FindPrompt(args);
  if (!source.ok()) return Usage("run", source.status());
  if (args.positional().size() != 1) return Usage("run", "expected one MODEL path");
  if (!source->given()) return Usage("run", "give a prompt with -p TEXT, -p - (stdin) or -f FILE");
  const auto session_options = ParseSessionOptions(args);
  if (!session_options.ok()) return Usage("run", session_options.status());
  const auto options = ParseGenerateOptions(args);
  if (!options.ok()) return Usage("run", options.status());
  const auto prompt = ReadPrompt(*source);
  if (!prompt.ok()) return Fail("run", prompt.status());

  auto session = OpenSession(args.positional()[0], ParseLoadOptions(args), *session_options);
  if (!session.ok()) return Fail("run", session.status());
  Session& s = **session;
  if (Status draft = AttachDraft(args, ParseLoadOptions(args), s); !draft.ok()) return Fail("run", draft);
  const auto mode = ChoosePromptMode(args, s.model());
  if (!mode.ok()) return Fail("run", mode.status());

  PiecePrinter printer(ChooseOutputStyle(args.Has("--json")), args.Has("--hide-thinking"));
  StatusOr<GenerateResult> result = [&]() -> StatusOr<GenerateResult> {
    const InterruptHandler interrupt(s);
    if (*mode == PromptMode::kRaw) return s.Generate(*prompt, *options, printer.callback());
    std::vector<ChatMessage> messages;
    if (auto system = args.Value("--system")) messages.push_back({"system", *system});
    messages.push_back({"user", *prompt});
    return s.Chat(messages, *options, printer.callback());
  }();
  printer.Finish();
  if (!result.ok()) {
    if (args.Has("--json")) printer.PrintError(std::string(result.status().message()));
    return Fail("run", result.status());
  }
  if (args.Has("--json")) {
    printer.PrintDone(*result, options->sampler.seed);
  } else {
    PrintSummary(*result, options->sampler.seed);
  }
  return Interrupted() ? kExitInterrupted : 0;
}

}  // namespace r1::cli
