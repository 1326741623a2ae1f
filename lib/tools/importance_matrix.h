// importance_matrix.h — reading the importance matrices llama-imatrix writes, for quantization.
//
// For each matrix the importance of an input column is the mean of the squared activations
// that met it (Σ x² / count over the calibration text); the quantizer weighs each column's
// rounding error by it, so the columns that carry the signal are kept most exactly. Both of
// llama-imatrix's formats are read: GGUF (tensors NAME.in_sum2 [n_in, n_mat] and NAME.counts
// [n_mat], one row per expert for MoE matrices) and the legacy .dat.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "r1/status.h"

namespace r1::tools {

struct ImportanceMatrix {
  // Per matrix name (as in the model, e.g. "blk.0.ffn_down.weight"): n_mat rows of n_in
  // importances back to back (n_mat = 1 except for expert matrices).
  std::map<std::string, std::vector<float>, std::less<>> columns;
  std::vector<std::string> datasets;  // the calibration files named in the file, if any
  int64_t n_chunks = 0;               // calibration chunks it was computed from
};

// InvalidArgument naming the problem for a malformed or inconsistent file.
StatusOr<ImportanceMatrix> LoadImportanceMatrix(const std::string& path);

}  // namespace r1::tools
