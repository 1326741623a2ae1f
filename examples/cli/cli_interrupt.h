// cli_interrupt.h — Ctrl-C (SIGINT) while a model generates: the generation stops at the next
// token and the command finishes normally (restoring the terminal), instead of the process
// dying mid-line.
#pragma once

#include "r1/session.h"

namespace r1::cli {

// Exit status of a command stopped by Ctrl-C, as shells report a SIGINT death.
inline constexpr int kExitInterrupted = 130;

// Installs the handler for its lifetime and restores the previous one after.
class InterruptHandler {
 public:
  explicit InterruptHandler(Session& session);
  ~InterruptHandler();
  InterruptHandler(const InterruptHandler&) = delete;
  InterruptHandler& operator=(const InterruptHandler&) = delete;
};

// Whether Ctrl-C was pressed since the last ClearInterrupt().
bool Interrupted();
void ClearInterrupt();

}  // namespace r1::cli
