// serve/slot_pool.h — N slots (one Session each, in the server), each with its own worker
// thread, and a bounded queue of requests waiting for one.
//
// When a slot is free the oldest waiting job goes to the free slot whose cached tokens share
// the longest prefix with the job's prompt tokens (ties: the slot used least recently), so a
// client that resends its whole conversation lands where that conversation is cached and only
// the new turn is computed. The pool knows slots only through Hooks, so it is tested without
// a model.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/types/span.h"

namespace r1::serve {

class SlotPool {
 public:
  struct Hooks {
    // How many leading tokens of `prompt` the slot has cached; called only for free slots.
    std::function<size_t(int slot, absl::Span<const int32_t> prompt)> shared_prefix;
    // Stops the slot's running generation at its next token (Session::Cancel); any thread.
    std::function<void(int slot)> cancel;
  };

  // One request's work. `run` executes on the slot's worker thread and should poll
  // `cancelled` (a stream callback returning false). `finished` is called once the job is over:
  // finished(true) after `run` returned and the slot was freed (so a client told of the result
  // finds the slot free for its next request), finished(false) when the job was cancelled, or
  // the pool stopped, before a slot took it.
  class Job {
   public:
    bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }
    const std::atomic<bool>& cancel_flag() const { return cancelled_; }

   private:
    friend class SlotPool;
    enum class State { kQueued, kRunning, kDone };
    std::vector<int32_t> prompt;
    std::function<void(int slot, const Job& job)> run;
    std::function<void(bool ran)> finished;
    State state = State::kQueued;
    int slot = -1;
    std::atomic<bool> cancelled_{false};
  };

  // max_queue: jobs that may wait for a slot; Submit refuses more.
  SlotPool(int n_slots, int max_queue, Hooks hooks);
  // Stops: queued jobs are dropped, running ones cancelled and waited for.
  ~SlotPool();
  SlotPool(const SlotPool&) = delete;
  SlotPool& operator=(const SlotPool&) = delete;

  // Queues a job (it starts at once when a slot is free); nullptr when it would have to wait
  // and max_queue jobs already do, or when the pool is stopping.
  std::shared_ptr<Job> Submit(std::vector<int32_t> prompt, std::function<void(int slot, const Job& job)> run,
                              std::function<void(bool ran)> finished);
  // A queued job is dropped; a running one is asked to stop (its slot is free once `run`
  // returns). Harmless on a finished job.
  void Cancel(Job& job);
  // Drops every queued job and cancels the running ones; Submit refuses from then on.
  void Stop();

  int n_slots() const { return static_cast<int>(slots_.size()); }
  int queue_depth() const;
  int busy_slots() const;

 private:
  struct Slot {
    std::shared_ptr<Job> job;  // assigned, running until `run` returns
    uint64_t last_used = 0;
    std::thread worker;
  };
  void Work(int slot);
  void DispatchLocked();  // hands queued jobs to free slots; mu_ held

  const int max_queue_;
  const Hooks hooks_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::vector<Slot> slots_;
  uint64_t uses_ = 0;
  bool stopping_ = false;
};

// How many leading tokens `a` and `b` share.
size_t SharedPrefix(absl::Span<const int32_t> a, absl::Span<const int32_t> b);

}  // namespace r1::serve
