// r1/sampler.h — choosing the next token from logits.
//
// The chain, in order: repetition / presence / frequency penalties over the last
// `penalty_window` accepted tokens, top-k, top-p, min-p, temperature, then a draw from the
// remaining distribution with the sampler's own seeded generator. Temperature 0 is greedy
// (the lowest id wins ties). The same seed and settings give the same tokens on every run.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "absl/types/span.h"
#include "r1/status.h"

namespace r1 {

struct SamplerConfig {
  // DeepSeek's advice for R1 models: temperature 0.6, top-p 0.95.
  float temperature = 0.6f;    // 0 = greedy
  int32_t top_k = 0;           // keep the k most likely; 0 = off
  float top_p = 0.95f;         // keep the smallest set whose probability reaches p; 1 = off
  float min_p = 0.0f;          // drop tokens less likely than min_p × the most likely; 0 = off
  float repeat_penalty = 1.0f; // divide positive / multiply negative logits of recent tokens; 1 = off
  float presence_penalty = 0.0f;   // subtracted once from each recent token's logit
  float frequency_penalty = 0.0f;  // subtracted per occurrence in the window
  int32_t penalty_window = 64;     // how many recent tokens the penalties look at
  uint64_t seed = 0;
};

class Sampler {
 public:
  // Checks the settings (finite, in range) and sizes the candidate buffer for n_vocab.
  static StatusOr<Sampler> Create(const SamplerConfig& config, int64_t n_vocab);

  // Picks a token from `logits` ([n_vocab]); does not record it (see Accept).
  StatusOr<int32_t> Sample(absl::Span<const float> logits);
  // Records a token the model was given (prompt or generated) for the penalties.
  void Accept(int32_t token);
  // Forgets accepted tokens and restarts the generator from the seed.
  void Reset();

  const SamplerConfig& config() const { return config_; }

 private:
  struct Candidate {
    float logit;
    int32_t id;
  };
  Sampler(const SamplerConfig& config, int64_t n_vocab);
  void ApplyPenalties();
  void KeepTopK(size_t k);
  void SoftmaxSorted(float temperature);  // candidates sorted by logit, descending
  double NextUniform();                   // [0, 1)

  SamplerConfig config_;
  int64_t n_vocab_;
  std::vector<Candidate> candidates_;
  std::vector<float> probs_;
  std::deque<int32_t> recent_;
  std::vector<int32_t> counts_;  // occurrences of each id in recent_
  uint64_t state_[4];            // xoshiro256** generator
};

}  // namespace r1
