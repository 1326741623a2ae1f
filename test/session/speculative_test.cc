// Speculative decoding (Session::SetDraft): the output is the target's own, token for token,
// with a draft that agrees always (the target itself) or rarely (a heavily perturbed copy),
// greedy and sampled; sampled tokens follow the target's distribution (chi-square); the context
// afterwards is the one decoding alone leaves; bad drafts are refused.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <filesystem>
#include <fstream>
#include <random>

#include "gguf/gguf_reader.h"
#include "r1/session.h"
#include "session/model_drafter.h"
#include "support/test_util.h"

R1_TEST_NEEDS_SHARED_DIR();

namespace r1 {
namespace {

std::shared_ptr<const Model> LoadShared(const std::string& name) {
  auto model = Model::Load(*test::SharedDir() + "/models/" + name);
  REQUIRE_MESSAGE(model.ok(), model.status().ToString());
  return *std::move(model);
}

std::unique_ptr<Session> Open(std::shared_ptr<const Model> model, int64_t n_ctx = 512) {
  SessionOptions o;
  o.n_ctx = n_ctx;
  o.n_threads = 2;
  auto s = Session::Create(std::move(model), o);
  REQUIRE_MESSAGE(s.ok(), s.status().ToString());
  return *std::move(s);
}

GenerateOptions Options(float temperature, uint64_t seed, int64_t n) {
  GenerateOptions o;
  o.max_new_tokens = n;
  o.sampler.temperature = temperature;
  o.sampler.seed = seed;
  return o;
}

GenerateResult Run(Session& s, const std::string& prompt, const GenerateOptions& o) {
  auto r = s.Generate(prompt, o);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return *std::move(r);
}

// A copy of a model with noise of relative size `strength` in its f32 feed-forward output
// weights: the same vocabulary, a draft that agrees with the original less as strength grows.
std::shared_ptr<const Model> Perturbed(const std::string& name, float strength) {
  const std::string src = *test::SharedDir() + "/models/" + name;
  auto file = GgufFile::Open(src);
  REQUIRE(file.ok());
  std::vector<uint8_t> bytes((*file)->bytes().begin(), (*file)->bytes().end());
  std::mt19937 rng(11);
  std::normal_distribution<float> noise(0.0f, strength);
  int perturbed = 0;
  for (const GgufTensorInfo& t : (*file)->tensors()) {
    if (t.type != DType::kF32 || std::string(t.name).find("ffn_down") == std::string::npos) continue;
    float* w = reinterpret_cast<float*>(bytes.data() + (t.data - (*file)->bytes().data()));
    for (uint64_t i = 0; i < t.n_bytes / sizeof(float); ++i) w[i] *= 1.0f + noise(rng);
    ++perturbed;
  }
  REQUIRE(perturbed > 0);
  const std::string out = (std::filesystem::temp_directory_path() /
                           ("r1-draft-" + std::to_string(strength) + "-" + name)).string();
  std::ofstream(out, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  auto model = Model::Load(out);
  std::filesystem::remove(out);  // the mapping stays valid
  REQUIRE_MESSAGE(model.ok(), model.status().ToString());
  return *std::move(model);
}

constexpr const char* kPrompt = "Once upon a time, there was a little girl who";

TEST_CASE("greedy and sampled output with a draft is the target's own, token for token") {
  const auto target = LoadShared("stories260K-q8dequant.gguf");
  struct Draft {
    std::shared_ptr<const Model> model;
    const char* what;
  };
  const Draft drafts[] = {{target, "the target itself (agrees always)"},
                          {Perturbed("stories260K-q8dequant.gguf", 2.0f), "a heavily perturbed copy (agrees rarely)"}};
  for (const Draft& draft : drafts) {
    for (const auto& [temperature, seed] : {std::pair{0.0f, uint64_t{1}}, {1.0f, uint64_t{7}}, {0.8f, uint64_t{42}}}) {
      INFO(std::string(draft.what));
      CAPTURE(temperature);
      const GenerateOptions o = Options(temperature, seed, 300);
      auto alone = Open(target);
      const GenerateResult want = Run(*alone, kPrompt, o);
      auto with_draft = Open(target);
      REQUIRE(with_draft->SetDraft(draft.model, {.max_draft_tokens = 6}).ok());
      const GenerateResult got = Run(*with_draft, kPrompt, o);
      CHECK(got.tokens == want.tokens);
      CHECK(got.content == want.content);
      CHECK(got.stop_reason == want.stop_reason);
      CHECK(got.n_drafted_tokens > 0);
      if (draft.model == target && temperature == 0.0f) CHECK(got.acceptance_rate() > 0.99);
      MESSAGE(std::string(draft.what) << ", temperature " << temperature << ": " << got.n_accepted_tokens << " of "
                         << got.n_drafted_tokens << " guesses kept");
      // The context holds what decoding alone leaves: prompt and output, the rejected guesses gone.
      const auto want_context = alone->tokens(), got_context = with_draft->tokens();
      CHECK(std::vector<int32_t>(got_context.begin(), got_context.end()) ==
            std::vector<int32_t>(want_context.begin(), want_context.end()));
      // And the last kept token's logits, as decoding alone leaves them.
      const auto a = with_draft->Logits(), b = alone->Logits();
      REQUIRE(a.size() == b.size());
      CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
    }
  }
}

// Pearson's chi-square statistic of `counts` against probabilities `p` (bins expected fewer than
// five times pooled into one), with its degrees of freedom.
std::pair<double, int> ChiSquare(const std::map<int32_t, int>& counts, const std::vector<double>& p, int n) {
  double chi2 = 0, pooled_expected = 0, pooled_seen = 0;
  int bins = 0;
  for (size_t id = 0; id < p.size(); ++id) {
    const double expected = p[id] * n;
    const auto it = counts.find(static_cast<int32_t>(id));
    const double seen = it == counts.end() ? 0 : it->second;
    if (expected < 5) {
      pooled_expected += expected;
      pooled_seen += seen;
      continue;
    }
    chi2 += (seen - expected) * (seen - expected) / expected;
    ++bins;
  }
  if (pooled_expected > 0) {
    chi2 += (pooled_seen - pooled_expected) * (pooled_seen - pooled_expected) / pooled_expected;
    ++bins;
  }
  return {chi2, bins - 1};
}

// The chi-square value exceeded with probability 1e-4 at `df` degrees of freedom
// (Wilson–Hilferty).
double ChiSquareCritical(int df) {
  const double k = df, z = 3.719;
  return k * std::pow(1 - 2 / (9 * k) + z * std::sqrt(2 / (9 * k)), 3);
}

int32_t MostCommon(const std::map<int32_t, int>& counts) {
  return std::max_element(counts.begin(), counts.end(), [](auto& a, auto& b) { return a.second < b.second; })->first;
}

// How often each token follows `prefix` at the start of `outputs`; *n: the outputs that start so.
std::map<int32_t, int> CountAfter(const std::vector<std::vector<int32_t>>& outputs,
                                  const std::vector<int32_t>& prefix, int* n) {
  std::map<int32_t, int> counts;
  *n = 0;
  for (const auto& t : outputs) {
    if (t.size() <= prefix.size() || !std::equal(prefix.begin(), prefix.end(), t.begin())) continue;
    ++counts[t[prefix.size()]];
    ++*n;
  }
  return counts;
}

TEST_CASE("sampling with a draft draws each token from the target's distribution") {
  // Tokens after a checked guess, counted over many seeds at a high temperature with nothing
  // cut, against the target's own softmax at that position. The draft (a perturbed copy) is kept
  // sometimes and rejected sometimes: the second token is chosen at the checked row in both
  // cases, the third from the next checked row when the guess was kept. The seeds are fixed:
  // the outcome is the same on every run.
  const auto target = LoadShared("stories260K-q8dequant.gguf");
  const auto draft = Perturbed("stories260K-q8dequant.gguf", 0.3f);
  auto session = Open(target);
  REQUIRE(session->SetDraft(draft, {.max_draft_tokens = 2, .adaptive = false}).ok());
  constexpr int kRuns = 3000;
  constexpr float kTemperature = 1.6f;  // this model is sure of itself: spread its choices
  std::map<int32_t, int> first;
  std::vector<std::vector<int32_t>> outputs;
  std::vector<int32_t> prompt;
  int64_t drafted = 0, accepted = 0;
  for (int seed = 0; seed < kRuns; ++seed) {
    GenerateOptions o = Options(kTemperature, static_cast<uint64_t>(seed), 3);
    o.sampler.top_p = 1.0f;
    o.ignore_eos = true;
    const GenerateResult r = Run(*session, kPrompt, o);
    REQUIRE(r.tokens.size() == 3);
    ++first[r.tokens[0]];
    outputs.push_back(r.tokens);
    if (prompt.empty()) {  // the context is the prompt's tokens, then the three chosen
      const auto context = session->tokens();
      prompt.assign(context.begin(), context.end() - 3);
    }
    drafted += r.n_drafted_tokens;
    accepted += r.n_accepted_tokens;
  }
  CHECK(accepted > drafted / 10);
  CHECK(accepted < drafted * 9 / 10);
  // The second token, in the runs whose first token is the likeliest one: the first token the
  // draft's guesses decide on.
  const int32_t mode = MostCommon(first);
  int n = 0;
  const std::map<int32_t, int> second = CountAfter(outputs, {mode}, &n);
  REQUIRE(n > 300);
  // The target's distribution after `context`, at kTemperature.
  const auto softmax_after = [&](const std::vector<int32_t>& context) {
    auto fresh = Open(target);
    REQUIRE(fresh->Evaluate(context).ok());
    const auto logits = fresh->Logits();
    const float top = *std::max_element(logits.begin(), logits.end());
    std::vector<double> p(logits.size());
    double sum = 0;
    for (size_t i = 0; i < p.size(); ++i) sum += p[i] = std::exp((static_cast<double>(logits[i]) - top) / kTemperature);
    for (double& x : p) x /= sum;
    return p;
  };
  std::vector<int32_t> context = prompt;
  context.push_back(mode);
  const auto [chi2, df] = ChiSquare(second, softmax_after(context), n);
  MESSAGE("second token over " << n << " runs: chi-square " << chi2 << " at " << df << " degrees of freedom (1e-4 bound "
                               << ChiSquareCritical(df) << "); " << accepted << " of " << drafted << " guesses kept");
  REQUIRE(df >= 3);
  CHECK(chi2 < ChiSquareCritical(df));
  // The same counts against the distribution one position earlier are far off: the test can tell.
  const auto [wrong_chi2, wrong_df] = ChiSquare(second, softmax_after(prompt), n);
  CHECK(wrong_chi2 > ChiSquareCritical(wrong_df));

  // The third token after the likeliest pair: mostly chosen from the row after a kept guess.
  const int32_t mode2 = MostCommon(second);
  int n3 = 0;
  const std::map<int32_t, int> third = CountAfter(outputs, {mode, mode2}, &n3);
  REQUIRE(n3 > 200);
  context.push_back(mode2);
  const auto [chi2_3, df_3] = ChiSquare(third, softmax_after(context), n3);
  MESSAGE("third token over " << n3 << " runs: chi-square " << chi2_3 << " at " << df_3 << " degrees of freedom");
  REQUIRE(df_3 >= 2);
  CHECK(chi2_3 < ChiSquareCritical(df_3));
}

TEST_CASE("with every shared model as its own draft, greedy output is unchanged") {
  int compared = 0;
  for (const std::string& path : test::SharedModelPaths()) {
    auto model = Model::Load(path);
    REQUIRE_MESSAGE(model.ok(), model.status().ToString());
    if ((*model)->tokenizer() == nullptr) continue;
    INFO(path);
    const std::vector<int32_t> prompt = {1, 2, 3, 4, 5};
    GenerateOptions o = Options(0.0f, 1, 40);
    o.ignore_eos = true;
    auto alone = Open(*model, 128);
    auto want = alone->GenerateFromTokens(prompt, o);
    REQUIRE_MESSAGE(want.ok(), want.status().ToString());
    auto drafted = Open(*model, 128);
    REQUIRE(drafted->SetDraft(*model, {.max_draft_tokens = 5}).ok());
    auto got = drafted->GenerateFromTokens(prompt, o);
    REQUIRE_MESSAGE(got.ok(), got.status().ToString());
    CHECK(got->tokens == want->tokens);
    CHECK(got->n_drafted_tokens > 0);
    ++compared;
  }
  CHECK(compared >= 3);
}

TEST_CASE("after a draft's guesses are rejected, the cache is as if they were never seen") {
  const auto target = LoadShared("stories260K-q8dequant.gguf");
  auto s = Open(target);
  REQUIRE(s->SetDraft(Perturbed("stories260K-q8dequant.gguf", 2.0f), {.max_draft_tokens = 8, .adaptive = false}).ok());
  const GenerateResult r = Run(*s, kPrompt, Options(0.0f, 1, 120));
  REQUIRE(r.n_drafted_tokens > r.n_accepted_tokens);  // some guesses were rolled back
  // The next token's logits from the speculative session's cache equal a fresh evaluation's.
  const std::vector<int32_t> context(s->tokens().begin(), s->tokens().end());
  const int32_t probe = 42;
  REQUIRE(s->Evaluate({&probe, 1}).ok());
  auto fresh = Open(target);
  std::vector<int32_t> all = context;
  all.push_back(probe);
  for (int32_t t : all) REQUIRE(fresh->Evaluate({&t, 1}).ok());
  const auto a = s->Logits(), b = fresh->Logits();
  REQUIRE(a.size() == b.size());
  CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

TEST_CASE("the draft length follows what is kept, and a draft that keeps nothing rests") {
  const auto model = LoadShared("stories260K-q8dequant.gguf");
  auto target = Open(model);
  auto made = ModelDrafter::Create(model, *target, {.max_draft_tokens = 6});
  REQUIRE(made.ok());
  Drafter& d = **made;
  const auto lengths = [&](int n) {
    std::vector<int64_t> got;
    for (int i = 0; i < n; ++i) got.push_back(d.NextLength());
    return got;
  };
  CHECK(d.NextLength() == 6);
  d.Record(6, 6);
  CHECK(d.NextLength() == 6);  // at the cap
  d.Record(6, 2);
  CHECK(d.NextLength() == 3);  // one more than kept
  d.Record(3, 3);
  CHECK(d.NextLength() == 4);
  d.Record(4, 0);  // nothing kept: rest one round, then one guess
  CHECK(lengths(2) == std::vector<int64_t>{0, 1});
  d.Record(1, 0);  // again: the rest doubles
  CHECK(lengths(3) == std::vector<int64_t>{0, 0, 1});
  d.Record(1, 0);
  CHECK(lengths(5) == std::vector<int64_t>{0, 0, 0, 0, 1});
  for (int i = 0; i < 10; ++i) {
    d.Record(1, 0);
    (void)lengths(static_cast<int>(Drafter::kMaxRest) + 1);
  }
  d.Record(1, 0);  // capped
  CHECK(lengths(static_cast<int>(Drafter::kMaxRest) + 1).back() == 1);
  d.Record(1, 1);  // a kept guess ends the resting
  CHECK(lengths(2) == std::vector<int64_t>{2, 2});
  d.Record(2, 0);
  CHECK(lengths(2) == std::vector<int64_t>{0, 1});

  auto fixed = ModelDrafter::Create(model, *target, {.max_draft_tokens = 5, .adaptive = false});
  REQUIRE(fixed.ok());
  (*fixed)->Record(5, 0);
  CHECK((*fixed)->NextLength() == 5);
}

TEST_CASE("the draft length adapts, the context limit holds, and bad drafts are refused") {
  const auto target = LoadShared("stories260K-q8dequant.gguf");
  auto s = Open(target, 64);
  CHECK(s->SetDraft(nullptr).code() == absl::StatusCode::kInvalidArgument);
  CHECK(s->SetDraft(target, {.max_draft_tokens = 0}).code() == absl::StatusCode::kInvalidArgument);
  CHECK(s->SetDraft(target, {.max_draft_tokens = kMaxDraftTokens + 1}).code() == absl::StatusCode::kInvalidArgument);
  CHECK_FALSE(s->has_draft());
  // A vocabulary that spells its tokens otherwise.
  const auto other = LoadShared("aidreams260K.gguf");
  const Status mismatch = s->SetDraft(other);
  CHECK(mismatch.code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(mismatch.message()).find("vocabulary") != std::string::npos);
  CHECK_FALSE(s->has_draft());

  // Up to the end of a small context: the last round's guesses are cut to the room left.
  REQUIRE(s->SetDraft(target, {.max_draft_tokens = kMaxDraftTokens}).ok());
  GenerateOptions o = Options(0.0f, 1, -1);
  o.ignore_eos = true;
  const GenerateResult r = Run(*s, kPrompt, o);
  CHECK(r.stop_reason == StopReason::kContextFull);
  CHECK(s->n_past() <= s->n_ctx());
  auto alone = Open(target, 64);
  const GenerateResult want = Run(*alone, kPrompt, o);
  CHECK(r.tokens == want.tokens);
  s->ClearDraft();
  CHECK_FALSE(s->has_draft());
}

}  // namespace
}  // namespace r1
