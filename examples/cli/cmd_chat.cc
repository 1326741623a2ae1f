// r1 chat MODEL — an interactive multi-turn chat. Ctrl-C stops the current answer, not the
// program; lines starting with '/' are commands (/help lists them) and never reach the model.
#include <algorithm>
#include <cstdio>
#include <string>

#include "chat_input.h"
#include "chat_saved.h"
#include "cli_args.h"
#include "cli_input.h"
#include "cli_interrupt.h"
#include "cli_output.h"
#include "cli_session.h"
#include "command_table.h"
#include "commands.h"

namespace r1::cli {
namespace {

constexpr char kChatHelp[] =
    "commands:\n"
    "  /help         this list\n"
    "  /reset        forget the conversation (the system prompt stays)\n"
    "  /save FILE    save the conversation: the model's state in FILE, the messages in FILE.chat.json\n"
    "  /load FILE    continue a conversation saved with /save\n"
    "  /quit, /exit  leave (as does Ctrl-D)\n"
    "input:\n"
    "  a line ending in \\ continues on the next line; a line \"\"\" starts a block that ends\n"
    "  at the next \"\"\" line; start a message with // to send one beginning with /\n"
    "  Ctrl-C stops the current answer\n";

// The conversation as it grows: messages for a chat template, one text for a raw model.
struct Conversation {
  std::vector<ChatMessage> messages;
  std::string transcript;

  void Reset() {
    transcript.clear();
    messages.erase(std::remove_if(messages.begin(), messages.end(),
                                  [](const ChatMessage& m) { return m.role != "system"; }),
                   messages.end());
  }
};

void Say(const std::string& text) {
  std::fflush(stdout);
  std::fprintf(stderr, "%s\n", text.c_str());
}

Status Save(const Session& s, const Conversation& c, const std::string& path) {
  R1_RETURN_IF_ERROR(CheckWritable(path));
  R1_RETURN_IF_ERROR(CheckWritable(ConversationPath(path)));
  if (Status st = s.SaveState(path); !st.ok()) {
    return absl::UnavailableError(WithoutTempName(std::string(st.message()), path));
  }
  return SaveConversation(path, {c.messages, c.transcript});
}

Status Load(Session& s, Conversation& c, const std::string& path) {
  R1_ASSIGN_OR_RETURN(SavedChat saved, LoadConversation(path));
  R1_RETURN_IF_ERROR(s.LoadState(path));
  c.messages = std::move(saved.messages);
  c.transcript = std::move(saved.transcript);
  return absl::OkStatus();
}

}  // namespace

int RunChat(int argc, char** argv) {
  const Args args(argc, argv, *FindCommand("chat"));
  if (!args.error().empty()) return Usage("chat", args.error());
  if (args.positional().size() != 1) return Usage("chat", "expected one MODEL path");
  const auto session_options = ParseSessionOptions(args);
  if (!session_options.ok()) return Usage("chat", session_options.status());
  const auto options = ParseGenerateOptions(args);
  if (!options.ok()) return Usage("chat", options.status());
  auto session = OpenSession(args.positional()[0], ParseLoadOptions(args), *session_options);
  if (!session.ok()) return Fail("chat", session.status());
  Session& s = **session;
  if (Status draft = AttachDraft(args, ParseLoadOptions(args), s); !draft.ok()) return Fail("chat", draft);
  const auto mode = ChoosePromptMode(args, s.model());
  if (!mode.ok()) return Fail("chat", mode.status());
  const bool templated = *mode == PromptMode::kChat;

  const InterruptHandler interrupt(s);
  PiecePrinter printer(ChooseOutputStyle(/*json=*/false), args.Has("--hide-thinking"));
  LineReader reader;
  Conversation conversation;
  if (auto system = args.Value("--system")) conversation.messages.push_back({"system", *system});
  if (reader.interactive()) Say("r1 chat — /help lists the commands; Ctrl-C stops an answer, Ctrl-D quits");
  while (std::optional<std::string> input = ReadMessage(reader)) {
    std::string line = *std::move(input);
    reader.AddHistory(line);
    if (line.empty()) continue;
    if (line[0] == '/' && line.rfind("//", 0) != 0) {
      const size_t space = line.find(' ');
      const std::string command = line.substr(0, space);
      std::string arg;  // the rest of the line, leading spaces dropped
      if (const size_t start = line.find_first_not_of(' ', std::min(space, line.size())); start != std::string::npos) {
        arg = line.substr(start);
      }
      if (command == "/quit" || command == "/exit") break;
      if (command == "/help") {
        std::fflush(stdout);
        std::fputs(kChatHelp, stderr);
      } else if (command == "/reset") {
        s.Reset();
        conversation.Reset();
      } else if ((command == "/save" || command == "/load") && arg.empty()) {
        Say("error: " + command + " needs a FILE");
      } else if (command == "/save") {
        const Status st = Save(s, conversation, arg);
        Say(st.ok() ? "saved " + arg : "error: " + std::string(st.message()));
      } else if (command == "/load") {
        const Status st = Load(s, conversation, arg);
        Say(st.ok() ? "loaded " + arg : "error: " + std::string(st.message()));
      } else {
        Say("error: unknown command " + command + "; /help lists the commands");
      }
      continue;
    }
    if (line.rfind("//", 0) == 0) line.erase(0, 1);

    const Conversation before = conversation;
    conversation.messages.push_back({"user", line});
    // A raw model continues one text: each input starts on a line of its own.
    if (!conversation.transcript.empty() && conversation.transcript.back() != '\n') conversation.transcript += '\n';
    conversation.transcript += line;
    ClearInterrupt();
    auto result = templated ? s.Chat(conversation.messages, *options, printer.callback())
                            : s.Generate(conversation.transcript, *options, printer.callback());
    printer.Finish();
    if (!result.ok()) {
      Say("error: " + std::string(result.status().message()));
      conversation = before;
      continue;
    }
    conversation.messages.push_back({"assistant", result->content});
    conversation.transcript += result->content;
    PrintSummary(*result, options->sampler.seed);
  }
  return 0;
}

}  // namespace r1::cli
