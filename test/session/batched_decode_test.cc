// Session::EvaluateBatch: a decode step of several sessions in one forward pass gives each
// session the logits, cache and tokens it gets stepping alone, bit for bit, for every shared model
// (each architecture and weight type) and cache type; bad batches are refused and change nothing.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "r1/session.h"
#include "support/test_util.h"

R1_TEST_NEEDS_SHARED_DIR();

namespace r1 {
namespace {

std::vector<std::string> SharedModels() {
  std::vector<std::string> paths;
  for (const char* folder : {"/reference", "/models"}) {
    for (const auto& entry : std::filesystem::directory_iterator(*test::SharedDir() + folder)) {
      if (entry.path().extension() == ".gguf") paths.push_back(entry.path().string());
    }
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

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
  constexpr int kSessions = 3, kSteps = 12;
  int compared = 0;
  for (const std::string& path : SharedModels()) {
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
