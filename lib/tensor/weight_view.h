// weight_view.h — views of weight matrices where they lie (a file mapping, or a backend's
// buffer): what the ops multiply by. The model binds them by name (model/weights.h); the ops
// know only these views, so nothing below the model depends on it.
#pragma once

#include <cstdint>

#include "r1/dtype.h"

namespace r1 {

// A weight matrix of n_out rows, each a row of n_in elements of `type` (GGUF ne = {n_in, n_out}).
struct WeightMatrix {
  DType type = DType::kF32;
  int64_t n_in = 0;
  int64_t n_out = 0;
  uint64_t row_bytes = 0;
  const uint8_t* data = nullptr;
  // The rows repacked for the INT8 prompt GEMM, 16 per panel (model/prompt_panels.h); null
  // unless the model was loaded with LoadOptions::repack_weights.
  const uint8_t* panels = nullptr;
  // The rows interleaved 16 at a time for the decode products (quant/interleaved_kquants.h); null
  // unless the model was loaded with LoadOptions::interleave_rows and the matrix has that form.
  const uint8_t* interleaved = nullptr;

  const uint8_t* Row(int64_t r) const { return data + static_cast<uint64_t>(r) * row_bytes; }
};

// n_expert matrices stored back to back in one 3-D tensor [n_in, n_out, n_expert].
struct ExpertMatrices {
  WeightMatrix first;         // expert 0
  uint64_t expert_bytes = 0;  // n_out * row_bytes
  uint64_t expert_panel_bytes = 0;  // the same for first.panels, when set
  int64_t n_experts = 0;

  WeightMatrix Expert(int64_t e) const {
    WeightMatrix m = first;
    m.data = first.data + static_cast<uint64_t>(e) * expert_bytes;
    if (first.panels != nullptr) m.panels = first.panels + static_cast<uint64_t>(e) * expert_panel_bytes;
    return m;
  }
};

// A mixture-of-experts layer's routed part: the router and the experts' SwiGLU matrices.
struct RoutedExperts {
  WeightMatrix router;                     // [d_model -> n_experts]
  const float* selection_bias = nullptr;   // [n_experts], optional
  ExpertMatrices gate, up;                 // [d_model -> d_ff_expert] each
  ExpertMatrices down;                     // [d_ff_expert -> d_model] each
};

}  // namespace r1
