// perplexity.h — how well a model predicts a text, and how far a quantized model's predictions
// are from its original's: the numbers to choose a quant by.
//
// Perplexity follows llama-perplexity: the text is tokenized (with BOS when the vocabulary adds
// one), cut into chunks of n_ctx tokens (the remainder is dropped), each chunk evaluated from an
// empty context with its first token replaced by BOS, and only the second half of each chunk
// scored (every token there has at least n_ctx / 2 tokens of context):
//   PPL = exp(mean over scored positions of -log p(next token)).
// For KL divergence, a run on the original model saves the log-probabilities of every scored
// position (llama-perplexity's --kl-divergence-base file: "_logits_", n_ctx, n_vocab, n_chunk,
// the tokens, then per position a 16-bit code of each log-probability within 16 nats of the
// top), and a run on the quantized model compares its distributions with them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "r1/session.h"
#include "r1/status.h"

namespace r1::tools {

struct PerplexityOptions {
  int64_t n_chunks = -1;        // < 0: every whole chunk of the text
  std::string save_base;        // write the base log-probabilities here (KL divergence base)
  std::string compare_base;     // read them from here and report the KL divergence
};

struct KlDivergence {
  double mean = 0, mean_error = 0;            // KL(base || model) per position, nats
  double median = 0, p99 = 0, max = 0;
  double same_top = 0;                        // share of positions with the same most likely token
  double base_ppl = 0;                        // the base model's perplexity on the same positions
  double rms_delta_p = 0;                     // RMS of p_model(next) - p_base(next)
  double delta_p_p1 = 0, delta_p_median = 0, delta_p_p99 = 0;  // its percentiles
};

struct PerplexityResult {
  double ppl = 0, ppl_error = 0;   // with the standard error of the mean, propagated
  int64_t n_ctx = 0, n_chunks = 0, n_scored = 0;
  std::vector<double> chunk_ppl;   // the running estimate after each chunk
  bool has_kld = false;
  KlDivergence kld;
};

// The chunk length a base file was made with (to size the session that compares with it).
StatusOr<int64_t> BaseFileContext(const std::string& path);

// The tokens perplexity scores for `text` (tokenized as llama-perplexity does).
StatusOr<std::vector<int32_t>> PerplexityTokens(const Model& model, std::string_view text);

// Runs `session` (whose context holds at least n_ctx positions; it is reset per chunk) over
// `tokens` in chunks of n_ctx. With compare_base the tokens come from the base file and `tokens`
// is ignored. `on_chunk(i, running_ppl)` is called after each chunk.
StatusOr<PerplexityResult> ComputePerplexity(Session& session, std::vector<int32_t> tokens, int64_t n_ctx,
                                             const PerplexityOptions& options,
                                             const std::function<void(int64_t, double)>& on_chunk = nullptr);

}  // namespace r1::tools
