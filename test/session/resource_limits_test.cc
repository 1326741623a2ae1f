// Caller-chosen sizes that start threads or allocate memory are bounded with clear errors:
// thread counts by the machine, context and batch sizes by fixed limits.
#include <doctest/doctest.h>

#include <string>
#include <thread>

#include "r1/model.h"
#include "r1/session.h"
#include "runtime/resource_limits.h"
#include "runtime/thread_pool.h"
#include "support/test_util.h"

namespace r1 {
namespace {

R1_TEST_NEEDS_SHARED_DIR();

std::shared_ptr<const Model> Stories(int n_threads = 2) {
  LoadOptions o;
  o.n_threads = n_threads;
  auto model = Model::Load(*test::SharedDir() + "/models/stories260K-q8dequant.gguf", o);
  REQUIRE_MESSAGE(model.ok(), model.status().ToString());
  return *model;
}

Status CreateWith(const std::shared_ptr<const Model>& model, int n_threads, int64_t n_ctx = 64,
                  int64_t n_batch = 512) {
  SessionOptions o;
  o.n_threads = n_threads;
  o.n_ctx = n_ctx;
  o.n_batch = n_batch;
  return Session::Create(model, o).status();
}

bool Mentions(const Status& s, const std::string& text) {
  return std::string(s.message()).find(text) != std::string::npos;
}

TEST_SUITE("session") {
  TEST_CASE("the thread limit is 4 per hardware thread, at least 64") {
    const int hw = static_cast<int>(std::thread::hardware_concurrency());
    CHECK(MaxThreadCount() == std::max(64, 4 * hw));
    CHECK(CheckThreadCount(1, "n").ok());
    CHECK(CheckThreadCount(MaxThreadCount(), "n").ok());
    CHECK(CheckThreadCount(0, "n").code() == absl::StatusCode::kInvalidArgument);
    CHECK(CheckThreadCount(MaxThreadCount() + 1, "n").code() == absl::StatusCode::kInvalidArgument);
  }

  TEST_CASE("a session refuses more threads than the machine allows, naming value and limit") {
    const auto model = Stories();
    const Status s = CreateWith(model, 100000);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(Mentions(s, "n_threads 100000"));
    CHECK(Mentions(s, std::to_string(MaxThreadCount())));
    CHECK(CreateWith(model, -1).code() == absl::StatusCode::kInvalidArgument);
    CHECK(CreateWith(model, MaxThreadCount()).ok());
    auto session = Session::Create(model, {});
    REQUIRE(session.ok());
    CHECK((*session)->n_threads() == 2);  // 0: the model's default
  }

  TEST_CASE("a model's default thread count is held to the same limit") {
    const Status s = CreateWith(Stories(100000), 0);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(Mentions(s, "LoadOptions::n_threads"));
  }

  TEST_CASE("context and batch sizes are bounded before anything is allocated") {
    const auto model = Stories();
    Status s = CreateWith(model, 2, kMaxContextPositions + 1);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(Mentions(s, "n_ctx"));
    s = CreateWith(model, 2, kMaxBatchTokens * 2, kMaxBatchTokens * 2);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(Mentions(s, "n_batch"));
    // A batch larger than the context is just the whole context, as before.
    CHECK(CreateWith(model, 2, 64, int64_t{1} << 40).ok());
  }

  TEST_CASE("a thread pool never starts more threads than the limit") {
    ThreadPool pool(1 << 20);
    CHECK(pool.n_threads() == MaxThreadCount());
    CHECK(ThreadPool(-5).n_threads() == 1);
  }
}

}  // namespace
}  // namespace r1
