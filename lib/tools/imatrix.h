// imatrix.h — computing an importance matrix over a calibration text, as llama-imatrix does,
// and writing it in llama-imatrix's GGUF format (importance_matrix.h reads it back).
//
// The text is tokenized (with BOS when the vocabulary adds one) and cut into chunks of n_ctx
// tokens (the remainder is dropped); each chunk is evaluated from an empty context with its
// first token replaced by BOS. For every weight matrix the input columns' squared activations
// are summed over every token that met the matrix (for an expert matrix: the tokens routed to
// that expert), with the number of those tokens:
//   NAME.in_sum2 [n_in, n_mat] = Σ x²,  NAME.counts [1, n_mat] = tokens,
// n_mat = 1 except for expert matrices (one row per expert). The output matrix is skipped
// unless asked for, as llama-imatrix does (quantizers keep it at high precision anyway).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "r1/session.h"
#include "r1/status.h"

namespace r1::tools {

struct ImatrixOptions {
  int64_t n_chunks = -1;        // < 0: every whole chunk of the text
  bool process_output = false;  // also collect output.weight
};

// The sums of one matrix (or of all experts of one 3-D tensor).
struct ImportanceSums {
  int64_t n_in = 0, n_mat = 1;
  std::vector<float> sum_sq;  // [n_mat][n_in]
  std::vector<float> count;   // [n_mat]
};

struct ImatrixResult {
  std::map<std::string, ImportanceSums, std::less<>> matrices;  // by tensor name
  int64_t n_ctx = 0, n_chunks = 0;
  double ppl = 0;  // the text's perplexity over the chunks' second halves (llama-perplexity's)
};

// Runs `session` (context of at least n_ctx positions; reset per chunk) over `tokens` in chunks of
// n_ctx. InvalidArgument when the text holds less than one chunk. `on_chunk(i, seconds)` is
// called after each chunk.
StatusOr<ImatrixResult> ComputeImportanceMatrix(Session& session, const std::vector<int32_t>& tokens, int64_t n_ctx,
                                                const ImatrixOptions& options,
                                                const std::function<void(int64_t, double)>& on_chunk = nullptr);

// Writes `result` as llama-imatrix's GGUF file (general.type "imatrix", imatrix.chunk_count,
// imatrix.chunk_size, imatrix.datasets = `datasets`), through a temporary file; an existing `out`
// is replaced only with `overwrite`, and never when it is one of `inputs`.
Status WriteImportanceMatrix(const ImatrixResult& result, const std::vector<std::string>& datasets,
                             const std::string& out, const std::vector<std::string>& inputs, bool overwrite);

}  // namespace r1::tools
