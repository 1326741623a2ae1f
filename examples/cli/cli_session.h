// cli_session.h — loading a model and opening a session from common flags.
#pragma once

#include <memory>
#include <string>

#include "cli_args.h"
#include "r1/session.h"

namespace r1::cli {

// Flags understood by every command that runs a model; each takes a value.
inline const std::vector<std::string> kSessionFlags = {"-t", "--threads", "--ctx", "--cache-type"};

// Loads args.positional()[0] and opens a session with -t/--threads, --ctx and --cache-type.
StatusOr<std::unique_ptr<Session>> OpenSession(const Args& args);

// --cache-type f16|q8_0|f32 (default f16).
StatusOr<CacheType> ParseCacheTypeFlag(const Args& args);

// -n, --seed, --temp, --top-k, --top-p, --min-p, --think-budget as GenerateOptions.
StatusOr<GenerateOptions> ParseGenerateOptions(const Args& args);

// Prints pieces to stdout: reasoning dimmed when stdout is a terminal, or dropped when
// hide_thinking. Finish() restores the terminal's normal style and ends the line.
class PiecePrinter {
 public:
  explicit PiecePrinter(bool hide_thinking);
  StreamCallback callback();
  void Finish();

 private:
  bool hide_thinking_;
  bool tty_;
  Channel shown_ = Channel::kContent;
};

// "N prompt tokens (M computed), K generated (R reasoning) | prefill X tok/s | decode Y tok/s | stop"
// on stderr.
void PrintSummary(const GenerateResult& result);

}  // namespace r1::cli
