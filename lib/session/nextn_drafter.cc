// nextn_drafter.cc — rows from the target's hidden states, then chained greedy guesses.
#include "session/nextn_drafter.h"

#include <algorithm>

#include "r1/session.h"

namespace r1 {

namespace {

// Rows of the block's passes: a prompt's rows go through in chunks of this many, so the block's
// buffers stay small beside a session sized for long prompt batches.
constexpr int64_t kMaxRowsPerPass = 64;

}  // namespace

StatusOr<std::unique_ptr<Drafter>> NextnDrafter::Create(Session::Impl& target, const DraftOptions& options) {
  R1_RETURN_IF_ERROR(CheckDraftOptions(options));
  R1_ASSIGN_OR_RETURN(std::unique_ptr<NextnBlock> block,
                      NextnBlock::Create(target.model->impl(), target.n_ctx, std::min(target.n_batch, kMaxRowsPerPass),
                                         target.kv.type(), target.ctx.isa, target.pool.n_threads()));
  return std::unique_ptr<Drafter>(new NextnDrafter(target, std::move(block), options));
}

NextnDrafter::NextnDrafter(Session::Impl& target, std::unique_ptr<NextnBlock> block, const DraftOptions& options)
    : Drafter(options), target_(target), block_(std::move(block)), ctx_(target.ctx) {
  ctx_.observer = nullptr;  // an observer watches the target's products only
}

bool NextnDrafter::Advance(absl::Span<const int32_t> history, bool logits) {
  const Session::Impl& t = target_;
  const int64_t d = t.model->config().d_model;
  const int64_t kept_from = t.hidden_pos0;
  const int64_t kept_end = kept_from + static_cast<int64_t>(t.hidden.size()) / d;
  // The row of position p (state at p, token at p + 1) holds while the tokens up to p + 1 do.
  const int64_t same = std::mismatch(read_.begin(), read_.end(), history.begin(), history.end()).first - read_.begin();
  positions_.erase(std::lower_bound(positions_.begin(), positions_.end(), same - 1), positions_.end());
  read_.assign(history.begin(), history.end());
  const int64_t end = std::min<int64_t>(static_cast<int64_t>(history.size()) - 1, kept_end);
  if (logits && !positions_.empty() && positions_.back() + 1 >= end) positions_.pop_back();  // again, for its guess
  const int64_t start = std::max(positions_.empty() ? 0 : positions_.back() + 1, kept_from);
  if (start >= end) return false;
  for (int64_t p = start; p < end;) {
    const int64_t n = std::min(block_->max_rows(), end - p);
    const int64_t slot = static_cast<int64_t>(positions_.size());
    block_->Run({t.hidden.data() + (p - kept_from) * d, history.data() + p + 1, n, p, slot}, logits && p + n == end, ctx_);
    for (int64_t i = 0; i < n; ++i) positions_.push_back(p + i);
    last_row_ = n - 1;
    p += n;
  }
  target_.DropHiddenBefore(end - 1);  // the last row's state stays: it may run again
  return logits && end == static_cast<int64_t>(history.size()) - 1;
}

Status NextnDrafter::CatchUp(absl::Span<const int32_t> history) {
  Advance(history, false);
  return absl::OkStatus();
}

StatusOr<std::vector<int32_t>> NextnDrafter::Propose(absl::Span<const int32_t> history, int64_t n) {
  std::vector<int32_t> guesses;
  if (n <= 0 || history.size() < 2 || !Advance(history, true)) return guesses;
  // The last row was at the position before the history's last token; each guess's row sits
  // one further, in the slots after the rows made from the target's states.
  int64_t slot = static_cast<int64_t>(positions_.size());
  for (int64_t pos = static_cast<int64_t>(history.size()) - 1;; ++pos, ++slot) {
    guesses.push_back(Argmax(block_->logits()));
    if (static_cast<int64_t>(guesses.size()) == n || slot >= block_->n_ctx()) break;
    block_->Run({block_->output(last_row_), &guesses.back(), 1, pos, slot}, true, ctx_);
    last_row_ = 0;
  }
  return guesses;
}

}  // namespace r1
