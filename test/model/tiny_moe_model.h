// tiny_moe_model.h — random-weight deepseek2 models (MLA attention, mixture of experts, YaRN)
// of any shape, written as GGUF files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "r1/dtype.h"

namespace r1::test {

struct TinyMoeSpec {
  int64_t n_vocab = 61;
  int64_t d_model = 64;
  int64_t n_layers = 3;
  int64_t n_dense_lead = 1;
  int64_t n_heads = 4;
  int64_t q_lora_rank = 32;   // 0: a plain attn_q
  int64_t kv_lora_rank = 32;
  int64_t qk_nope = 32;
  int64_t n_rot = 16;
  int64_t v_head = 32;
  int64_t d_ff = 96;          // dense layers
  int64_t d_ff_expert = 32;
  int64_t n_experts = 8;
  int64_t n_experts_used = 2;  // written as is, even when invalid
  int64_t n_shared = 1;
  int64_t n_groups = 0;        // 0: no expert groups
  int64_t n_groups_used = 0;
  int gating = 2;              // 1 softmax, 2 sigmoid, 3 softmax over the selected
  bool weights_norm = true;
  float weights_scale = 2.5f;
  bool probs_bias = true;      // exp_probs_b
  float yarn_factor = 4.0f;    // 0: no rope scaling
  float yarn_log_mul = 0.1f;   // as converters store it (0.1 * mscale_all_dim)
  int64_t yarn_orig_ctx = 64;
  bool legacy_kv_b = false;    // one attn_kv_b instead of attn_k_b / attn_v_b (same weights)
  DType matrix_type = DType::kF32;
  uint64_t seed = 1;
  int64_t n_nextn = 0;         // trailing MTP blocks (counted in block_count, with nextn.* tensors)
  bool tokenizer = false;      // a byte-level BPE vocabulary of one printable character per id
};

// Writes the model to a fresh file under the temp directory and returns its path.
std::string WriteTinyMoeModel(const TinyMoeSpec& spec);

// Every position's logits [n_tokens][n_vocab] of the f32 deepseek2 model at `path`, computed
// independently of r1 in double precision from the file's tensors: keys and values
// decompressed per head, YaRN angles and scales from their definitions, experts routed by a
// plain sort.
std::vector<float> ReferenceMoeForward(const std::string& path, const std::vector<int32_t>& tokens);

// The same file's multi-token-prediction (nextn) block, by its definition: row i (of
// tokens.size() - 1) is eh_proj [enorm(embedding of token i + 1), hnorm(the model's last hidden
// state at i)] through the block at position i, then shared_head_norm (else output_norm) and
// the output matrix: [n_tokens - 1][n_vocab], each the guess of token i + 2.
std::vector<float> ReferenceNextnForward(const std::string& path, const std::vector<int32_t>& tokens);

}  // namespace r1::test
