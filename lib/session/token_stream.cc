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
size_t HeldSuffixLength(std::string_view text, const std::vector<std::string>& stops, size_t best = 0) {
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
                         const StreamCallback& on_piece, std::vector<std::string> section_markers)
    : decoder_(tokenizer, ContinuationDecoding()),
      stops_(stops),
      channel_(initial),
      think_open_(think_open),
      think_close_(think_close),
      on_piece_(on_piece),
      tokenizer_(tokenizer),
      markers_(std::move(section_markers)) {
  for (const std::string& marker : markers_) {
    const std::optional<int32_t> id = tokenizer.FindToken(marker);
    if (id && tokenizer.GetTokenType(*id).value_or(TokenType::kNormal) == TokenType::kControl) marker_ids_.push_back(*id);
  }
}

bool TokenStream::IsSectionMarkerToken(int32_t id) const {
  return std::find(marker_ids_.begin(), marker_ids_.end(), id) != marker_ids_.end();
}

size_t TokenStream::FindSectionMarker(std::string_view text) const {
  size_t first = std::string::npos;
  for (const std::string& marker : markers_) first = std::min(first, text.find(marker));
  return first;
}

// A token's text in a tool-call section, where control tokens are written out.
StatusOr<std::string> TokenStream::SectionText(int32_t id) {
  R1_ASSIGN_OR_RETURN(std::string text, decoder_.Push(id));
  R1_ASSIGN_OR_RETURN(TokenType type, tokenizer_.GetTokenType(id));
  if (type == TokenType::kControl) {
    R1_ASSIGN_OR_RETURN(std::string_view control, tokenizer_.TokenText(id));
    text += control;
  }
  return text;
}

TokenStream::Verdict TokenStream::ReleaseToolSection() {
  in_section_ = false;
  std::string text = std::move(section_);
  section_.clear();
  text += decoder_.Flush();
  channel_ = Channel::kContent;
  return Emit(text, -1);
}

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
  if (in_section_) {  // a tool-call section runs to the end of the answer
    R1_ASSIGN_OR_RETURN(std::string text, SectionText(id));
    section_ += text;
    return Verdict::kContinue;
  }
  const bool answering = channel_ == Channel::kContent;
  if (answering && IsSectionMarkerToken(id)) {
    if (FlushHeld(id) == Verdict::kCallbackStop) return Verdict::kCallbackStop;
    in_section_ = true;
    R1_ASSIGN_OR_RETURN(section_, SectionText(id));
    return Verdict::kContinue;
  }
  R1_ASSIGN_OR_RETURN(std::string text, decoder_.Push(id));
  held_ += text;
  // The earliest complete stop string ends the generation, the earliest section marker opens
  // a tool-call section; the text before either is emitted.
  size_t first = std::string::npos;
  for (const std::string& stop : stops_) {
    if (!stop.empty()) first = std::min(first, held_.find(stop));
  }
  const size_t marker = answering ? FindSectionMarker(held_) : std::string::npos;
  if (marker < first) {
    const Verdict v = Emit(std::string_view(held_).substr(0, marker), id);
    section_ = held_.substr(marker);
    held_.clear();
    in_section_ = true;
    return v;
  }
  if (first != std::string::npos) {
    Emit(std::string_view(held_).substr(0, first), id);
    held_.clear();
    return Verdict::kStopString;
  }
  const size_t keep = HeldSuffixLength(held_, stops_, answering ? HeldSuffixLength(held_, markers_) : 0);
  const std::string ready = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return Emit(ready, id);
}

TokenStream::Verdict TokenStream::Finish() {
  if (in_section_) {
    section_ += decoder_.Flush();
    return Verdict::kContinue;
  }
  return FlushHeld(-1);
}

}  // namespace r1
