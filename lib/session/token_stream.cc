// token_stream.cc — channel switching on think markers, stop strings across token boundaries.
#include "session/token_stream.h"

#include <algorithm>

namespace r1 {
namespace {

DecodeOptions ContinuationDecoding() {
  DecodeOptions o;
  o.render_special = false;       // markers and end tokens are not text for the reader
  o.strip_prefix_space = false;   // generated text continues a prompt
  o.replace_invalid_utf8 = true;  // pieces are always valid UTF-8
  return o;
}

// Length of the longest suffix of `text` that is a proper prefix of some stop string.
size_t HeldSuffixLength(std::string_view text, const std::vector<std::string>& stops) {
  size_t best = 0;
  for (const std::string& stop : stops) {
    if (stop.empty()) continue;
    for (size_t len = std::min(text.size(), stop.size() - 1); len > best; --len) {
      if (text.substr(text.size() - len) == std::string_view(stop).substr(0, len)) {
        best = len;
        break;
      }
    }
  }
  return best;
}

}  // namespace

TokenStream::TokenStream(const Tokenizer& tokenizer, const std::vector<std::string>& stops, Channel initial,
                         std::optional<int32_t> think_open, std::optional<int32_t> think_close,
                         const StreamCallback& on_piece)
    : decoder_(tokenizer, ContinuationDecoding()),
      stops_(stops),
      channel_(initial),
      think_open_(think_open),
      think_close_(think_close),
      on_piece_(on_piece) {}

TokenStream::Verdict TokenStream::Emit(std::string_view text, int32_t token) {
  if (text.empty()) return Verdict::kContinue;
  (channel_ == Channel::kReasoning ? reasoning_ : content_).append(text);
  if (on_piece_ && !on_piece_(StreamPiece{channel_, text, token})) return Verdict::kCallbackStop;
  return Verdict::kContinue;
}

TokenStream::Verdict TokenStream::FlushHeld(int32_t token) {
  std::string text = std::move(held_);
  held_.clear();
  text += decoder_.Flush();
  return Emit(text, token);
}

StatusOr<TokenStream::Verdict> TokenStream::Push(int32_t id) {
  if (id == think_open_ || id == think_close_) {
    // A stop string cannot span a channel switch: release what was held for this channel.
    if (FlushHeld(id) == Verdict::kCallbackStop) return Verdict::kCallbackStop;
    channel_ = id == think_open_ ? Channel::kReasoning : Channel::kContent;
    return Verdict::kContinue;
  }
  R1_ASSIGN_OR_RETURN(std::string text, decoder_.Push(id));
  held_ += text;
  // The earliest complete stop string ends the generation; the text before it is emitted.
  size_t first = std::string::npos;
  for (const std::string& stop : stops_) {
    if (!stop.empty()) first = std::min(first, held_.find(stop));
  }
  if (first != std::string::npos) {
    Emit(std::string_view(held_).substr(0, first), id);
    held_.clear();
    return Verdict::kStopString;
  }
  const size_t keep = HeldSuffixLength(held_, stops_);
  const std::string ready = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return Emit(ready, id);
}

TokenStream::Verdict TokenStream::Finish() { return FlushHeld(-1); }

}  // namespace r1
