// cli_output.h — streaming an answer to stdout so that reasoning and answer stay apart:
// dimmed reasoning on a colour terminal, "<think>" … "</think>" lines around it elsewhere, or
// one JSON object per line (--json).
#pragma once

#include <cstdint>

#include "r1/session.h"

namespace r1::cli {

enum class OutputStyle {
  kTerminal,  // reasoning dimmed with escape sequences
  kPlain,     // reasoning between a "<think>" line and a "</think>" line
  kJson,      // {"type":"reasoning"|"content","text":…} per piece, then {"type":"done",…}
};

// Whether escape sequences may be used: stdout is a terminal, NO_COLOR is unset or empty and
// TERM is not "dumb".
bool ColourAllowed();
OutputStyle ChooseOutputStyle(bool json);

class PiecePrinter {
 public:
  PiecePrinter(OutputStyle style, bool hide_thinking);
  // Prints each piece; returns false (stopping the generation) once Ctrl-C was pressed.
  StreamCallback callback();
  // Closes an open reasoning block, restores the terminal's style and ends the line.
  void Finish();
  // --json: the closing {"type":"done",…} event with the usage, stop reason and seed.
  void PrintDone(const GenerateResult& result, uint64_t seed);
  void PrintError(std::string_view message);  // --json: {"type":"error","message":…}

 private:
  void Write(std::string_view text);
  void Enter(Channel channel);

  OutputStyle style_;
  bool hide_thinking_;
  Channel shown_ = Channel::kContent;
  bool at_line_start_ = true;
};

}  // namespace r1::cli
