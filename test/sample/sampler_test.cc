// Each step of the sampling chain on crafted logits, and reproducibility per seed.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <vector>

#include "r1/sampler.h"

namespace r1 {
namespace {

Sampler Make(SamplerConfig c, int64_t n_vocab) {
  auto s = Sampler::Create(c, n_vocab);
  REQUIRE(s.ok());
  return *std::move(s);
}

// Logits whose softmax is `probs`.
std::vector<float> FromProbs(const std::vector<double>& probs) {
  std::vector<float> out;
  for (double p : probs) out.push_back(float(std::log(p)));
  return out;
}

std::map<int32_t, int> Histogram(Sampler& s, const std::vector<float>& logits, int n) {
  std::map<int32_t, int> h;
  for (int i = 0; i < n; ++i) ++h[*s.Sample(logits)];
  return h;
}

TEST_SUITE("sampler") {

TEST_CASE("temperature 0 is greedy, lowest id on ties") {
  SamplerConfig c;
  c.temperature = 0;
  Sampler s = Make(c, 5);
  CHECK(*s.Sample(std::vector<float>{0.1f, 3.0f, -1.0f, 3.0f, 2.9f}) == 1);
}

TEST_CASE("draws follow the softmax when nothing filters") {
  SamplerConfig c;
  c.temperature = 1.0f;
  c.top_p = 1.0f;
  c.seed = 7;
  Sampler s = Make(c, 4);
  const std::vector<double> p = {0.5, 0.25, 0.15, 0.10};
  const auto h = Histogram(s, FromProbs(p), 20000);
  for (int i = 0; i < 4; ++i) CHECK(h.count(i) ? h.at(i) / 20000.0 : 0.0 == doctest::Approx(p[i]).epsilon(0.05));
}

TEST_CASE("top-k keeps the k most likely") {
  SamplerConfig c;
  c.temperature = 1.0f;
  c.top_p = 1.0f;
  c.top_k = 2;
  Sampler s = Make(c, 5);
  const auto h = Histogram(s, FromProbs({0.1, 0.3, 0.05, 0.35, 0.2}), 5000);
  CHECK(h.size() == 2);
  CHECK(h.count(1) == 1);
  CHECK(h.count(3) == 1);
  CHECK(h.at(3) / 5000.0 == doctest::Approx(0.35 / 0.65).epsilon(0.06));
}

TEST_CASE("top-p keeps the smallest set reaching p") {
  SamplerConfig c;
  c.temperature = 1.0f;
  c.top_p = 0.75f;  // 0.5 + 0.3 reaches it, 0.5 alone does not
  Sampler s = Make(c, 4);
  const auto h = Histogram(s, FromProbs({0.15, 0.5, 0.05, 0.3}), 5000);
  CHECK(h.size() == 2);
  CHECK(h.count(1) == 1);
  CHECK(h.count(3) == 1);
  CHECK(h.at(1) / 5000.0 == doctest::Approx(0.625).epsilon(0.05));
}

TEST_CASE("min-p drops tokens below min_p times the best") {
  SamplerConfig c;
  c.temperature = 1.0f;
  c.top_p = 1.0f;
  c.min_p = 0.5f;
  Sampler s = Make(c, 4);
  const auto h = Histogram(s, FromProbs({0.4, 0.19, 0.21, 0.2}), 3000);
  CHECK(h.count(0) == 1);
  CHECK(h.count(2) == 1);
  CHECK(h.count(3) == 1);
  CHECK(h.count(1) == 0);
}

TEST_CASE("temperature sharpens and flattens") {
  SamplerConfig c;
  c.top_p = 1.0f;
  c.temperature = 0.1f;
  Sampler cold = Make(c, 2);
  const auto logits = FromProbs({0.6, 0.4});
  CHECK(Histogram(cold, logits, 2000)[0] > 1950);  // (0.6/0.4)^10 ≈ 58 : 1
  c.temperature = 100.0f;
  Sampler hot = Make(c, 2);
  CHECK(Histogram(hot, logits, 4000)[0] / 4000.0 == doctest::Approx(0.5).epsilon(0.06));
}

TEST_CASE("penalties act on recent tokens only") {
  SamplerConfig c;
  c.temperature = 0;
  c.repeat_penalty = 2.0f;
  c.penalty_window = 2;
  Sampler s = Make(c, 3);
  const std::vector<float> logits = {3.0f, 2.0f, -1.0f};
  CHECK(*s.Sample(logits) == 0);
  s.Accept(0);  // 3 / 2 = 1.5 < 2
  CHECK(*s.Sample(logits) == 1);
  s.Accept(1);  // both penalised: 1.5 vs 1.0
  CHECK(*s.Sample(logits) == 0);
  s.Accept(2);
  s.Accept(2);  // the window (2) now holds only id 2
  CHECK(*s.Sample(logits) == 0);

  SamplerConfig f;
  f.temperature = 0;
  f.frequency_penalty = 0.6f;
  f.presence_penalty = 0.5f;
  Sampler g = Make(f, 3);
  g.Accept(0);
  CHECK(*g.Sample(std::vector<float>{3.0f, 2.0f, 0.0f}) == 1);  // 3 - 0.6 - 0.5 = 1.9 < 2
  Sampler h = Make(f, 3);
  h.Accept(0);
  CHECK(*h.Sample(std::vector<float>{3.2f, 2.0f, 0.0f}) == 0);  // 2.1 > 2
  h.Accept(0);
  CHECK(*h.Sample(std::vector<float>{3.2f, 2.0f, 0.0f}) == 1);  // 3.2 - 1.2 - 0.5 = 1.5
}

TEST_CASE("the same seed gives the same tokens; Reset restarts") {
  SamplerConfig c;
  c.temperature = 1.0f;
  c.seed = 1234;
  std::vector<float> logits(1000);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = float(std::sin(double(i)) * 3.0);
  Sampler a = Make(c, 1000), b = Make(c, 1000);
  std::vector<int32_t> sa, sb;
  for (int i = 0; i < 200; ++i) {
    sa.push_back(*a.Sample(logits));
    sb.push_back(*b.Sample(logits));
  }
  CHECK(sa == sb);
  a.Reset();
  std::vector<int32_t> again;
  for (int i = 0; i < 200; ++i) again.push_back(*a.Sample(logits));
  CHECK(again == sa);
  c.seed = 1235;
  Sampler other = Make(c, 1000);
  std::vector<int32_t> so;
  for (int i = 0; i < 200; ++i) so.push_back(*other.Sample(logits));
  CHECK(so != sa);
}

TEST_CASE("bad settings and inputs are errors") {
  SamplerConfig c;
  c.temperature = -1;
  CHECK_FALSE(Sampler::Create(c, 10).ok());
  c = {};
  c.top_p = 0;
  CHECK_FALSE(Sampler::Create(c, 10).ok());
  c = {};
  c.min_p = 2;
  CHECK_FALSE(Sampler::Create(c, 10).ok());
  c = {};
  c.repeat_penalty = NAN;
  CHECK_FALSE(Sampler::Create(c, 10).ok());
  CHECK_FALSE(Sampler::Create({}, 0).ok());
  Sampler s = Make({}, 3);
  CHECK_FALSE(s.Sample(std::vector<float>{1.0f, 2.0f}).ok());
  CHECK_FALSE(s.Sample(std::vector<float>{1.0f, NAN, 0.0f}).ok());
  s.Accept(-5);  // ignored, not a crash
  s.Accept(99);
  CHECK(s.Sample(std::vector<float>{1.0f, 2.0f, 0.0f}).ok());
}

}  // TEST_SUITE
}  // namespace
}  // namespace r1
