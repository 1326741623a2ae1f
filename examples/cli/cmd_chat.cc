// r1 chat MODEL — an interactive multi-turn chat on a terminal. Ctrl-C stops the current
// answer, not the program. Commands: /reset, /save FILE, /load FILE, /quit.
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>

#include "cli_args.h"
#include "cli_session.h"
#include "commands.h"
#include "r1/tokenizer.h"

namespace r1::cli {
namespace {

Session* g_session = nullptr;  // the session Ctrl-C cancels

extern "C" void OnInterrupt(int) {
  if (g_session != nullptr) g_session->Cancel();  // an atomic store: safe in a signal handler
}

}  // namespace

int RunChat(int argc, char** argv) {
  std::vector<std::string> with_value = {"-n", "--seed", "--temp", "--top-k", "--top-p", "--min-p", "--think-budget",
                                         "--system"};
  with_value.insert(with_value.end(), kSessionFlags.begin(), kSessionFlags.end());
  std::vector<std::string> known = with_value;
  known.push_back("--hide-thinking");
  const Args args(argc, argv, with_value);
  if (!args.error().empty()) return Fail("chat", args.error());
  if (auto flag = args.Unknown(known)) return Fail("chat", "unknown option " + *flag);
  if (args.positional().size() != 1) return Fail("chat", "usage: r1 chat MODEL [--system TEXT] [run options]");
  auto options = ParseGenerateOptions(args);
  if (!options.ok()) return Fail("chat", options.status());
  auto session = OpenSession(args);
  if (!session.ok()) return Fail("chat", session.status());
  Session& s = **session;
  g_session = &s;
  struct sigaction action {};
  action.sa_handler = OnInterrupt;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);

  const bool tty = isatty(STDOUT_FILENO);
  PiecePrinter printer(args.Has("--hide-thinking"));
  const StreamCallback print = printer.callback();
  // Models without a chat template continue one growing text instead of a conversation.
  const bool templated = s.model().tokenizer() != nullptr && !s.model().tokenizer()->chat_template().empty();
  std::string transcript;
  std::vector<ChatMessage> history;
  if (auto system = args.Value("--system")) history.push_back({"system", *system});
  std::fprintf(stderr, "r1 chat — /reset, /save FILE, /load FILE, /quit; Ctrl-C stops an answer\n");
  std::string line;
  while (true) {
    std::fputs(tty ? "\x1b[1m> \x1b[0m" : "> ", stdout);
    std::fflush(stdout);
    if (!std::getline(std::cin, line)) break;
    if (line == "/quit" || line == "/exit") break;
    if (line == "/reset") {
      s.Reset();
      transcript.clear();
      history.erase(std::remove_if(history.begin(), history.end(), [](const ChatMessage& m) { return m.role != "system"; }),
                    history.end());
      continue;
    }
    if (line.rfind("/save ", 0) == 0 || line.rfind("/load ", 0) == 0) {
      const std::string path = line.substr(6);
      const Status st = line[1] == 's' ? s.SaveState(path) : s.LoadState(path);
      std::fprintf(stderr, "%s\n", st.ok() ? "done" : std::string(st.message()).c_str());
      if (st.ok() && line[1] == 'l') {  // the restored context replaces this conversation
        history.clear();
        transcript.clear();
      }
      continue;
    }
    if (line.empty()) continue;
    history.push_back({"user", line});
    const std::string before = transcript;
    transcript += line;
    auto result = templated ? s.Chat(history, *options, print) : s.Generate(transcript, *options, print);
    printer.Finish();
    if (!result.ok()) {
      std::fprintf(stderr, "error: %s\n", std::string(result.status().message()).c_str());
      history.pop_back();
      transcript = before;
      continue;
    }
    history.push_back({"assistant", result->content});
    transcript += result->content;
    PrintSummary(*result);
  }
  g_session = nullptr;
  return 0;
}

}  // namespace r1::cli
