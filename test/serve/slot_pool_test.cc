// The slot pool with stand-in slots (no model): which slot a job gets, the bounded queue,
// and cancellation, queued or running, freeing the slot.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "serve/slot_pool.h"

namespace r1::serve {
namespace {

using namespace std::chrono_literals;

// Slots whose "cache" is a token list the test sets, as a session's tokens() would be.
struct FakeSlots {
  explicit FakeSlots(int n) : cached(n), cancels(n) {}
  SlotPool::Hooks Hooks() {
    return {[this](int slot, absl::Span<const int32_t> prompt) {
              std::lock_guard lock(mu);
              return SharedPrefix(cached[slot], prompt);
            },
            [this](int slot) { ++cancels[slot]; }};
  }
  std::mutex mu;
  std::vector<std::vector<int32_t>> cached;
  std::vector<std::atomic<int>> cancels;
};

// A job that reports its slot and then holds it until released (or cancelled). Its state is
// shared with the pool's callbacks, which may still run on a worker after the test is done with it.
struct HeldJobState {
  std::promise<int> started;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> dropped{false};
  std::atomic<bool> saw_cancel{false};
};

struct HeldJob {
  std::shared_ptr<HeldJobState> state = std::make_shared<HeldJobState>();
  std::promise<int>& started = state->started;
  std::promise<void>& release = state->release;
  std::atomic<bool>& dropped = state->dropped;
  std::atomic<bool>& saw_cancel = state->saw_cancel;

  std::shared_ptr<SlotPool::Job> Submit(SlotPool& pool, std::vector<int32_t> prompt) {
    return pool.Submit(
        std::move(prompt),
        [s = state](int slot, const SlotPool::Job& job) {
          s->started.set_value(slot);
          while (!job.cancelled() && s->released.wait_for(1ms) != std::future_status::ready) {
          }
          s->saw_cancel = job.cancelled();
        },
        [s = state](bool ran) { s->dropped = !ran; });
  }
};

int StartedSlot(HeldJob& j) {
  auto f = j.started.get_future();
  REQUIRE(f.wait_for(5s) == std::future_status::ready);
  return f.get();
}

bool Eventually(const std::function<bool()>& condition) {
  for (int i = 0; i < 500; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

TEST_CASE("shared prefix") {
  CHECK(SharedPrefix(std::vector<int32_t>{1, 2, 3}, std::vector<int32_t>{1, 2, 4}) == 2);
  CHECK(SharedPrefix(std::vector<int32_t>{}, std::vector<int32_t>{1}) == 0);
  CHECK(SharedPrefix(std::vector<int32_t>{1, 2}, std::vector<int32_t>{1, 2, 3}) == 2);
}

TEST_CASE("a job goes to the free slot sharing the longest prefix") {
  FakeSlots slots(3);
  slots.cached = {{1, 2}, {1, 2, 3, 4}, {9}};
  SlotPool pool(3, 4, slots.Hooks());
  HeldJob a, b;
  auto ja = a.Submit(pool, {1, 2, 3, 4, 5});
  REQUIRE(ja != nullptr);
  CHECK(StartedSlot(a) == 1);
  // Slot 1 is busy now: the best free one for this prompt is slot 0.
  auto jb = b.Submit(pool, {1, 2, 3, 4, 6});
  REQUIRE(jb != nullptr);
  CHECK(StartedSlot(b) == 0);
  CHECK(pool.busy_slots() == 2);
  a.release.set_value();
  b.release.set_value();
  CHECK(Eventually([&] { return pool.busy_slots() == 0; }));
}

TEST_CASE("without a shared prefix the least recently used slot is taken") {
  FakeSlots slots(2);
  SlotPool pool(2, 4, slots.Hooks());
  std::vector<int> order;
  for (int i = 0; i < 4; ++i) {
    HeldJob j;
    j.release.set_value();
    auto job = j.Submit(pool, {7});
    REQUIRE(job != nullptr);
    order.push_back(StartedSlot(j));
    CHECK(Eventually([&] { return pool.busy_slots() == 0; }));
  }
  CHECK(order == std::vector<int>{0, 1, 0, 1});
}

TEST_CASE("beyond the queue a job is refused; a free slot always takes one") {
  FakeSlots slots(1);
  SlotPool pool(1, 1, slots.Hooks());
  HeldJob a, b, c;
  auto ja = a.Submit(pool, {1});
  REQUIRE(ja != nullptr);
  StartedSlot(a);
  auto jb = b.Submit(pool, {1});
  REQUIRE(jb != nullptr);
  CHECK(pool.queue_depth() == 1);
  CHECK(c.Submit(pool, {1}) == nullptr);
  a.release.set_value();
  CHECK(StartedSlot(b) == 0);
  CHECK(pool.queue_depth() == 0);
  b.release.set_value();

  SlotPool no_queue(1, 0, slots.Hooks());
  HeldJob d, e;
  auto jd = d.Submit(no_queue, {1});
  REQUIRE(jd != nullptr);
  StartedSlot(d);
  CHECK(e.Submit(no_queue, {1}) == nullptr);
  d.release.set_value();
}

TEST_CASE("cancelling a running job stops it and frees its slot") {
  FakeSlots slots(1);
  SlotPool pool(1, 2, slots.Hooks());
  HeldJob a, b;
  auto ja = a.Submit(pool, {1});
  auto jb = b.Submit(pool, {1});
  REQUIRE(ja != nullptr);
  REQUIRE(jb != nullptr);
  StartedSlot(a);
  pool.Cancel(*ja);
  CHECK(slots.cancels[0] == 1);  // the session is told at once
  CHECK(StartedSlot(b) == 0);    // and the slot goes to the next job
  CHECK(a.saw_cancel);
  b.release.set_value();
  CHECK(Eventually([&] { return pool.busy_slots() == 0; }));
  pool.Cancel(*ja);  // finished: harmless
  CHECK(slots.cancels[0] == 1);
}

TEST_CASE("a finished job's slot is already free when it is told") {
  FakeSlots slots(1);
  std::promise<bool> next_accepted;  // outlives the pool, whose worker sets it
  SlotPool pool(1, 0, slots.Hooks());
  auto job = pool.Submit(
      {1}, [](int, const SlotPool::Job&) {},
      [&](bool ran) {
        // With no queue, a new job is taken only by a free slot.
        next_accepted.set_value(ran && pool.Submit({1}, [](int, const SlotPool::Job&) {}, nullptr) != nullptr);
      });
  REQUIRE(job != nullptr);
  auto f = next_accepted.get_future();
  REQUIRE(f.wait_for(5s) == std::future_status::ready);
  CHECK(f.get());
}

TEST_CASE("cancelling a queued job drops it without running it") {
  FakeSlots slots(1);
  SlotPool pool(1, 2, slots.Hooks());
  HeldJob a, b;
  auto ja = a.Submit(pool, {1});
  auto jb = b.Submit(pool, {1});
  StartedSlot(a);
  pool.Cancel(*jb);
  CHECK(b.dropped);
  CHECK(pool.queue_depth() == 0);
  a.release.set_value();
  CHECK(Eventually([&] { return pool.busy_slots() == 0; }));
  CHECK(b.started.get_future().wait_for(50ms) == std::future_status::timeout);
}

TEST_CASE("stopping drops the queue and cancels running jobs") {
  FakeSlots slots(1);
  HeldJob a, b;
  {
    SlotPool pool(1, 2, slots.Hooks());
    auto ja = a.Submit(pool, {1});
    auto jb = b.Submit(pool, {1});
    StartedSlot(a);
    pool.Stop();
    CHECK(b.dropped);
    HeldJob c;
    CHECK(c.Submit(pool, {1}) == nullptr);
  }  // the destructor waits for the running job, which saw the cancellation
  CHECK(a.saw_cancel);
}

}  // namespace
}  // namespace r1::serve
