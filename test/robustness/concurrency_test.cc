// One Model shared by many Sessions on many threads, and cancellation from another thread:
// each session must produce exactly what it produces alone, and a cancelled generation must
// leave the session as good as new. Run under ThreadSanitizer by .ci/sanitizers (suite
// 'concurrency').
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "r1/session.h"
#include "support/test_util.h"

R1_TEST_NEEDS_SHARED_DIR();

namespace r1 {
namespace {

std::shared_ptr<const Model> Stories() {
  static std::shared_ptr<const Model> model = [] {
    auto m = Model::Load(*test::SharedDir() + "/models/stories260K-q8dequant.gguf");
    REQUIRE_MESSAGE(m.ok(), m.status().ToString());
    return *m;
  }();
  return model;
}

std::unique_ptr<Session> Open(int n_threads) {
  SessionOptions o;
  o.n_threads = n_threads;
  o.n_ctx = 256;
  auto s = Session::Create(Stories(), o);
  REQUIRE_MESSAGE(s.ok(), s.status().ToString());
  return *std::move(s);
}

GenerateOptions Sampled(uint64_t seed, int64_t n) {
  GenerateOptions o;
  o.max_new_tokens = n;
  o.ignore_eos = true;  // a fixed length, whatever the model says
  o.sampler.temperature = 0.8f;
  o.sampler.top_p = 0.95f;
  o.sampler.seed = seed;
  return o;
}

const char* kPrompts[] = {"Once upon a time", "The little dog", "Lily and Tom went", "One day"};

// Threads per session alternate between 1 and 2, so the sessions' own pools run too.
int ThreadsFor(int i) { return 1 + i % 2; }

std::vector<int32_t> Alone(int i, int64_t n) {
  auto s = Open(ThreadsFor(i));
  auto r = s->Generate(kPrompts[i % 4], Sampled(100 + i, n));
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return r->tokens;
}

TEST_CASE("sessions sharing one model on many threads each give the tokens they give alone") {
  constexpr int kSessions = 4;
  constexpr int64_t kTokens = 24;
  std::vector<std::vector<int32_t>> expected;
  for (int i = 0; i < kSessions; ++i) expected.push_back(Alone(i, kTokens));

  std::vector<std::unique_ptr<Session>> sessions;
  for (int i = 0; i < kSessions; ++i) sessions.push_back(Open(ThreadsFor(i)));
  std::vector<std::vector<int32_t>> got(kSessions);
  std::vector<std::string> errors(kSessions);
  std::vector<std::thread> threads;
  for (int i = 0; i < kSessions; ++i) {
    threads.emplace_back([&, i] {
      // Two rounds: the second starts from the first's cached context.
      for (int round = 0; round < 2; ++round) {
        auto r = sessions[i]->Generate(kPrompts[i % 4], Sampled(100 + i, kTokens));
        if (!r.ok()) {
          errors[i] = r.status().ToString();
          return;
        }
        if (round == 0) got[i] = r->tokens;
        else if (r->tokens != got[i]) errors[i] = "the second round differs from the first";
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kSessions; ++i) {
    INFO("session " << i);
    CHECK(errors[i] == "");
    CHECK(got[i] == expected[i]);
  }
}

TEST_CASE("cancelling from another thread at random moments never hangs or spoils the next generation") {
  constexpr int64_t kTokens = 40;
  const std::vector<int32_t> fresh = Alone(0, kTokens);
  auto session = Open(2);
  std::mt19937 rng(7);
  for (int round = 0; round < 12; ++round) {
    INFO("round " << round);
    std::atomic<bool> started{false};
    std::atomic<bool> done{false};
    std::atomic<int> pieces{0};
    StatusOr<GenerateResult> result = absl::UnknownError("not run");
    std::thread gen([&] {
      started = true;
      result = session->Generate(kPrompts[0], Sampled(100, 400), [&](const StreamPiece&) {
        pieces.fetch_add(1);
        return true;
      });
      done = true;
    });
    while (!started) std::this_thread::yield();
    // Anywhere from before the prompt is computed to deep into decoding.
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 20000));
    session->Cancel();
    // A cancel that lands before the generation clears its request is lost; cancel again
    // until the generation ends, so that every round ends.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!done && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      session->Cancel();
    }
    gen.join();
    REQUIRE_MESSAGE(result.ok(), result.status().ToString());
    // Uncancelled, the generation runs to the end of the 256-token context (400 > n_ctx), which a
    // fast decode can reach before a late cancel lands.
    INFO("stop reason: " << std::string(StopReasonName(result->stop_reason)));
    CHECK((result->stop_reason == StopReason::kCancelled || result->stop_reason == StopReason::kContextFull));
    CHECK(result->tokens.size() <= 400);

    // The same request again gives what a fresh session gives.
    auto again = session->Generate(kPrompts[0], Sampled(100, kTokens));
    REQUIRE_MESSAGE(again.ok(), again.status().ToString());
    CHECK(again->stop_reason == StopReason::kMaxTokens);
    CHECK(again->tokens == fresh);
  }
}

TEST_CASE("Cancel on an idle session, and from many threads at once, is harmless") {
  auto session = Open(1);
  session->Cancel();  // cleared when the next generation starts
  const std::vector<int32_t> fresh = Alone(0, 8);
  auto r = session->Generate(kPrompts[0], Sampled(100, 8));
  REQUIRE(r.ok());
  CHECK(r->tokens == fresh);
  std::vector<std::thread> cancellers;
  std::atomic<bool> stop{false};
  for (int i = 0; i < 3; ++i) {
    cancellers.emplace_back([&] {
      while (!stop) session->Cancel();
    });
  }
  auto busy = session->Generate(kPrompts[1], Sampled(5, 200));
  stop = true;
  for (auto& t : cancellers) t.join();
  REQUIRE(busy.ok());
  CHECK(busy->stop_reason == StopReason::kCancelled);
}

}  // namespace
}  // namespace r1
