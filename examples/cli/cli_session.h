// cli_session.h — the options shared by the commands that run a model: opening a session,
// sampling settings, how the prompt reaches the model, the summary line.
#pragma once

#include <memory>
#include <string>

#include "cli_args.h"
#include "r1/session.h"

namespace r1::cli {

// -t/--threads, --ctx and --cache-type; InvalidArgument (a usage error) on a bad value.
StatusOr<SessionOptions> ParseSessionOptions(const Args& args);
// --cache-type f16|q8_0|f32 (default f16).
StatusOr<CacheType> ParseCacheTypeFlag(const Args& args);

// --repack: weights repacked once at load for the prompt GEMM (LoadOptions::repack_weights);
// --interleave: Q4_K matrices interleaved for the decode kernels (LoadOptions::interleave_rows).
LoadOptions ParseLoadOptions(const Args& args);

// Loads the model at `path` and opens a session on it.
StatusOr<std::unique_ptr<Session>> OpenSession(const std::string& path, const LoadOptions& load,
                                               const SessionOptions& options);

// --draft MODEL or --draft-nextn, and --draft-max N: the draft model (loaded with `load`) or
// the model's own multi-token-prediction block, and the options; neither when both flags are
// absent. InvalidArgument for both at once, a bad --draft-max or one without either.
struct DraftChoice {
  std::shared_ptr<const Model> model;
  bool nextn = false;
  DraftOptions options;
  bool any() const { return model != nullptr || nextn; }
};
StatusOr<DraftChoice> ParseDraft(const Args& args, const LoadOptions& load);
// Sets the chosen draft on `session` (nothing when none was chosen).
Status ApplyDraft(const DraftChoice& draft, Session& session);
// ParseDraft, then ApplyDraft.
Status AttachDraft(const Args& args, const LoadOptions& load, Session& session);

// -n, --seed (a random one when absent), --temp, --top-k, --top-p, --min-p, --think-budget
// and --template; InvalidArgument (a usage error) on a bad value.
StatusOr<GenerateOptions> ParseGenerateOptions(const Args& args);

// "deepseek-r1, deepseek-r1-distill, llama3, chatml, qwen2".
std::string ChatTemplateNames();

// Whether prompts go through a chat template (kChat) or to the model as given (kRaw):
// --no-chat is raw, --template is chat; otherwise chat when the model has a template (one
// outside the built-in families is rendered as Jinja).
enum class PromptMode { kChat, kRaw };
StatusOr<PromptMode> ChoosePromptMode(const Args& args, const Model& model);

// "N prompt tokens (M computed), K generated (R reasoning) | prefill X tok/s | decode Y tok/s |
// seed S | stop: REASON" on stderr, after flushing stdout so the two never share a line.
void PrintSummary(const GenerateResult& result, uint64_t seed);

}  // namespace r1::cli
