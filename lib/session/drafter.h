// drafter.h — a small model that guesses the target's next tokens (speculative decoding).
//
// The draft keeps its own session over the same tokens as the target. Each round it catches up
// with what the target accepted, then proposes up to k tokens greedily; the target checks them
// all in one pass (speculative_decode.cc). Its guesses change only the speed, never the output.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/types/span.h"

#include "r1/session.h"
#include "r1/tokenizer.h"

namespace r1 {

// OK when `draft` spells every token it shares with `target` the same (ids below both
// vocabularies' sizes; a draft may have fewer ids than the target), else InvalidArgument naming
// the first difference.
Status CheckDraftVocabulary(const Tokenizer& target, const Tokenizer& draft);

class Drafter {
 public:
  // A session of `draft` sized like the target's (`like`).
  static StatusOr<std::unique_ptr<Drafter>> Create(std::shared_ptr<const Model> draft, const Session& like,
                                                   const DraftOptions& options);

  // Evaluates in the draft what it lacks of `history` (what it has of it is kept, its rejected
  // guesses go).
  Status CatchUp(absl::Span<const int32_t> history);

  // Up to `n` tokens the draft expects after `history` (the target's context plus the token it
  // is about to evaluate), stopping before any id the target does not have. Empty while the
  // history holds an id the draft does not have.
  StatusOr<std::vector<int32_t>> Propose(absl::Span<const int32_t> history, int64_t n);

  // How many tokens to propose this round (DraftOptions::adaptive): grows by one after a round
  // the target accepted whole, falls to one more than the accepted count after a rejection.
  // After a round that kept nothing the draft rests (0) for 1, 2, 4 … up to kMaxRest rounds,
  // doubling while its rounds keep nothing: a draft that never agrees then costs little more
  // than decoding alone instead of a checked pass and a draft step per token.
  static constexpr int64_t kMaxRest = 32;
  int64_t NextLength();
  void Record(int64_t proposed, int64_t accepted);

  const Session& session() const { return *session_; }

 private:
  Drafter(std::unique_ptr<Session> session, const DraftOptions& options, int32_t target_vocab);

  std::unique_ptr<Session> session_;
  int32_t target_vocab_;
  DraftOptions options_;
  int64_t length_;
  int64_t rest_ = 0;       // rounds left without guesses
  int64_t last_rest_ = 0;  // the latest rest, doubled by the next miss in a row
};

}  // namespace r1
