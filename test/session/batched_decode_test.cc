// Session::EvaluateBatch: a decode step of several sessions in one forward pass gives each
// session the logits, cache and tokens it gets stepping alone, bit for bit, for every shared model
// (each architecture and weight type) and cache type; bad batches are refused and change nothing.
// Generations stepped together (r1/generation.h: chunked prefill, batched decode) give what each
// gives alone.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "r1/generation.h"
#include "r1/session.h"
#include "support/test_util.h"

R1_TEST_NEEDS_SHARED_DIR();

namespace r1 {
namespace {

StatusOr<std::unique_ptr<Session>> Open(std::shared_ptr<const Model> model, CacheType cache, int64_t n_ctx = 96) {
  SessionOptions o;
  o.n_ctx = n_ctx;
  o.n_threads = 2;
  o.cache_type = cache;
  return Session::Create(std::move(model), o);
}

bool SameBits(absl::Span<const float> a, absl::Span<const float> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST_CASE("a batched decode step equals each session stepping alone, for every shared model") {
  constexpr int kSessions = 3, kSteps = 6;
  int compared = 0;
  for (const std::string& path : test::SharedModelPaths()) {
    auto model = Model::Load(path);
    REQUIRE_MESSAGE(model.ok(), path, ": ", model.status().ToString());
    const int32_t n_vocab = (*model)->config().n_vocab;
    for (CacheType cache : {CacheType::kF16, CacheType::kQ8_0, CacheType::kF32}) {
      INFO(std::filesystem::path(path).filename().string(), ", ", std::string(CacheTypeName(cache)), " cache");
      std::vector<std::unique_ptr<Session>> alone, together;
      bool supported = true;
      for (int i = 0; i < kSessions && supported; ++i) {
        auto a = Open(*model, cache), b = Open(*model, cache);
        if (!a.ok()) {  // q8_0 needs head sizes that are multiples of 32
          CHECK(cache == CacheType::kQ8_0);
          supported = false;
          break;
        }
        REQUIRE(b.ok());
        // Prompts of different lengths: the sessions sit at different positions.
        const auto prompt = test::RandomTokenIds(n_vocab, static_cast<size_t>(5 + 7 * i), 40 + i);
        REQUIRE((*a)->Evaluate(prompt).ok());
        REQUIRE((*b)->Evaluate(prompt).ok());
        alone.push_back(std::move(*a));
        together.push_back(std::move(*b));
      }
      if (!supported) continue;
      std::vector<Session*> batch;
      for (auto& s : together) batch.push_back(s.get());
      for (int step = 0; step < kSteps; ++step) {
        std::vector<int32_t> next(kSessions);
        for (int i = 0; i < kSessions; ++i) {
          next[static_cast<size_t>(i)] = Argmax(alone[static_cast<size_t>(i)]->Logits());
          REQUIRE(alone[static_cast<size_t>(i)]->Evaluate({&next[static_cast<size_t>(i)], 1}).ok());
        }
        REQUIRE(Session::EvaluateBatch(batch, next).ok());
        for (int i = 0; i < kSessions; ++i) {
          INFO("step ", step, ", session ", i);
          REQUIRE(SameBits(together[static_cast<size_t>(i)]->Logits(), alone[static_cast<size_t>(i)]->Logits()));
          CHECK(together[static_cast<size_t>(i)]->n_logit_rows() == 1);
        }
      }
      for (int i = 0; i < kSessions; ++i) {
        const auto a = alone[static_cast<size_t>(i)]->tokens(), b = together[static_cast<size_t>(i)]->tokens();
        CHECK(std::vector<int32_t>(a.begin(), a.end()) == std::vector<int32_t>(b.begin(), b.end()));
      }
      // The caches too: one more token evaluated alone by both gives the same logits.
      for (int i = 0; i < kSessions; ++i) {
        const int32_t t = 3;
        REQUIRE(alone[static_cast<size_t>(i)]->Evaluate({&t, 1}).ok());
        REQUIRE(together[static_cast<size_t>(i)]->Evaluate({&t, 1}).ok());
        CHECK(SameBits(together[static_cast<size_t>(i)]->Logits(), alone[static_cast<size_t>(i)]->Logits()));
      }
      ++compared;
    }
  }
  CHECK(compared >= 40);
  MESSAGE(compared, " model and cache pairs: batched decode steps bit-identical to single ones");
}

TEST_CASE("a batch wider than the prompt engines' threshold is still exact") {
  auto model = Model::Load(*test::SharedDir() + "/reference/qwen2-dev.Q4_K_M.gguf");
  REQUIRE(model.ok());
  constexpr int kSessions = 40;  // the prompt engines take batches of 32 rows and more
  std::vector<std::unique_ptr<Session>> alone, together;
  std::vector<Session*> batch;
  std::vector<int32_t> next(kSessions);
  for (int i = 0; i < kSessions; ++i) {
    auto a = Open(*model, CacheType::kF16), b = Open(*model, CacheType::kF16);
    REQUIRE((a.ok() && b.ok()));
    const auto prompt = test::RandomTokenIds((*model)->config().n_vocab, static_cast<size_t>(2 + i % 5), 200 + i);
    REQUIRE((*a)->Evaluate(prompt).ok());
    REQUIRE((*b)->Evaluate(prompt).ok());
    next[static_cast<size_t>(i)] = Argmax((*a)->Logits());
    REQUIRE((*a)->Evaluate({&next[static_cast<size_t>(i)], 1}).ok());
    alone.push_back(std::move(*a));
    together.push_back(std::move(*b));
    batch.push_back(together.back().get());
  }
  REQUIRE(Session::EvaluateBatch(batch, next).ok());
  for (int i = 0; i < kSessions; ++i) {
    INFO("session ", i);
    CHECK(SameBits(together[static_cast<size_t>(i)]->Logits(), alone[static_cast<size_t>(i)]->Logits()));
  }
}

TEST_CASE("generations stepped together, prompts prefilled in chunks, equal generations run alone") {
  for (const char* name : {"/reference/qwen2-dev.Q4_K_M.gguf", "/reference/deepseek2-dev.Q8_0.gguf",
                           "/models/stories260K-q8dequant.gguf"}) {
    INFO(name);
    auto model = Model::Load(*test::SharedDir() + name);
    REQUIRE(model.ok());
    if ((*model)->tokenizer() == nullptr) continue;
    const int32_t n_vocab = (*model)->config().n_vocab;
    constexpr int kSessions = 4;
    std::vector<std::unique_ptr<Session>> sessions;
    std::vector<std::unique_ptr<Generation>> generations;
    std::vector<GenerateResult> want;
    for (int i = 0; i < kSessions; ++i) {
      GenerateOptions o;
      o.max_new_tokens = 10 + 6 * i;  // they end at different steps
      o.sampler.seed = static_cast<uint64_t>(100 + i);
      o.sampler.temperature = i % 2 ? 0.0f : 0.8f;
      o.ignore_eos = true;
      const auto prompt = test::RandomTokenIds(n_vocab, static_cast<size_t>(3 + 9 * i), 70 + i);
      auto alone = Open(*model, CacheType::kF16);
      REQUIRE(alone.ok());
      auto result = (*alone)->GenerateFromTokens(prompt, o);
      REQUIRE(result.ok());
      want.push_back(*result);
      auto s = Open(*model, CacheType::kF16);
      REQUIRE(s.ok());
      auto g = Generation::Start(**s, prompt, o);
      REQUIRE(g.ok());
      sessions.push_back(std::move(*s));
      generations.push_back(std::move(*g));
    }
    // Each round: one prefill chunk of 4 for every session still reading its prompt, then one
    // decode step for all that are generating.
    std::vector<bool> done(kSessions, false);
    for (int round = 0; round < 200; ++round) {
      std::vector<Session*> batch;
      std::vector<int32_t> tokens;
      for (int i = 0; i < kSessions; ++i) {
        Generation& g = *generations[static_cast<size_t>(i)];
        if (done[static_cast<size_t>(i)]) continue;
        if (!g.prefilled()) {
          REQUIRE(g.Prefill(4).ok());
          continue;
        }
        auto next = g.Next();
        REQUIRE(next.ok());
        if (!*next) {
          done[static_cast<size_t>(i)] = true;
          continue;
        }
        batch.push_back(sessions[static_cast<size_t>(i)].get());
        tokens.push_back(**next);
      }
      if (batch.empty() && std::all_of(done.begin(), done.end(), [](bool d) { return d; })) break;
      if (!batch.empty()) REQUIRE(Session::EvaluateBatch(batch, tokens).ok());
    }
    for (int i = 0; i < kSessions; ++i) {
      INFO("session ", i);
      REQUIRE(done[static_cast<size_t>(i)]);
      const GenerateResult got = generations[static_cast<size_t>(i)]->Finish();
      CHECK(got.tokens == want[static_cast<size_t>(i)].tokens);
      CHECK(got.reasoning == want[static_cast<size_t>(i)].reasoning);
      CHECK(got.content == want[static_cast<size_t>(i)].content);
      CHECK(got.stop_reason == want[static_cast<size_t>(i)].stop_reason);
      CHECK(got.n_prefilled_tokens == want[static_cast<size_t>(i)].n_prefilled_tokens);
    }
  }
}

TEST_CASE("a generation refuses to choose before its prompt is prefilled, and ends as cancelled when finished early") {
  auto model = Model::Load(*test::SharedDir() + "/reference/qwen2-dev.F32.gguf");
  REQUIRE(model.ok());
  auto s = Open(*model, CacheType::kF16);
  REQUIRE(s.ok());
  const std::vector<int32_t> prompt = {1, 2, 3, 4, 5};
  auto g = Generation::Start(**s, prompt, {});
  REQUIRE(g.ok());
  CHECK((*g)->prompt_tokens_left() == 5);
  CHECK((*g)->Next().status().code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE((*g)->Prefill(2).ok());
  CHECK((*g)->prompt_tokens_left() == 3);
  REQUIRE((*g)->Prefill().ok());
  CHECK((*g)->prefilled());
  auto next = (*g)->Next();
  REQUIRE(next.ok());
  CHECK(next->has_value());
  CHECK((*g)->Finish().stop_reason == StopReason::kCancelled);
  CHECK(Generation::Start(**s, {}, {}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Generation::Start(**s, std::vector<int32_t>(200, 1), {}).status().code() == absl::StatusCode::kOutOfRange);
}

TEST_CASE("bad batches are refused and change nothing") {
  auto model = Model::Load(*test::SharedDir() + "/reference/qwen2-dev.F32.gguf");
  REQUIRE(model.ok());
  auto other_model = Model::Load(*test::SharedDir() + "/reference/qwen2-dev.Q8_0.gguf");
  REQUIRE(other_model.ok());
  auto a = Open(*model, CacheType::kF16), b = Open(*model, CacheType::kF16), f32 = Open(*model, CacheType::kF32);
  auto small = Open(*model, CacheType::kF16, 4), foreign = Open(*other_model, CacheType::kF16);
  REQUIRE((a.ok() && b.ok() && f32.ok() && small.ok() && foreign.ok()));
  const std::vector<int32_t> four = {1, 2, 3, 4};
  REQUIRE((*small)->Evaluate(four).ok());  // full
  Session* sa = a->get();
  Session* sb = b->get();
  const std::vector<int32_t> two = {5, 6};
  using Batch = std::vector<Session*>;
  CHECK(Session::EvaluateBatch(Batch{}, {}).code() == absl::StatusCode::kInvalidArgument);
  CHECK(Session::EvaluateBatch(Batch{sa, sb}, std::vector<int32_t>{5}).code() == absl::StatusCode::kInvalidArgument);
  CHECK(Session::EvaluateBatch(Batch{sa, sa}, two).code() == absl::StatusCode::kInvalidArgument);
  CHECK(Session::EvaluateBatch(Batch{sa, nullptr}, two).code() == absl::StatusCode::kInvalidArgument);
  CHECK(Session::EvaluateBatch(Batch{sa, foreign->get()}, two).code() == absl::StatusCode::kInvalidArgument);
  CHECK(Session::EvaluateBatch(Batch{sa, f32->get()}, two).code() == absl::StatusCode::kInvalidArgument);
  CHECK(Session::EvaluateBatch(Batch{sa, small->get()}, two).code() == absl::StatusCode::kOutOfRange);
  CHECK(Session::EvaluateBatch(Batch{sa, sb}, std::vector<int32_t>{5, -1}).code() == absl::StatusCode::kInvalidArgument);
  CHECK(Session::EvaluateBatch(Batch{sa, sb}, std::vector<int32_t>{5, 1 << 30}).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(sa->n_past() == 0);
  CHECK(sb->n_past() == 0);
  CHECK((*small)->n_past() == 4);
  REQUIRE(Session::EvaluateBatch(Batch{sa, sb}, two).ok());
  CHECK(sa->n_past() == 1);
  CHECK(sb->n_past() == 1);
}

}  // namespace
}  // namespace r1
