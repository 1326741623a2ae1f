// drafter.h — what guesses the target's next tokens (speculative decoding), and how many to
// guess each round.
//
// A drafter follows the target's tokens. Each round it catches up with what the target
// accepted, then proposes up to k tokens; the target checks them all in one pass
// (speculative_decode.cc). Its guesses change only the speed, never the output. Two kinds:
// a smaller model with the same vocabulary (model_drafter.h) and the target's own multi-token-
// prediction block (nextn_drafter.h).
#pragma once

#include <cstdint>
#include <vector>

#include "absl/types/span.h"

#include "r1/session.h"

namespace r1 {

// OK when max_draft_tokens is in range.
Status CheckDraftOptions(const DraftOptions& options);

class Drafter {
 public:
  virtual ~Drafter() = default;

  // Reads what it lacks of `history` (the target's context); what it has of it is kept, its
  // rejected guesses go.
  virtual Status CatchUp(absl::Span<const int32_t> history) = 0;

  // Up to `n` tokens expected after `history` (the target's context plus the token it is about
  // to evaluate), none of them an id the target lacks. May be empty.
  virtual StatusOr<std::vector<int32_t>> Propose(absl::Span<const int32_t> history, int64_t n) = 0;

  // How many tokens to propose this round (DraftOptions::adaptive): grows by one after a round
  // the target accepted whole, falls to one more than the accepted count after a rejection.
  // After a round that kept nothing the draft rests (0) for 1, 2, 4 … up to kMaxRest rounds,
  // doubling while its rounds keep nothing: a draft that never agrees then costs little more
  // than decoding alone instead of a checked pass and a draft step per token.
  static constexpr int64_t kMaxRest = 32;
  int64_t NextLength();
  void Record(int64_t proposed, int64_t accepted);

 protected:
  explicit Drafter(const DraftOptions& options) : options_(options), length_(options.max_draft_tokens) {}

 private:
  DraftOptions options_;
  int64_t length_;
  int64_t rest_ = 0;       // rounds left without guesses
  int64_t last_rest_ = 0;  // the latest rest, doubled by the next miss in a row
};

}  // namespace r1
