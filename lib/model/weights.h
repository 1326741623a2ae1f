// weights.h — the model's tensors, bound by name with their shapes and types checked.
//
// Matrices stay where they lie in the file (views into the mapping); only small vectors
// (norm weights, biases) that are not stored as f32 are converted into model-owned copies.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "gguf/gguf_reader.h"
#include "r1/model.h"
#include "runtime/reserved_memory.h"

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

struct LayerWeights {
  const float* attn_norm = nullptr;  // [d_model]
  WeightMatrix wq;                   // [d_model -> n_heads * head_dim]
  WeightMatrix wk;                   // [d_model -> n_kv_heads * head_dim]
  WeightMatrix wv;                   // [d_model -> n_kv_heads * head_dim]
  WeightMatrix wo;                   // [n_heads * head_dim -> d_model]
  const float* bq = nullptr;         // optional biases, same widths as the outputs
  const float* bk = nullptr;
  const float* bv = nullptr;
  const float* bo = nullptr;
  const float* q_norm = nullptr;     // [head_dim], Qwen3: applied to each query head before RoPE
  const float* k_norm = nullptr;     // [head_dim], the same for each key head
  const float* ffn_norm = nullptr;   // [d_model]
  WeightMatrix w_gate;               // [d_model -> d_ff]
  WeightMatrix w_up;                 // [d_model -> d_ff]
  WeightMatrix w_down;               // [d_ff -> d_model]

  // deepseek2: multi-head latent attention.
  WeightMatrix wq_a;                 // [d_model -> q_lora_rank], when q_lora_rank > 0
  const float* q_a_norm = nullptr;   // [q_lora_rank]
  WeightMatrix wq_b;                 // [q_lora_rank -> n_heads * head_dim]; wq when q_lora_rank = 0
  WeightMatrix wkv_a;                // [d_model -> kv_lora_rank + n_rot]
  const float* kv_a_norm = nullptr;  // [kv_lora_rank]
  std::vector<WeightMatrix> wk_b;    // per head [qk_nope_dim -> kv_lora_rank]: latent-space query
  std::vector<WeightMatrix> wv_b;    // per head [kv_lora_rank -> v_head_dim]
  // deepseek2: mixture of experts (layers >= n_dense_lead).
  WeightMatrix gate_inp;             // [d_model -> n_experts] router
  const float* exp_probs_b = nullptr;  // [n_experts] selection bias, optional
  ExpertMatrices gate_exps, up_exps;   // [d_model -> d_ff_expert] each
  ExpertMatrices down_exps;            // [d_ff_expert -> d_model] each
  WeightMatrix gate_shexp, up_shexp;   // [d_model -> n_shared * d_ff_expert]
  WeightMatrix down_shexp;             // [n_shared * d_ff_expert -> d_model]
  bool has_shexp = false;
};

struct ModelWeights {
  WeightMatrix token_embd;           // [d_model, n_vocab]: row t is token t's embedding
  const float* output_norm = nullptr;
  WeightMatrix output;               // [d_model -> n_vocab]; token_embd when tied
  const float* rope_freq_factors = nullptr;  // [n_rot / 2], Llama 3
  std::vector<LayerWeights> layers;
  std::vector<std::unique_ptr<float[]>> owned;  // converted small vectors
  ReservedMemory prompt_panels;                 // what WeightMatrix::panels point into
};

// Binds every tensor the architecture needs; errors name the tensor and the mismatch.
StatusOr<std::unique_ptr<ModelWeights>> BindWeights(const GgufFile& gguf, const ModelConfig& config);

}  // namespace r1
