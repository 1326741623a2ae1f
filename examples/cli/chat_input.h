// chat_input.h — reading what the user types in `r1 chat`: line editing and history (libedit)
// when stdin is a terminal and r1 was built with it, plain stdin otherwise; and messages that
// span lines.
#pragma once

#include <optional>
#include <string>

namespace r1::cli {

class LineReader {
 public:
  LineReader();
  // A line without its newline; nullopt at the end of input. The prompt is shown only when
  // stdin is a terminal.
  std::optional<std::string> ReadLine(const char* prompt);
  void AddHistory(const std::string& entry);
  bool interactive() const { return interactive_; }

 private:
  bool interactive_;  // stdin is a terminal
};

// One message: a line; a line ending in '\' continues on the next one; a line of three double
// quotes (""") opens a block that ends at the next such line. Lines are joined with '\n'.
// nullopt at the end of input.
std::optional<std::string> ReadMessage(LineReader& reader);

}  // namespace r1::cli
