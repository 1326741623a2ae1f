// cli_session.h — loading a model and opening a session from common flags.
#pragma once

#include <memory>
#include <string>

#include "cli_args.h"
#include "r1/session.h"

namespace r1::cli {

// Flags understood by every command that runs a model.
inline const std::vector<std::string> kSessionFlags = {"-t", "--threads", "--ctx"};

// Loads args.positional()[0] and opens a session with -t/--threads and --ctx.
StatusOr<std::unique_ptr<Session>> OpenSession(const Args& args);

// -n, --seed, --temp, --top-k, --top-p, --min-p, --think-budget as GenerateOptions.
StatusOr<GenerateOptions> ParseGenerateOptions(const Args& args);

// "N prompt tokens (M computed), K generated (R reasoning) | prefill X tok/s | decode Y tok/s | stop"
// on stderr.
void PrintSummary(const GenerateResult& result);

}  // namespace r1::cli
