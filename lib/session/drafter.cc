// drafter.cc — the draft length: grown while guesses are kept, rested while none are.
#include "session/drafter.h"

#include <algorithm>

#include "absl/strings/str_format.h"

namespace r1 {

Status CheckDraftOptions(const DraftOptions& options) {
  if (options.max_draft_tokens < 1 || options.max_draft_tokens > kMaxDraftTokens) {
    return absl::InvalidArgumentError(absl::StrFormat("max_draft_tokens %d is out of range: 1 to %d",
                                                      options.max_draft_tokens, kMaxDraftTokens));
  }
  return absl::OkStatus();
}

int64_t Drafter::NextLength() {
  if (rest_ > 0) {
    --rest_;
    return 0;
  }
  return length_;
}

void Drafter::Record(int64_t proposed, int64_t accepted) {
  if (!options_.adaptive || proposed <= 0) return;
  length_ = accepted >= proposed ? std::min<int64_t>(length_ + 1, options_.max_draft_tokens)
                                 : std::max<int64_t>(accepted + 1, 1);
  last_rest_ = accepted == 0 ? std::min(std::max<int64_t>(2 * last_rest_, 1), kMaxRest) : 0;
  rest_ = last_rest_;
}

}  // namespace r1
