// nextn_drafter.h — the target's own multi-token-prediction (MTP) block as the drafter.
//
// The block reads the target's last hidden states, which the session keeps for it
// (Session::Impl::keep_hidden), one row per position: (hidden state at p, token at p + 1),
// whose logits guess the token at p + 2. Rows made from the target's states stay in the block's
// cache while the tokens they were made from stay in the context. Further guesses chain: each
// guess's row takes the previous row's output in place of the target's hidden state; those rows
// are overwritten next round. Where the context changed at a position whose state the session
// no longer keeps (a new prompt diverging from the old context), that one row is skipped: the
// cache holds the rows before and after it, each rotated for its own position.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "model/nextn_block.h"
#include "session/drafter.h"
#include "session/session_impl.h"

namespace r1 {

class NextnDrafter final : public Drafter {
 public:
  // The block of `target`'s model, with a cache as long as target's context (NextnBlock::Create's
  // errors when the model has no usable block).
  static StatusOr<std::unique_ptr<Drafter>> Create(Session::Impl& target, const DraftOptions& options);

  Status CatchUp(absl::Span<const int32_t> history) override;
  StatusOr<std::vector<int32_t>> Propose(absl::Span<const int32_t> history, int64_t n) override;

 private:
  NextnDrafter(Session::Impl& target, std::unique_ptr<NextnBlock> block, const DraftOptions& options);

  // Runs the rows of `history` (the target's context, maybe with its next token) that the
  // target's kept states allow and the cache lacks. With `logits`, true when the last row
  // possible was run and its guess is in the block's logits; its output is output(last_row_).
  bool Advance(absl::Span<const int32_t> history, bool logits);

  Session::Impl& target_;
  std::unique_ptr<NextnBlock> block_;
  OpContext ctx_;                   // the target's kernels and threads
  std::vector<int32_t> read_;       // the history the cached rows were made from
  std::vector<int64_t> positions_;  // the position of each row made from the target's states, rising
  int64_t last_row_ = 0;            // the latest pass's last row
};

}  // namespace r1
