// weights.h — the model's tensors, bound by name with their shapes and types checked.
//
// Matrices stay where they lie in the file (views into the mapping); only small vectors
// (norm weights, biases) that are not stored as f32 are converted into model-owned copies.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gguf/gguf_reader.h"
#include "tensor/weight_view.h"
#include "r1/model.h"
#include "runtime/reserved_memory.h"

namespace r1 {

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
  RoutedExperts experts;             // router (ffn_gate_inp), selection bias (exp_probs_b), *_exps
  WeightMatrix gate_shexp, up_shexp;   // [d_model -> n_shared * d_ff_expert]
  WeightMatrix down_shexp;             // [n_shared * d_ff_expert -> d_model]
  bool has_shexp = false;
};

// A multi-token-prediction (MTP, "nextn") block, as DeepSeek-V3 files may carry after their
// layers: from the model's last hidden state at position i and the token at i + 1 it guesses the
// token at i + 2, through one more layer of the model's family with a cache of its own.
struct NextnWeights {
  int64_t block = 0;                 // its index among the file's blocks (blk.<block>.*)
  LayerWeights layer;
  const float* enorm = nullptr;      // [d_model] RMSNorm weight of the next token's embedding
  const float* hnorm = nullptr;      // [d_model] RMSNorm weight of the hidden state
  WeightMatrix eh_proj;              // [2 * d_model -> d_model] over [enorm(embedding), hnorm(hidden)]
  WeightMatrix embed;                // nextn.embed_tokens, else the model's token_embd
  const float* head_norm = nullptr;  // nextn.shared_head_norm, else the model's output_norm
  WeightMatrix head;                 // nextn.shared_head_head, else the model's output
};

struct ModelWeights {
  WeightMatrix token_embd;           // [d_model, n_vocab]: row t is token t's embedding
  const float* output_norm = nullptr;
  WeightMatrix output;               // [d_model -> n_vocab]; token_embd when tied
  const float* rope_freq_factors = nullptr;  // [n_rot / 2], Llama 3
  std::vector<LayerWeights> layers;
  // The file's first MTP block, when it declares one (ModelConfig::n_nextn_layers) and r1 can
  // bind it; else empty, and nextn_unusable says why when it declares one. The model runs the
  // same without: only drafting with it (Session::SetNextnDraft) needs it.
  std::vector<NextnWeights> nextn;
  std::string nextn_unusable;
  std::vector<std::unique_ptr<float[]>> owned;  // converted small vectors
  ReservedMemory prompt_panels;                 // what WeightMatrix::panels point into
  ReservedMemory interleaved;                   // what WeightMatrix::interleaved points into
};

// Every single matrix of the layers and the output that the matrix products read (the experts'
// stacks aside), for the load-time repacks.
std::vector<WeightMatrix*> ProductMatrices(ModelWeights& w);

class LayerFamily;

// Binds every tensor the model needs, each layer's as `family` says; errors name the tensor
// and the mismatch.
StatusOr<std::unique_ptr<ModelWeights>> BindWeights(const GgufFile& gguf, const ModelConfig& config,
                                                    const LayerFamily& family);

}  // namespace r1
