#include "serve/generation_channel.h"

#include <utility>

namespace r1::serve {

void GenerationChannel::Push(Channel channel, std::string_view text) {
  {
    std::lock_guard lock(mu_);
    pieces_.push_back({channel, std::string(text)});
  }
  cv_.notify_all();
}

void GenerationChannel::Finish(StatusOr<GenerateResult> result) {
  {
    std::lock_guard lock(mu_);
    result_ = std::move(result);
  }
  cv_.notify_all();
}

bool GenerationChannel::Wait(std::chrono::milliseconds timeout, std::vector<Piece>* out) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return !pieces_.empty() || result_.has_value(); });
  for (Piece& p : pieces_) out->push_back(std::move(p));
  pieces_.clear();
  return result_.has_value();
}

}  // namespace r1::serve
