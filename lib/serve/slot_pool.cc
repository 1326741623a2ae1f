#include "serve/slot_pool.h"

#include <algorithm>

#include <utility>

namespace r1::serve {

SlotPool::SlotPool(int n_slots, int max_queue, Hooks hooks)
    : max_queue_(max_queue), hooks_(std::move(hooks)), slots_(static_cast<size_t>(n_slots)) {
  for (int i = 0; i < n_slots; ++i) slots_[i].worker = std::thread([this, i] { Work(i); });
}

SlotPool::~SlotPool() {
  Stop();
  for (Slot& s : slots_) s.worker.join();
}

std::shared_ptr<SlotPool::Job> SlotPool::Submit(std::vector<int32_t> prompt,
                                                std::function<void(int slot, const Job& job)> run,
                                                std::function<void(bool ran)> finished) {
  auto job = std::make_shared<Job>();
  job->prompt = std::move(prompt);
  job->run = std::move(run);
  job->finished = std::move(finished);
  {
    std::lock_guard lock(mu_);
    if (stopping_) return nullptr;
    queue_.push_back(job);
    DispatchLocked();
    // Still waiting (the newest job is last) and beyond the bound: refused.
    if (static_cast<int>(queue_.size()) > max_queue_) {
      queue_.pop_back();
      return nullptr;
    }
  }
  cv_.notify_all();
  return job;
}

void SlotPool::Cancel(Job& job) {
  std::function<void(bool)> dropped;
  {
    std::lock_guard lock(mu_);
    job.cancelled_.store(true, std::memory_order_relaxed);
    if (job.state == Job::State::kQueued) {
      std::erase_if(queue_, [&](const std::shared_ptr<Job>& j) { return j.get() == &job; });
      job.state = Job::State::kDone;
      dropped = std::move(job.finished);
    } else if (job.state == Job::State::kRunning && hooks_.cancel) {
      // Under the lock, so the slot cannot have moved on to another job.
      hooks_.cancel(job.slot);
    }
  }
  if (dropped) dropped(false);
}

void SlotPool::Stop() {
  std::deque<std::shared_ptr<Job>> queued;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    queued.swap(queue_);
    for (const std::shared_ptr<Job>& job : queued) {
      job->cancelled_.store(true, std::memory_order_relaxed);
      job->state = Job::State::kDone;
    }
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].job == nullptr) continue;
      slots_[i].job->cancelled_.store(true, std::memory_order_relaxed);
      if (hooks_.cancel) hooks_.cancel(static_cast<int>(i));
    }
  }
  cv_.notify_all();
  for (const std::shared_ptr<Job>& job : queued) {
    if (job->finished) job->finished(false);
  }
}

int SlotPool::queue_depth() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(queue_.size());
}

int SlotPool::busy_slots() const {
  std::lock_guard lock(mu_);
  int busy = 0;
  for (const Slot& s : slots_) busy += s.job != nullptr;
  return busy;
}

void SlotPool::DispatchLocked() {
  while (!queue_.empty()) {
    const std::shared_ptr<Job>& job = queue_.front();
    int best = -1;
    size_t best_prefix = 0;
    for (int i = 0; i < n_slots(); ++i) {
      if (slots_[i].job != nullptr) continue;
      const size_t prefix = hooks_.shared_prefix ? hooks_.shared_prefix(i, job->prompt) : 0;
      if (best < 0 || prefix > best_prefix ||
          (prefix == best_prefix && slots_[i].last_used < slots_[best].last_used)) {
        best = i;
        best_prefix = prefix;
      }
    }
    if (best < 0) return;  // every slot busy
    // Running from here on: Cancel now stops it instead of dropping it.
    job->state = Job::State::kRunning;
    job->slot = best;
    slots_[best].job = job;
    slots_[best].last_used = ++uses_;
    queue_.pop_front();
  }
}

void SlotPool::Work(int slot) {
  while (true) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return slots_[slot].job != nullptr || stopping_; });
      if (slots_[slot].job == nullptr) return;  // stopping, nothing assigned
      job = slots_[slot].job;
    }
    job->run(slot, *job);
    {
      std::lock_guard lock(mu_);
      job->state = Job::State::kDone;
      slots_[slot].job = nullptr;
      DispatchLocked();
    }
    cv_.notify_all();
    if (job->finished) job->finished(true);
  }
}

size_t SharedPrefix(absl::Span<const int32_t> a, absl::Span<const int32_t> b) {
  return static_cast<size_t>(std::mismatch(a.begin(), a.end(), b.begin(), b.end()).first - a.begin());
}

}  // namespace r1::serve
