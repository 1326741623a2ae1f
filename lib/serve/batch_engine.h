// serve/batch_engine.h — continuous batching: every active conversation's next token in one
// forward pass.
//
// Slot workers hand their started generations to the engine and wait. One engine thread steps
// them all: each round decodes the next token of every generating conversation together
// (Session::EvaluateBatch: the weights are read once per round, not once per conversation; each
// conversation's tokens are the ones it gets alone), then computes one prompt chunk of the
// conversation with the least prompt left, so a long prompt is prefilled between other users'
// steps instead of stalling their streams, and a short request is answered soon. Conversations
// join and leave between rounds. A conversation decoding alone whose session has a draft model
// takes a speculative round instead (Session::EvaluateWithDraft): the draft's guesses are what
// share the weight reads then; with company, batching does that and the draft waits.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "r1/generation.h"
#include "r1/session.h"
#include "r1/status.h"

namespace r1::serve {

class BatchEngine {
 public:
  // prefill_chunk: prompt tokens computed per round (at most one chunk per round).
  explicit BatchEngine(int64_t prefill_chunk = 256);
  // Ends every generation still running (as cancelled), stops the thread and waits until every
  // Run has returned.
  ~BatchEngine();
  BatchEngine(const BatchEngine&) = delete;
  BatchEngine& operator=(const BatchEngine&) = delete;

  // Runs `generation` (started on `session`) to its end together with the others and returns
  // its result; blocks the calling thread until then. `cancelled` stops it between rounds, in
  // the prompt as well as in the answer. The sessions must share a model, cache type and batch
  // invariance; each is used by the engine alone until Run returns.
  StatusOr<GenerateResult> Run(Session& session, Generation& generation, const std::atomic<bool>& cancelled);

  // Conversations in the engine now, and rounds run so far (for metrics and tests).
  int active() const;
  uint64_t rounds() const { return rounds_.load(std::memory_order_relaxed); }
  // The most conversations decoded in one round so far.
  int widest_round() const { return widest_.load(std::memory_order_relaxed); }

 private:
  struct Entry {
    Session* session;
    Generation* generation;
    const std::atomic<bool>* cancelled;
    Status error;
    // The choice a speculative round ended on, still to be evaluated (Generation::Next made it).
    std::optional<int32_t> pending;
    bool done = false;      // the engine's own mark, set during a round
    bool returned = false;  // set under mu_ once the engine has let go of the entry
  };
  void Loop();
  void Round(const std::vector<Entry*>& entries);

  const int64_t prefill_chunk_;
  // A round's decode batch, kept between rounds so that a round allocates nothing.
  std::vector<Entry*> decoding_;
  std::vector<Session*> sessions_;
  std::vector<int32_t> tokens_;
  mutable std::mutex mu_;
  std::condition_variable work_, finished_;
  std::vector<Entry*> entries_;
  bool stopping_ = false;
  int callers_ = 0;  // threads inside Run
  std::atomic<uint64_t> rounds_{0};
  std::atomic<int> widest_{0};
  std::thread thread_;
};

}  // namespace r1::serve
