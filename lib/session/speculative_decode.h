// speculative_decode.h — the decode loop with a draft model: guess, check in one pass, keep.
#pragma once

#include <cstdint>
#include <optional>

#include "r1/generation.h"
#include "session/drafter.h"

namespace r1 {

// Runs `g` (prefilled) to its end on `target`: each round the drafter guesses the tokens after
// the one just chosen, the target evaluates that token and the guesses in one pass, and the
// generation chooses from each row in turn for as long as its choice is the guess. The first
// choice that differs is the round's last token; the guesses after it are dropped from the
// target's context (the draft drops them at its next guess). Because every token is chosen by
// the generation from the target's own logits at its own position, the output is the one
// decoding without a draft gives.
Status DecodeWithDraft(Session& target, Drafter& drafter, Generation& g);

// One round of that loop: `next` is g's latest choice, not yet evaluated; returns g's next
// choice (nullopt: g has ended). The draft catches up with the target first, so rounds may be
// interleaved with steps taken without it.
StatusOr<std::optional<int32_t>> SpeculativeRound(Session& target, Drafter& drafter, Generation& g, int32_t next);

}  // namespace r1
