// thread_pool.h — a fixed pool of worker threads for data-parallel loops.
//
// The pool is created once (per Session) and reused for every op: ParallelFor hands each of the
// n_threads participants (the caller included) one contiguous share of [0, n). It allocates
// nothing and takes no lock when workers are awake: a job is published by bumping a generation
// counter and finished when a completion counter reaches zero. Workers poll the counter for up
// to 200 microseconds before sleeping on a condition variable (R1_POOL_SPIN, see thread_pool.cc).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace r1 {

class ThreadPool {
 public:
  // n_threads counts the calling thread: ThreadPool(1) runs everything inline. Counts outside
  // [1, MaxThreadCount()] (resource_limits.h) are clamped into it.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int n_threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(begin, end) — or fn(begin, end, thread_index) — on disjoint shares covering
  // [0, n), at most one share per thread, each share a multiple of `grain` (except the last).
  // thread_index < n_threads() identifies the share's thread, for per-thread scratch.
  // Returns when all are done. Not reentrant: fn must not call ParallelFor on the same pool.
  template <typename Fn>
  void ParallelFor(size_t n, size_t grain, Fn&& fn) {
    if constexpr (std::is_invocable_v<Fn&, size_t, size_t, int>) {
      Run(n, grain, [&fn](size_t b, size_t e, int t) { fn(b, e, t); });
    } else {
      Run(n, grain, [&fn](size_t b, size_t e, int) { fn(b, e); });
    }
  }

  // Number of threads to use for a machine: hardware threads, at least 1.
  static int DefaultThreadCount();

 private:
  using Task = std::function<void(size_t, size_t, int)>;
  void Run(size_t n, size_t grain, const Task& task);
  void WorkerLoop(int index);
  void RunShare(int index);

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_;
  // Job description, written by the caller before it bumps generation_ (release) and read by
  // workers after they see the new generation (acquire).
  const Task* task_ = nullptr;
  size_t n_ = 0;
  size_t chunk_ = 0;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};   // workers still running the current job
  std::atomic<int> sleepers_{0};  // workers blocked (or about to block) on wake_
  std::atomic<bool> stop_{false};
};

}  // namespace r1
