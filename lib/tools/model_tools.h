// model_tools.h — making model files: synthetic models in real shapes, and quantization.
//
// Both write a GGUF file one tensor at a time (GgufWriter::AddTensorFiller), so memory stays at
// about one tensor's rows per thread whatever the model's size; rows are spread over threads.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "r1/dtype.h"
#include "r1/status.h"
#include "tools/importance_matrix.h"
#include "tools/quant_schemes.h"
#include "tools/tensor_type_override.h"

namespace r1::tools {

struct QuantizeOptions {
  int n_threads = 0;  // 0 = all cores; else 1 to MaxThreadCount() (runtime/resource_limits.h)
  bool verbose = false;  // one line per tensor on stderr
  bool overwrite = false;  // replace an existing output file
  // Convert tensors that are already quantized (dequantize, then quantize): the result is
  // worse than quantizing the original weights.
  bool allow_requantize = false;
  // Told, before any work, when allow_requantize is about to be used.
  std::function<void(const std::string& message)> on_warning;
  // An importance matrix (LoadImportanceMatrix) for the matrices it names; the i-quants weigh
  // each column's rounding error by it (the other types are quantized without it). The IQ1 and
  // IQ2 types refuse to quantize a matrix without one (RequiresImportance).
  const ImportanceMatrix* importance = nullptr;
  // Per-tensor types over the scheme's: the first override whose pattern occurs in a matrix's
  // name decides its type (with the scheme's fallback when its blocks do not fit the rows).
  std::vector<TensorTypeOverride> tensor_types;
};

// Reads `in` and writes `out` with the scheme's types: matrices (2-D and up) of F32/F16/BF16
// get TypeForTensor's type; other tensors are copied. Metadata is copied and general.file_type
// set to the scheme's. Matrices already quantized to another type are converted only with
// allow_requantize (FailedPrecondition otherwise), so the file type always describes the
// tensors written. `out` must not be `in` (InvalidArgument), nor exist unless overwrite
// (AlreadyExists); it is written to a temporary file renamed at the end, so a failure leaves
// neither a partial `out` nor a temporary file.
Status QuantizeModel(const std::string& in, const std::string& out, const QuantScheme& scheme,
                     const QuantizeOptions& options);

// Shapes of the real models (ANCHORS.md).
// DeepSeek-V3's attention (MLA: queries and keys/values through low-rank latents) and
// mixture of experts, as a "deepseek2" GGUF describes them.
struct MlaMoeShape {
  int64_t q_lora_rank, kv_lora_rank, qk_nope, qk_rope, v_head;
  int64_t n_experts, n_experts_used, n_shared, d_ff_expert, n_dense_lead, n_groups, n_groups_used;
  float expert_weights_scale;
  float yarn_factor, yarn_log_multiplier;
  int64_t yarn_original_context;
};

struct ModelPreset {
  std::string name;
  std::string arch;      // "qwen2", "llama", "qwen3" or "deepseek2"
  int64_t n_vocab, d_model, n_layers, n_heads, n_kv_heads, d_ff;  // d_ff: the dense layers'
  float rope_theta, norm_eps;
  bool qkv_bias;
  bool llama3_rope;      // rope_freqs.weight with Llama-3 scaling (factor 8)
  std::string pre;       // tokenizer.ggml.pre
  std::optional<MlaMoeShape> mla_moe = std::nullopt;  // deepseek2 only
};
std::optional<ModelPreset> FindPreset(std::string_view name);
std::vector<std::string> PresetNames();

inline constexpr int64_t kMinSyntheticVocab = 512, kMaxSyntheticVocab = int64_t{1} << 22;

struct MkModelOptions {
  int n_threads = 0;  // 0 = all cores; else 1 to MaxThreadCount()
  uint64_t seed = 1;
  bool tied = false;       // no output.weight (shares token_embd)
  int64_t n_layers = 0;    // > 0 overrides the preset's layer count (smaller test files)
  int64_t n_vocab = 0;     // > 0 overrides the preset's vocabulary size (a draft for a target)
  // A model whose next token is known: after each ordinary token it predicts the one a
  // permutation seeded with `successor_seed` maps it to (its output rows are its own embeddings
  // in that order, and its layers whisper, their output projections scaled by 1/8, so the last
  // token decides). Models of any shape made with one seed agree on every token, so they draft
  // for each other; `successor_change` in [0, 1] is the share of tokens (drawn with `seed`)
  // whose successors are shuffled among themselves: a draft then agrees with the target on
  // about 1 - change of the tokens. Needs an output matrix (not `tied`); not for deepseek2.
  std::optional<uint64_t> successor_seed;
  double successor_change = 0.0;
};

// Writes a model of the preset's exact shapes with random weights (scaled by 1/sqrt(n_in) so
// activations stay finite) and a synthetic byte-level BPE vocabulary of the preset's size.
// Matrices of the deepseek2 presets repeat 256 random rows (quantized once), as quantizing the
// 671B's 11 billion expert weights per layer row by row would take hours.
Status MakeSyntheticModel(const ModelPreset& preset, const QuantScheme& scheme,
                          const std::string& out, const MkModelOptions& options);

// Read bandwidth of this machine in bytes/s: the best of `reps` passes over a `bytes` buffer,
// read by `n_threads` threads (clamped to [1, MaxThreadCount()]); 0 when the buffer cannot be
// allocated.
double MeasureReadBandwidth(int n_threads, uint64_t bytes = uint64_t{1} << 30, int reps = 10);

}  // namespace r1::tools
