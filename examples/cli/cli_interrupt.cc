#include "cli_interrupt.h"

#include <csignal>

namespace r1::cli {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;
Session* g_session = nullptr;  // the session Ctrl-C cancels
struct sigaction g_previous {};

extern "C" void OnInterrupt(int) {
  g_interrupted = 1;
  if (g_session != nullptr) g_session->Cancel();  // an atomic store: safe in a signal handler
}

}  // namespace

InterruptHandler::InterruptHandler(Session& session) {
  g_session = &session;
  g_interrupted = 0;
  struct sigaction action {};
  action.sa_handler = OnInterrupt;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &g_previous);
}

InterruptHandler::~InterruptHandler() {
  sigaction(SIGINT, &g_previous, nullptr);
  g_session = nullptr;
}

bool Interrupted() { return g_interrupted != 0; }
void ClearInterrupt() { g_interrupted = 0; }

}  // namespace r1::cli
