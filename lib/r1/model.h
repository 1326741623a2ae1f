// r1/model.h — a loaded model: hyper-parameters and weights, read in place from a GGUF file.
//
// A Model is immutable after Load and safe to share between threads; any number of Sessions
// (r1/session.h) run on one Model. Quantized weights are used where they lie in the file's
// memory mapping: loading copies no weights.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "r1/dtype.h"
#include "r1/status.h"

namespace r1 {

enum class RopeOrdering {
  kNormal,  // rotate neighbouring pairs (x[2i], x[2i+1]) — Llama
  kNeox,    // rotate x[i] with x[i + n_rot/2] — Qwen2, Qwen3, GPT-NeoX
};

// Hyper-parameters, read from the file's metadata ("<arch>.block_count", …).
struct ModelConfig {
  std::string architecture;  // "llama", "qwen2", "qwen3", "deepseek2"
  std::string name;          // general.name, when present
  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;   // context length the model was trained for
  int64_t d_model = 0;       // embedding length
  int64_t n_layers = 0;
  // Trailing multi-token-prediction (MTP, "nextn") blocks the file carries after the n_layers
  // of the model itself (block_count counts both); never run as layers, the first one can draft
  // for the model (Session::SetNextnDraft, Model::NextnDraftStatus).
  int64_t n_nextn_layers = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;      // key/value length per head
  int64_t d_ff = 0;          // feed-forward length
  float norm_eps = 1e-5f;    // RMSNorm epsilon
  // Rotary embedding.
  RopeOrdering rope_ordering = RopeOrdering::kNormal;
  int64_t n_rot = 0;         // rotated dimensions per head (<= head_dim)
  float rope_freq_base = 10000.0f;
  float rope_freq_scale = 1.0f;   // 1 / linear scaling factor
  bool has_rope_freq_factors = false;  // Llama 3 per-frequency factors (rope_freqs.weight)
  bool tied_embeddings = false;   // output projection shares token_embd
  bool has_qkv_bias = false;
  bool has_qk_norm = false;       // Qwen3: RMSNorm of each head's query and key before RoPE

  // DeepSeek-V2/V3/R1 (architecture "deepseek2"): multi-head latent attention (MLA) and a
  // mixture of experts. For these, head_dim = qk_nope_dim + n_rot (the query/key length per
  // head) and n_kv_heads = n_heads.
  int64_t q_lora_rank = 0;     // 0: the query is one plain projection (attn_q)
  int64_t kv_lora_rank = 0;    // width of the cached latent
  int64_t qk_nope_dim = 0;     // per-head query/key part without rotary
  int64_t v_head_dim = 0;      // per-head value length
  int64_t n_dense_lead = 0;    // leading layers with a dense feed-forward; MoE after them
  int64_t n_experts = 0;
  int64_t n_experts_used = 0;
  int64_t n_experts_shared = 0;
  int64_t d_ff_expert = 0;     // feed-forward length of one routed expert
  int64_t n_expert_groups = 0;       // > 1: experts are picked from the best groups only
  int64_t n_expert_groups_used = 0;
  enum class ExpertGating { kSoftmax = 1, kSigmoid = 2, kSoftmaxWeight = 3 };
  ExpertGating expert_gating = ExpertGating::kSoftmax;
  bool expert_weights_norm = false;
  float expert_weights_scale = 1.0f;
  // YaRN rotary scaling (rope_freq_scale holds 1 / factor).
  bool rope_yarn = false;
  float yarn_ext_factor = 0.0f;
  float yarn_attn_factor = 1.0f;   // multiplies the rotary cos/sin
  float yarn_beta_fast = 32.0f;
  float yarn_beta_slow = 1.0f;
  float yarn_log_mul = 0.0f;       // mscale_all_dim
  int64_t yarn_n_ctx_orig = 0;
  float attn_scale = 0.0f;         // q·k scale; 0: 1/sqrt(head_dim)
};

struct LoadOptions {
  bool use_mmap = true;  // false reads the whole file into memory instead
  int n_threads = 0;     // default thread count of sessions on this model; 0 = all cores
  // Also keep the quantized matrices repacked for the prompt GEMM, done once here instead of
  // on every prompt batch: prompts of 32+ tokens run faster (most for short batches), at the
  // cost of an owned copy of about 1.25-1.5 bytes per weight beside the mapped file. Off by
  // default: for a 4-bit model that more than doubles memory, and decode does not use it.
  // Ignored where the CPU has no INT8 prompt GEMM (AVX-512 VNNI).
  bool repack_weights = false;
  // Also keep the Q4_K and Q6_K matrices interleaved 16 rows at a time for decoding, done once
  // here: a decode step of several conversations at once (Session::EvaluateBatch, `r1 serve`'s
  // slots) runs much faster, one conversation somewhat. The cost: a pass over those tensors at
  // load and an owned copy about as large; with use_mmap the process's pages of the file's rows
  // are released after the copy, so resident memory holds the copy instead of both. Prompt
  // batches go through the interleaved rows too (short ones faster than the prompt GEMM, long
  // ones about as fast). Off by default. Ignored where the CPU has no kernel for the layout
  // (AVX-512 VNNI).
  bool interleave_rows = false;
  // Called with the fraction done, in [0, 1]; returning false cancels the load (Load then
  // returns a Cancelled error).
  std::function<bool(float)> progress;
};

struct TensorSummary {
  std::string name;
  DType type;
  std::vector<int64_t> shape;  // innermost dimension first, as stored
  uint64_t n_bytes;
  const uint8_t* data = nullptr;  // the tensor's bytes where the model maps them
};

class Tokenizer;

class Model {
 public:
  // Opens, validates and binds a GGUF model. Errors name the file and what is wrong with it.
  static StatusOr<std::shared_ptr<const Model>> Load(const std::string& path,
                                                     const LoadOptions& options = {});
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const ModelConfig& config() const;
  int default_threads() const;  // LoadOptions::n_threads, or the number of cores
  const std::string& path() const;
  uint64_t file_bytes() const;  // of every file, for a split model
  // The files the model was read from: the path given, or every shard of a split model in order.
  const std::vector<std::string>& file_paths() const;
  uint64_t weight_bytes() const;  // bytes of all tensor data
  // The owned copies LoadOptions::repack_weights and interleave_rows made (0: none).
  uint64_t repacked_bytes() const;
  std::vector<TensorSummary> Tensors() const;
  // OK when the file carries a multi-token-prediction block Session::SetNextnDraft can use;
  // else FailedPrecondition saying why (none, or one r1 cannot use and the cause).
  Status NextnDraftStatus() const;
  // The model's tokenizer (from the file's tokenizer.* metadata); nullptr when it has none.
  const Tokenizer* tokenizer() const;

  // Internal state, defined in lib/ (sessions and tools of this library reach through it).
  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace r1
