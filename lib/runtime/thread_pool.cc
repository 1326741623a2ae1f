// thread_pool.cc — workers sleep on a condition variable between jobs; a job is one generation.
#include "runtime/thread_pool.h"

#include <algorithm>

namespace r1 {

ThreadPool::ThreadPool(int n_threads) {
  const int n_workers = std::max(1, n_threads) - 1;
  workers_.reserve(n_workers);
  for (int i = 0; i < n_workers; ++i) workers_.emplace_back([this, i] { WorkerLoop(i + 1); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
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
  {
    std::lock_guard<std::mutex> lock(mu_);
    task_ = &task;
    n_ = n;
    chunk_ = (n_grains + n_parts - 1) / n_parts * grain;
    pending_ = static_cast<int>(workers_.size());
    ++generation_;
  }
  wake_.notify_all();
  RunShare(0);
  std::unique_lock<std::mutex> lock(mu_);
  done_.wait(lock, [this] { return pending_ == 0; });
  task_ = nullptr;
}

void ThreadPool::WorkerLoop(int index) {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    RunShare(index);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (--pending_ == 0) done_.notify_one();
    }
  }
}

}  // namespace r1
