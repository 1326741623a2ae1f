// serve::BatchEngine: generations run together from many threads give what each gives alone;
// a cancelled one ends between rounds, in its prompt as well as in its answer; a stopping engine
// hands every waiting generation back; a session with a draft model, decoding alone, takes
// speculative rounds and still gives its own tokens. Runs under ThreadSanitizer too (suite 'concurrency').
#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "r1/generation.h"
#include "r1/session.h"
#include "serve/batch_engine.h"
#include "support/test_util.h"

R1_TEST_NEEDS_SHARED_DIR();

namespace r1::serve {
namespace {

std::shared_ptr<const Model> LoadModel(const char* type = "Q8_0") {
  auto model = Model::Load(*test::SharedDir() + "/reference/qwen2-dev." + type + ".gguf");
  REQUIRE(model.ok());
  return *model;
}

std::unique_ptr<Session> Open(const std::shared_ptr<const Model>& model) {
  SessionOptions o;
  o.n_ctx = 256;
  o.n_threads = 1;
  // Prompt chunks computed as one pass computes them, so chunked prefill changes no bit.
  o.batch_invariant = true;
  auto s = Session::Create(model, o);
  REQUIRE(s.ok());
  return std::move(*s);
}

GenerateOptions Options(int i) {
  GenerateOptions o;
  o.max_new_tokens = 8 + 5 * i;
  o.sampler.seed = static_cast<uint64_t>(i);
  o.ignore_eos = true;
  return o;
}

TEST_CASE("generations run together from many threads equal each run alone") {
  const auto model = LoadModel();
  constexpr int kThreads = 6;
  std::vector<std::vector<int32_t>> prompts;
  std::vector<GenerateResult> alone;
  for (int i = 0; i < kThreads; ++i) {
    // One prompt long enough for several chunks, the others short.
    prompts.push_back(test::RandomTokenIds(model->config().n_vocab, i == 0 ? 150 : static_cast<size_t>(4 + i), 9 + i));
    auto s = Open(model);
    auto r = s->GenerateFromTokens(prompts.back(), Options(i));
    REQUIRE(r.ok());
    alone.push_back(*r);
  }
  BatchEngine engine(/*prefill_chunk=*/16);
  std::vector<std::unique_ptr<Session>> sessions;
  for (int i = 0; i < kThreads; ++i) sessions.push_back(Open(model));
  std::vector<StatusOr<GenerateResult>> got(kThreads, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  const std::atomic<bool> never{false};
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto g = Generation::Start(*sessions[static_cast<size_t>(i)], prompts[static_cast<size_t>(i)], Options(i));
      if (!g.ok()) {
        got[static_cast<size_t>(i)] = g.status();
        return;
      }
      got[static_cast<size_t>(i)] = engine.Run(*sessions[static_cast<size_t>(i)], **g, never);
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) {
    INFO("generation ", i);
    REQUIRE(got[static_cast<size_t>(i)].ok());
    CHECK(got[static_cast<size_t>(i)]->tokens == alone[static_cast<size_t>(i)].tokens);
    CHECK(got[static_cast<size_t>(i)]->stop_reason == StopReason::kMaxTokens);
  }
  CHECK(engine.widest_round() > 1);
  CHECK(engine.active() == 0);
}

TEST_CASE("with a draft model, alone or together, each generation gives its tokens without the draft") {
  const auto model = LoadModel();
  // The same weights at another precision: the draft's greedy guesses are kept when the target
  // is greedy too, and often dropped when it samples.
  const auto draft = LoadModel("F16");
  constexpr int kThreads = 3;
  const auto options = [](int i) {
    GenerateOptions o = Options(i);
    o.max_new_tokens = 40 + 20 * i;
    if (i % 2 == 0) o.sampler.temperature = 0;  // the others sample
    return o;
  };
  std::vector<std::vector<int32_t>> prompts;
  std::vector<GenerateResult> alone;
  for (int i = 0; i < kThreads; ++i) {
    prompts.push_back(test::RandomTokenIds(model->config().n_vocab, static_cast<size_t>(5 + 7 * i), 20 + i));
    auto s = Open(model);
    auto r = s->GenerateFromTokens(prompts.back(), options(i));
    REQUIRE(r.ok());
    alone.push_back(*r);
  }
  const auto run_all = [&](int n) {
    BatchEngine engine(/*prefill_chunk=*/16);
    std::vector<std::unique_ptr<Session>> sessions;
    for (int i = 0; i < n; ++i) {
      sessions.push_back(Open(model));
      REQUIRE(sessions.back()->SetDraft(draft, DraftOptions{4, true}).ok());
    }
    std::vector<StatusOr<GenerateResult>> got(static_cast<size_t>(n), absl::UnknownError("not run"));
    std::vector<std::thread> threads;
    const std::atomic<bool> never{false};
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([&, i] {
        const size_t k = static_cast<size_t>(i);
        auto g = Generation::Start(*sessions[k], prompts[k], options(i));
        got[k] = g.ok() ? engine.Run(*sessions[k], **g, never) : StatusOr<GenerateResult>(g.status());
      });
    }
    for (auto& t : threads) t.join();
    return got;
  };
  SUBCASE("alone: every round is speculative") {
    const auto got = run_all(1);
    REQUIRE(got[0].ok());
    CHECK(got[0]->tokens == alone[0].tokens);
    CHECK(got[0]->n_drafted_tokens > 0);
    CHECK(got[0]->n_accepted_tokens > 0);
  }
  SUBCASE("together: batched while others decode, speculative when alone") {
    const auto got = run_all(kThreads);
    for (int i = 0; i < kThreads; ++i) {
      INFO("generation ", i);
      REQUIRE(got[static_cast<size_t>(i)].ok());
      CHECK(got[static_cast<size_t>(i)]->tokens == alone[static_cast<size_t>(i)].tokens);
    }
    // The longest generation ends alone: its last rounds take the draft.
    CHECK(got[kThreads - 1]->n_drafted_tokens > 0);
  }
}

TEST_CASE("a cancelled generation ends between rounds; a stopping engine hands generations back") {
  const auto model = LoadModel();
  auto session = Open(model);
  std::atomic<bool> cancelled{false};
  StatusOr<GenerateResult> result = absl::UnknownError("not run");
  {
    BatchEngine engine(/*prefill_chunk=*/1);  // one prompt token per round: a long prefill
    const auto prompt = test::RandomTokenIds(model->config().n_vocab, 200, 3);
    GenerateOptions o = Options(0);
    o.max_new_tokens = 100000;
    auto g = Generation::Start(*session, prompt, o);
    REQUIRE(g.ok());
    std::thread runner([&] { result = engine.Run(*session, **g, cancelled); });
    while (engine.rounds() < 5) std::this_thread::yield();
    cancelled = true;  // still in the prompt
    runner.join();
    REQUIRE(result.ok());
    CHECK(result->stop_reason == StopReason::kCancelled);
    CHECK(result->n_generated_tokens == 0);
    CHECK(session->n_past() < 200);
  }
  // Left running when the engine goes away: handed back, ended as cancelled.
  auto engine = std::make_unique<BatchEngine>();
  const auto prompt = test::RandomTokenIds(model->config().n_vocab, 4, 5);
  GenerateOptions o = Options(0);
  o.max_new_tokens = 100000;
  auto g = Generation::Start(*session, prompt, o);
  REQUIRE(g.ok());
  const std::atomic<bool> never{false};
  std::thread runner([&] { result = engine->Run(*session, **g, never); });
  while (engine->active() == 0) std::this_thread::yield();
  const uint64_t seen = engine->rounds();
  while (engine->rounds() < seen + 3) std::this_thread::yield();
  engine.reset();  // returns only once the runner has left Run
  runner.join();
  REQUIRE(result.ok());
  CHECK(result->stop_reason == StopReason::kCancelled);
  CHECK(result->n_generated_tokens >= 2);
}

}  // namespace
}  // namespace r1::serve
