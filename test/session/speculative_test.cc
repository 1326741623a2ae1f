// Speculative decoding (Session::SetDraft): the output is the target's own, token for token,
// with a draft that agrees always (the target itself) or rarely (a heavily perturbed copy),
// greedy and sampled; the context afterwards is the one decoding alone leaves;
// bad drafts are refused.
#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <filesystem>
#include <fstream>
#include <random>

#include "gguf/gguf_reader.h"
#include "r1/session.h"
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
