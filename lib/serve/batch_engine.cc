#include "serve/batch_engine.h"

#include <algorithm>
#include <optional>
#include <utility>

namespace r1::serve {

BatchEngine::BatchEngine(int64_t prefill_chunk)
    : prefill_chunk_(std::max<int64_t>(prefill_chunk, 1)), thread_([this] { Loop(); }) {}

BatchEngine::~BatchEngine() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_.notify_all();
  thread_.join();
  std::unique_lock<std::mutex> lock(mu_);
  finished_.wait(lock, [&] { return callers_ == 0; });
}

int BatchEngine::active() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(entries_.size());
}

StatusOr<GenerateResult> BatchEngine::Run(Session& session, Generation& generation,
                                          const std::atomic<bool>& cancelled) {
  Entry entry{&session, &generation, &cancelled};
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (stopping_) return absl::UnavailableError("the server is stopping");
    entries_.push_back(&entry);
    ++callers_;
    work_.notify_one();
    finished_.wait(lock, [&] { return entry.returned; });
    --callers_;
    if (stopping_) finished_.notify_all();  // the destructor waits for the last caller
  }
  if (!entry.error.ok()) return entry.error;
  return generation.Finish();
}

void BatchEngine::Loop() {
  std::vector<Entry*> entries;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_.wait(lock, [&] { return stopping_ || !entries_.empty(); });
      if (stopping_) {
        // Whoever still waits gets its generation back, ended as cancelled by Finish.
        for (Entry* e : entries_) e->returned = true;
        entries_.clear();
        finished_.notify_all();
        return;
      }
      entries = entries_;
    }
    Round(entries);
    bool any_done = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (Entry* e : entries) {
        if (!e->done) continue;
        entries_.erase(std::find(entries_.begin(), entries_.end(), e));
        e->returned = true;  // from here on the entry is its thread's again
        any_done = true;
      }
    }
    if (any_done) finished_.notify_all();
    rounds_.fetch_add(1, std::memory_order_relaxed);
  }
}

void BatchEngine::Round(const std::vector<Entry*>& entries) {
  // Done entries are only marked here; the caller removes them and wakes their threads.
  const auto fail = [](Entry* e, Status s) {
    e->error = std::move(s);
    e->done = true;
  };
  decoding_.clear();
  sessions_.clear();
  tokens_.clear();
  Entry* shortest_prompt = nullptr;
  for (Entry* e : entries) {
    if (e->cancelled->load(std::memory_order_relaxed)) {
      e->done = true;  // Finish reports it as cancelled
      continue;
    }
    if (!e->generation->prefilled()) {
      if (shortest_prompt == nullptr ||
          e->generation->prompt_tokens_left() < shortest_prompt->generation->prompt_tokens_left()) {
        shortest_prompt = e;
      }
      continue;
    }
    StatusOr<std::optional<int32_t>> next = e->pending ? *std::exchange(e->pending, std::nullopt)
                                                       : e->generation->Next();
    if (!next.ok()) {
      fail(e, next.status());
    } else if (!next->has_value()) {
      e->done = true;
    } else {
      decoding_.push_back(e);
      sessions_.push_back(e->session);
      tokens_.push_back(**next);
    }
  }
  if (decoding_.size() == 1 && sessions_[0]->has_draft()) {
    Entry* e = decoding_[0];
    StatusOr<std::optional<int32_t>> chosen = e->session->EvaluateWithDraft(*e->generation, tokens_[0]);
    if (!chosen.ok()) {
      fail(e, chosen.status());
    } else if (!chosen->has_value()) {
      e->done = true;
    } else {
      e->pending = **chosen;
    }
  } else if (!sessions_.empty()) {
    if (Status s = Session::EvaluateBatch(sessions_, tokens_); !s.ok()) {
      for (Entry* e : decoding_) fail(e, s);
    }
  }
  if (static_cast<int>(sessions_.size()) > widest_.load(std::memory_order_relaxed)) {
    widest_.store(static_cast<int>(sessions_.size()), std::memory_order_relaxed);  // only this thread writes it
  }
  if (shortest_prompt != nullptr) {
    if (Status s = shortest_prompt->generation->Prefill(prefill_chunk_); !s.ok()) fail(shortest_prompt, s);
  }
}

}  // namespace r1::serve
