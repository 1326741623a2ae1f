// r1 perplexity MODEL -f TEXT — llama-perplexity's chunked perplexity, and the KL divergence
// of a (quantized) model from a base model's saved log-probabilities.
#include <cmath>
#include <cstdio>
#include <string>

#include "cli_args.h"
#include "cli_input.h"
#include "cli_session.h"
#include "command_table.h"
#include "commands.h"
#include "tools/perplexity.h"

namespace r1::cli {
namespace {

void PrintKld(const tools::KlDivergence& k, double ppl) {
  std::printf("base PPL = %.4f, ln(PPL/base PPL) = %.6f\n", k.base_ppl, std::log(ppl / k.base_ppl));
  std::printf("mean KLD = %.6f +/- %.6f, median %.6f, 99%% %.6f, max %.6f\n", k.mean, k.mean_error, k.median, k.p99,
              k.max);
  std::printf("same top token = %.3f%%\n", 100.0 * k.same_top);
  std::printf("delta p: RMS %.3f%%, 1%% %.3f%%, median %.3f%%, 99%% %.3f%%\n", 100.0 * k.rms_delta_p,
              100.0 * k.delta_p_p1, 100.0 * k.delta_p_median, 100.0 * k.delta_p_p99);
}

}  // namespace

int RunPerplexity(int argc, char** argv) {
  const Args args(argc, argv, *FindCommand("perplexity"));
  if (!args.error().empty()) return Usage("perplexity", args.error());
  if (args.positional().size() != 1) return Usage("perplexity", "expected one MODEL path");
  const auto source = FindPrompt(args);
  if (!source.ok()) return Usage("perplexity", source.status());
  const bool compare = args.Has("--kl-divergence");
  const auto base = args.Value("--kl-divergence-base");
  if (compare && !base) return Usage("perplexity", "--kl-divergence reads the file given by --kl-divergence-base");
  if (!compare && !source->given()) return Usage("perplexity", "expected the text as -f FILE");
  int64_t n_chunks = -1;
  if (args.Has("--chunks")) {
    if (Status st = args.Int("--chunks", 1, int64_t{1} << 30, &n_chunks); !st.ok()) return Usage("perplexity", st);
  }
  auto session_options = ParseSessionOptions(args);
  if (!session_options.ok()) return Usage("perplexity", session_options.status());
  // The context is one chunk: 512 tokens unless --ctx says otherwise (or the base file does).
  if (compare) {
    auto ctx = tools::BaseFileContext(*base);
    if (!ctx.ok()) return Fail("perplexity", ctx.status());
    session_options->n_ctx = *ctx;
  } else if (session_options->n_ctx == 0) {
    session_options->n_ctx = 512;
  }
  std::string text;
  if (!compare) {
    auto read = ReadPrompt(*source);
    if (!read.ok()) return Fail("perplexity", read.status());
    text = *std::move(read);
  }

  auto session = OpenSession(args.positional()[0], ParseLoadOptions(args), *session_options);
  if (!session.ok()) return Fail("perplexity", session.status());
  std::vector<int32_t> tokens;
  if (!compare) {
    auto ids = tools::PerplexityTokens((*session)->model(), text);
    if (!ids.ok()) return Fail("perplexity", ids.status());
    tokens = *std::move(ids);
  }
  tools::PerplexityOptions options;
  options.n_chunks = n_chunks;
  (compare ? options.compare_base : options.save_base) = base.value_or("");
  auto result = tools::ComputePerplexity(**session, std::move(tokens), session_options->n_ctx, options,
                                         [](int64_t i, double ppl) {
                                           std::printf("[%lld]%.4f,", static_cast<long long>(i + 1), ppl);
                                           std::fflush(stdout);
                                         });
  if (!result.ok()) {
    std::printf("\n");
    return Fail("perplexity", result.status());
  }
  std::printf("\nPPL = %.4f +/- %.5f (%lld chunks of %lld tokens, %lld scored)\n", result->ppl, result->ppl_error,
              static_cast<long long>(result->n_chunks), static_cast<long long>(result->n_ctx),
              static_cast<long long>(result->n_scored));
  if (result->has_kld) PrintKld(result->kld, result->ppl);
  return 0;
}

}  // namespace r1::cli
