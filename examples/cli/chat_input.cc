#include "chat_input.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#if R1_CLI_HAVE_LIBEDIT
#include <editline/readline.h>
#endif

namespace r1::cli {
namespace {

constexpr char kPrompt[] = "> ";
constexpr char kContinuation[] = ". ";
constexpr char kBlockQuote[] = "\"\"\"";

}  // namespace

LineReader::LineReader() : interactive_(isatty(STDIN_FILENO)) {}

std::optional<std::string> LineReader::ReadLine(const char* prompt) {
#if R1_CLI_HAVE_LIBEDIT
  if (interactive_) {
    char* line = readline(prompt);
    if (line == nullptr) return std::nullopt;
    std::string text(line);
    std::free(line);
    return text;
  }
#endif
  if (interactive_) {
    std::fputs(prompt, stdout);
    std::fflush(stdout);
  }
  std::string line;
  if (!std::getline(std::cin, line)) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

void LineReader::AddHistory(const std::string& entry) {
#if R1_CLI_HAVE_LIBEDIT
  if (interactive_ && !entry.empty()) add_history(entry.c_str());
#else
  (void)entry;
#endif
}

std::optional<std::string> ReadMessage(LineReader& reader) {
  std::optional<std::string> line = reader.ReadLine(kPrompt);
  if (!line) return std::nullopt;
  if (*line == kBlockQuote) {
    std::string block;
    bool first = true;
    while (std::optional<std::string> next = reader.ReadLine(kContinuation)) {
      if (*next == kBlockQuote) return block;
      if (!first) block += '\n';
      block += *next;
      first = false;
    }
    return block;  // the input ended inside the block: send what came
  }
  std::string message;
  while (!line->empty() && line->back() == '\\') {
    line->pop_back();
    message += *line + '\n';
    line = reader.ReadLine(kContinuation);
    if (!line) return message;
  }
  return message + *line;
}

}  // namespace r1::cli
