// moe.h — mixture-of-experts feed-forward (DeepSeek-V2/V3): routing and the routed experts.
//
// Each token's router picks n_experts_used experts; only those experts' matrices are
// multiplied, so only their rows of the (memory-mapped) weights are read. Tokens of a batch
// that picked the same expert are multiplied together, each expert's weights read once.
#pragma once

#include <cstdint>
#include <vector>

#include "ops/matmul.h"
#include "ops/op_context.h"
#include "r1/model.h"
#include "tensor/weight_view.h"

namespace r1 {

// What the routed experts read from the weights, summed over calls (a debug statistic).
struct ExpertReadStats {
  uint64_t matrices = 0;  // expert matrices multiplied (3 per selected expert per batch)
  uint64_t rows = 0;      // weight rows read
  uint64_t bytes = 0;     // weight bytes read
  uint64_t pages = 0;     // 4 KiB file pages those bytes lie on
};

// Buffers sized once for the largest batch.
struct MoeScratch {
  std::vector<float> logits;      // [max_tokens, n_experts] router output
  std::vector<float> probs;       // [n_experts] one token's gate probabilities
  std::vector<float> selection;   // [n_experts] probabilities plus bias, groups masked
  std::vector<float> group_score; // [n_expert_groups]
  std::vector<int32_t> index;     // [max(n_experts, n_expert_groups)] sort order
  std::vector<int32_t> selected;  // [max_tokens, n_used] expert ids, best first
  std::vector<float> weights;     // [max_tokens, n_used]
  std::vector<int32_t> count;     // [n_experts + 1] slots per expert, then offsets
  std::vector<int32_t> slots;     // [max_tokens * n_used] (token * n_used + slot), grouped by expert
  std::vector<float> x_in;        // [max_tokens, d_model] rows of the tokens of one expert
  std::vector<float> gate, up;    // [max_tokens, d_ff_expert]
  std::vector<float> down;        // [max_tokens, d_model]
  std::vector<float> out;         // [max_tokens, n_used, d_model] weighted expert outputs

  void Init(const ModelConfig& c, int64_t max_tokens);
};

// Fills s.selected and s.weights for n_tokens rows of router logits s.logits, as the metadata
// says: softmax or sigmoid gates, selection bias (exp_probs_b, selection only), group-limited
// choice (sum of each group's two best), weight normalization and scale.
void RouteExperts(const ModelConfig& c, const float* exp_probs_b, int64_t n_tokens, MoeScratch& s);

// out[t] = sum over token t's selected experts of weight * W_down(silu(W_gate x) * W_up x).
//   x: [n_tokens, d_model], out: [n_tokens, d_model].
void MoeFeedForward(const ModelConfig& c, const RoutedExperts& experts, const float* x, int64_t n_tokens, float* out,
                    MoeScratch& s, MatMulScratch& mm, ExpertReadStats* stats, OpContext& ctx);

}  // namespace r1
