// sampler.cc — the sampling chain over a preallocated candidate list.
#include "r1/sampler.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"

namespace r1 {
namespace {

uint64_t SplitMix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

bool Finite(float v) { return std::isfinite(v); }

}  // namespace

StatusOr<Sampler> Sampler::Create(const SamplerConfig& c, int64_t n_vocab) {
  if (n_vocab <= 0) return absl::InvalidArgumentError("sampler: vocabulary size must be positive");
  if (!Finite(c.temperature) || c.temperature < 0) return absl::InvalidArgumentError("sampler: temperature must be >= 0");
  if (c.top_k < 0) return absl::InvalidArgumentError("sampler: top_k must be >= 0");
  if (!Finite(c.top_p) || c.top_p <= 0 || c.top_p > 1) return absl::InvalidArgumentError("sampler: top_p must be in (0, 1]");
  if (!Finite(c.min_p) || c.min_p < 0 || c.min_p > 1) return absl::InvalidArgumentError("sampler: min_p must be in [0, 1]");
  if (!Finite(c.repeat_penalty) || c.repeat_penalty <= 0) {
    return absl::InvalidArgumentError("sampler: repeat_penalty must be > 0");
  }
  if (!Finite(c.presence_penalty) || !Finite(c.frequency_penalty)) {
    return absl::InvalidArgumentError("sampler: penalties must be finite");
  }
  if (c.penalty_window < 0) return absl::InvalidArgumentError("sampler: penalty_window must be >= 0");
  return Sampler(c, n_vocab);
}

Sampler::Sampler(const SamplerConfig& config, int64_t n_vocab)
    : config_(config), n_vocab_(n_vocab), counts_(static_cast<size_t>(n_vocab), 0) {
  candidates_.reserve(static_cast<size_t>(n_vocab));
  probs_.reserve(static_cast<size_t>(n_vocab));
  Reset();
}

void Sampler::Reset() {
  recent_.clear();
  std::fill(counts_.begin(), counts_.end(), 0);
  uint64_t s = config_.seed;
  for (uint64_t& word : state_) word = SplitMix64(s);
}

double Sampler::NextUniform() {
  const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
  const uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = Rotl(state_[3], 45);
  return static_cast<double>(result >> 11) * 0x1.0p-53;
}

void Sampler::Accept(int32_t token) {
  if (token < 0 || token >= n_vocab_ || config_.penalty_window == 0) return;
  recent_.push_back(token);
  ++counts_[static_cast<size_t>(token)];
  if (recent_.size() > static_cast<size_t>(config_.penalty_window)) {
    --counts_[static_cast<size_t>(recent_.front())];
    recent_.pop_front();
  }
}

void Sampler::ApplyPenalties() {
  const SamplerConfig& c = config_;
  if (c.repeat_penalty == 1.0f && c.presence_penalty == 0.0f && c.frequency_penalty == 0.0f) return;
  for (Candidate& cand : candidates_) {
    const int32_t n = counts_[static_cast<size_t>(cand.id)];
    if (n == 0) continue;
    cand.logit = cand.logit > 0 ? cand.logit / c.repeat_penalty : cand.logit * c.repeat_penalty;
    cand.logit -= static_cast<float>(n) * c.frequency_penalty + c.presence_penalty;
  }
}

void Sampler::KeepTopK(size_t k) {
  k = std::min(k, candidates_.size());
  const auto before = [](const Candidate& a, const Candidate& b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
  };
  std::partial_sort(candidates_.begin(), candidates_.begin() + static_cast<ptrdiff_t>(k), candidates_.end(), before);
  candidates_.resize(k);
}

void Sampler::SoftmaxSorted(float temperature) {
  probs_.resize(candidates_.size());
  const float max = candidates_.front().logit;
  double sum = 0;
  for (size_t i = 0; i < candidates_.size(); ++i) {
    probs_[i] = std::exp((candidates_[i].logit - max) / temperature);
    sum += probs_[i];
  }
  for (float& p : probs_) p = static_cast<float>(p / sum);
}

StatusOr<int32_t> Sampler::Sample(absl::Span<const float> logits) {
  if (static_cast<int64_t>(logits.size()) != n_vocab_) {
    return absl::InvalidArgumentError(
        absl::StrFormat("sampler: %d logits given for a vocabulary of %d", logits.size(), n_vocab_));
  }
  candidates_.clear();
  for (size_t i = 0; i < logits.size(); ++i) {
    if (std::isnan(logits[i])) return absl::InvalidArgumentError(absl::StrFormat("sampler: logit %d is NaN", i));
    candidates_.push_back({logits[i], static_cast<int32_t>(i)});
  }
  ApplyPenalties();
  const SamplerConfig& c = config_;
  if (c.temperature == 0.0f) {
    KeepTopK(1);
    return candidates_.front().id;
  }
  if (c.top_k == 0) {
    // Tokens more than 30 (× temperature) below the best have probability < e^-30 relative to
    // it at every step below; dropping them first spares sorting the whole vocabulary and
    // changes no cumulative sum by more than f32 rounding.
    float max = candidates_.front().logit;
    for (const Candidate& cand : candidates_) max = std::max(max, cand.logit);
    const float cutoff = max - 30.0f * std::max(1.0f, c.temperature);
    candidates_.erase(std::remove_if(candidates_.begin(), candidates_.end(),
                                     [cutoff](const Candidate& cand) { return cand.logit < cutoff; }),
                      candidates_.end());
  }
  // Sorted, descending; top-k narrows the sort when it is set.
  KeepTopK(c.top_k > 0 ? static_cast<size_t>(c.top_k) : candidates_.size());
  if (c.top_p < 1.0f) {
    SoftmaxSorted(1.0f);
    double cumulative = 0;
    size_t keep = candidates_.size();
    for (size_t i = 0; i < probs_.size(); ++i) {
      cumulative += probs_[i];
      if (cumulative >= c.top_p) {
        keep = i + 1;
        break;
      }
    }
    candidates_.resize(keep);
  }
  if (c.min_p > 0.0f) {
    SoftmaxSorted(1.0f);
    const float threshold = c.min_p * probs_.front();
    size_t keep = 1;
    while (keep < probs_.size() && probs_[keep] >= threshold) ++keep;
    candidates_.resize(keep);
  }
  SoftmaxSorted(c.temperature);
  const double u = NextUniform();
  double cumulative = 0;
  for (size_t i = 0; i < probs_.size(); ++i) {
    cumulative += probs_[i];
    if (u < cumulative) return candidates_[i].id;
  }
  return candidates_.back().id;  // u within rounding of 1
}

}  // namespace r1
