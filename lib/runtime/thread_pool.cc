// thread_pool.cc — spin-then-sleep workers; a job is one generation of the counter.
#include "runtime/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "runtime/resource_limits.h"

namespace r1 {
namespace {

// How long workers poll for the next job before sleeping, and the caller polls for completion
// before yielding, in microseconds; R1_POOL_SPIN sets it (0: sleep at once). Decode hands ~130
// jobs a token to the pool, microseconds apart: polling catches each one in well under a
// microsecond where a condition-variable wake-up costs tens (measured 1.2x decode). Bounded by
// time, not iterations, because a pause instruction takes 10 to 140 cycles across CPUs.
std::chrono::nanoseconds SpinBudget() {
  static const std::chrono::nanoseconds budget = [] {
    const char* env = std::getenv("R1_POOL_SPIN");
    const long us = env ? std::max(0L, std::atol(env)) : 200L;
    return std::chrono::nanoseconds(std::chrono::microseconds(us));
  }();
  return budget;
}

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Polls `done` until it returns true or the spin budget runs out; returns its last answer.
// The clock is read once per 64 polls: reading it costs about as much as the poll.
template <typename Done>
bool SpinUntil(Done&& done) {
  const std::chrono::nanoseconds budget = SpinBudget();
  if (budget.count() == 0) return done();
  const auto deadline = std::chrono::steady_clock::now() + budget;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      CpuRelax();
    }
    if (std::chrono::steady_clock::now() >= deadline) return done();
  }
}

}  // namespace

ThreadPool::ThreadPool(int n_threads) {
  // Callers check their counts (CheckThreadCount); the clamp keeps any other path from
  // starting an unbounded number of threads.
  const int n_workers = std::clamp(n_threads, 1, MaxThreadCount()) - 1;
  workers_.reserve(n_workers);
  for (int i = 0; i < n_workers; ++i) workers_.emplace_back([this, i] { WorkerLoop(i + 1); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

int ThreadPool::DefaultThreadCount() {
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

void ThreadPool::RunShare(int index) {
  const size_t begin = static_cast<size_t>(index) * chunk_;
  const size_t end = std::min(n_, begin + chunk_);
  if (begin < end) (*task_)(begin, end, index);
}

void ThreadPool::Run(size_t n, size_t grain, const Task& task) {
  if (n == 0) return;
  grain = std::max<size_t>(grain, 1);
  const size_t n_grains = (n + grain - 1) / grain;
  const size_t n_parts = std::min<size_t>(n_grains, static_cast<size_t>(n_threads()));
  if (n_parts <= 1) {
    task(0, n, 0);
    return;
  }
  task_ = &task;
  n_ = n;
  chunk_ = (n_grains + n_parts - 1) / n_parts * grain;
  pending_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
  // seq_cst pairs with the sleeper's increment-then-check: either the worker sees the new
  // generation before it blocks, or this thread sees it sleeping and wakes it.
  generation_.fetch_add(1, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) > 0) {
    std::lock_guard<std::mutex> lock(mu_);
    wake_.notify_all();
  }
  RunShare(0);
  const auto finished = [this] { return pending_.load(std::memory_order_acquire) == 0; };
  if (!SpinUntil(finished)) {
    while (!finished()) std::this_thread::yield();  // a worker may be descheduled on a busy machine
  }
  task_ = nullptr;
}

void ThreadPool::WorkerLoop(int index) {
  uint64_t seen = 0;
  for (;;) {
    uint64_t gen = seen;
    SpinUntil([&] {
      gen = generation_.load(std::memory_order_acquire);
      return gen != seen;
    });
    if (gen == seen) {
      std::unique_lock<std::mutex> lock(mu_);
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      wake_.wait(lock, [&] { return generation_.load(std::memory_order_seq_cst) != seen; });
      sleepers_.fetch_sub(1, std::memory_order_relaxed);
      gen = generation_.load(std::memory_order_acquire);
    }
    if (stop_.load(std::memory_order_acquire)) return;
    seen = gen;
    RunShare(index);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

}  // namespace r1
