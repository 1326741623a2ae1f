// moe.cc — routing on the host, expert products grouped by expert.
#include "ops/moe.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace r1 {
namespace {

using Gating = ModelConfig::ExpertGating;

// Indices of the k largest of v[0..n) into idx[0..k), largest first; ties go to the lower index.
void TopK(const float* v, int64_t n, int64_t k, int32_t* idx) {
  for (int64_t i = 0; i < n; ++i) idx[i] = static_cast<int32_t>(i);
  std::partial_sort(idx, idx + k, idx + n, [v](int32_t a, int32_t b) { return v[a] > v[b] || (v[a] == v[b] && a < b); });
}

void CountPages(const uint8_t* begin, uint64_t n, ExpertReadStats* stats) {
  if (stats == nullptr || n == 0) return;
  constexpr uint64_t kPage = 4096;
  const uint64_t a = reinterpret_cast<uintptr_t>(begin);
  stats->pages += (a + n - 1) / kPage - a / kPage + 1;
  stats->bytes += n;
}

void Multiply(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, MatMulScratch& mm,
              ExpertReadStats* stats, OpContext& ctx) {
  MatMul(w, x, n_tokens, nullptr, y, mm, ctx);
  if (stats != nullptr) {
    stats->matrices += 1;
    stats->rows += static_cast<uint64_t>(w.n_out);
    CountPages(w.data, w.row_bytes * static_cast<uint64_t>(w.n_out), stats);
  }
}

}  // namespace

void MoeScratch::Init(const ModelConfig& c, int64_t n) {
  const auto sz = [](int64_t v) { return static_cast<size_t>(v); };
  logits.assign(sz(n * c.n_experts), 0.0f);
  probs.assign(sz(c.n_experts), 0.0f);
  selection.assign(sz(c.n_experts), 0.0f);
  group_score.assign(sz(std::max<int64_t>(c.n_expert_groups, 1)), 0.0f);
  index.assign(sz(std::max(c.n_experts, c.n_expert_groups)), 0);
  selected.assign(sz(n * c.n_experts_used), 0);
  weights.assign(sz(n * c.n_experts_used), 0.0f);
  count.assign(sz(c.n_experts + 1), 0);
  slots.assign(sz(n * c.n_experts_used), 0);
  x_in.assign(sz(n * c.d_model), 0.0f);
  gate.assign(sz(n * c.d_ff_expert), 0.0f);
  up.assign(sz(n * c.d_ff_expert), 0.0f);
  down.assign(sz(n * c.d_model), 0.0f);
  out.assign(sz(n * c.n_experts_used * c.d_model), 0.0f);
}

void RouteExperts(const ModelConfig& c, const float* bias, int64_t n_tokens, MoeScratch& s) {
  const int64_t n_exp = c.n_experts, k = c.n_experts_used;
  float* probs = s.probs.data();
  float* sel = s.selection.data();
  for (int64_t t = 0; t < n_tokens; ++t) {
    const float* logits = s.logits.data() + t * n_exp;
    switch (c.expert_gating) {
      case Gating::kSoftmax: {
        const float mx = *std::max_element(logits, logits + n_exp);
        float sum = 0.0f;
        for (int64_t e = 0; e < n_exp; ++e) sum += (probs[e] = std::exp(logits[e] - mx));
        const float inv = 1.0f / sum;
        for (int64_t e = 0; e < n_exp; ++e) probs[e] *= inv;
        break;
      }
      case Gating::kSigmoid:
        for (int64_t e = 0; e < n_exp; ++e) probs[e] = 1.0f / (1.0f + std::exp(-logits[e]));
        break;
      case Gating::kSoftmaxWeight:
        std::copy(logits, logits + n_exp, probs);
        break;
    }
    // The bias steers selection only; the weights come from the unbiased probabilities.
    for (int64_t e = 0; e < n_exp; ++e) sel[e] = probs[e] + (bias ? bias[e] : 0.0f);
    if (c.n_expert_groups > 1) {
      const int64_t per_group = n_exp / c.n_expert_groups;
      for (int64_t g = 0; g < c.n_expert_groups; ++g) {
        float best = -std::numeric_limits<float>::infinity(), second = best;
        for (int64_t e = g * per_group; e < (g + 1) * per_group; ++e) {
          if (sel[e] > best) {
            second = best;
            best = sel[e];
          } else if (sel[e] > second) {
            second = sel[e];
          }
        }
        s.group_score[static_cast<size_t>(g)] = best + second;
      }
      TopK(s.group_score.data(), c.n_expert_groups, c.n_expert_groups_used, s.index.data());
      std::vector<int32_t>::iterator used_end = s.index.begin() + c.n_expert_groups_used;
      for (int64_t g = 0; g < c.n_expert_groups; ++g) {
        if (std::find(s.index.begin(), used_end, static_cast<int32_t>(g)) != used_end) continue;
        std::fill(sel + g * per_group, sel + (g + 1) * per_group, -std::numeric_limits<float>::infinity());
      }
    }
    TopK(sel, n_exp, k, s.index.data());
    int32_t* chosen = s.selected.data() + t * k;
    float* w = s.weights.data() + t * k;
    for (int64_t i = 0; i < k; ++i) {
      chosen[i] = s.index[static_cast<size_t>(i)];
      w[i] = probs[chosen[i]];
    }
    if (c.expert_gating == Gating::kSoftmaxWeight) {
      const float mx = *std::max_element(w, w + k);
      float sum = 0.0f;
      for (int64_t i = 0; i < k; ++i) sum += (w[i] = std::exp(w[i] - mx));
      for (int64_t i = 0; i < k; ++i) w[i] /= sum;
    }
    if (c.expert_weights_norm) {
      float sum = 0.0f;
      for (int64_t i = 0; i < k; ++i) sum += w[i];
      sum = std::max(sum, 6.103515625e-5f);  // the smallest normal f16, as llama.cpp clamps
      for (int64_t i = 0; i < k; ++i) w[i] /= sum;
    }
    if (c.expert_weights_scale != 0.0f && c.expert_weights_scale != 1.0f) {
      for (int64_t i = 0; i < k; ++i) w[i] *= c.expert_weights_scale;
    }
  }
}

void MoeFeedForward(const ModelConfig& c, const RoutedExperts& experts, const float* x, int64_t n_tokens, float* out,
                    MoeScratch& s, MatMulScratch& mm, ExpertReadStats* stats, OpContext& ctx) {
  const int64_t d = c.d_model, k = c.n_experts_used, n_exp = c.n_experts;
  MatMul(experts.router, x, n_tokens, nullptr, s.logits.data(), mm, ctx);  // [n_tokens, n_experts]
  RouteExperts(c, experts.selection_bias, n_tokens, s);

  // Group the (token, slot) pairs by expert: counting sort over the selected ids.
  std::fill(s.count.begin(), s.count.end(), 0);
  for (int64_t i = 0; i < n_tokens * k; ++i) ++s.count[static_cast<size_t>(s.selected[static_cast<size_t>(i)]) + 1];
  for (int64_t e = 0; e < n_exp; ++e) s.count[static_cast<size_t>(e + 1)] += s.count[static_cast<size_t>(e)];
  for (int64_t i = 0; i < n_tokens * k; ++i) {
    const int32_t e = s.selected[static_cast<size_t>(i)];
    s.slots[static_cast<size_t>(s.count[static_cast<size_t>(e)]++)] = static_cast<int32_t>(i);
  }
  // count[e] now holds the end of expert e's run; its start is count[e - 1] (0 for e = 0).
  for (int64_t e = 0; e < n_exp; ++e) {
    const int32_t begin = e == 0 ? 0 : s.count[static_cast<size_t>(e - 1)];
    const int32_t end = s.count[static_cast<size_t>(e)];
    const int64_t m = end - begin;
    if (m == 0) continue;
    for (int64_t r = 0; r < m; ++r) {
      const int64_t t = s.slots[static_cast<size_t>(begin + r)] / k;
      std::memcpy(s.x_in.data() + r * d, x + t * d, static_cast<size_t>(d) * sizeof(float));
    }
    Multiply(experts.gate.Expert(e), s.x_in.data(), m, s.gate.data(), mm, stats, ctx);
    Multiply(experts.up.Expert(e), s.x_in.data(), m, s.up.data(), mm, stats, ctx);
    // Row by row: the SIMD body and the scalar tail round differently, so where a row starts
    // must not depend on how many tokens chose this expert.
    for (int64_t r = 0; r < m; ++r) {
      float* g = s.gate.data() + r * c.d_ff_expert;
      ctx.kernels->silu_mul(g, s.up.data() + r * c.d_ff_expert, g, static_cast<size_t>(c.d_ff_expert));
    }
    Multiply(experts.down.Expert(e), s.gate.data(), m, s.down.data(), mm, stats, ctx);
    for (int64_t r = 0; r < m; ++r) {
      const int32_t slot = s.slots[static_cast<size_t>(begin + r)];
      const float w = s.weights[static_cast<size_t>(slot)];
      float* dst = s.out.data() + static_cast<int64_t>(slot) * d;
      const float* src = s.down.data() + r * d;
      for (int64_t i = 0; i < d; ++i) dst[i] = src[i] * w;
    }
  }
  // Sum each token's weighted expert outputs in slot order (best expert first).
  for (int64_t t = 0; t < n_tokens; ++t) {
    float* o = out + t * d;
    std::memcpy(o, s.out.data() + t * k * d, static_cast<size_t>(d) * sizeof(float));
    for (int64_t i = 1; i < k; ++i) ctx.kernels->add(o, s.out.data() + (t * k + i) * d, o, static_cast<size_t>(d));
  }
}

}  // namespace r1
