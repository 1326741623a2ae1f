// prompt_panels.h — quantized weight matrices repacked once, at load, into the INT8 prompt
// GEMM's panel layout (quant/int8_panel.h), so prompt batches skip the per-call repack.
//
// The panels are an owned copy beside the mapped file (about 1.25 bytes per weight, 1.5 for
// the 16-element sub-block types), more than a 4-bit file itself; decode keeps reading the
// mapped rows. So this is an opt-in (LoadOptions::repack_weights): it pays where prompts are
// processed in many short batches, and only on CPUs with the INT8 GEMM kernel.
#pragma once

#include "absl/status/status.h"
#include "model/weights.h"

namespace r1 {

// Repacks every matrix the prompt GEMM reads (those of a type with a panel form) and points
// its WeightMatrix::panels at the copy (owned by w.prompt_panels), using n_threads threads. A failed allocation is
// a ResourceExhausted error naming the size; the weights are then left as they were.
absl::Status PackPromptPanels(ModelWeights& w, int n_threads);

}  // namespace r1
