// token_stream.h — generated tokens → streamed text pieces, by channel, with stop strings.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "r1/session.h"
#include "r1/tokenizer.h"

namespace r1 {

class TokenStream {
 public:
  // think_open / think_close: the ids of <think> and </think>, when the vocabulary has them.
  // section_markers: texts that open a tool-call section in the answer; from one on, the
  // output is kept aside (tool_section) instead of streamed as content.
  TokenStream(const Tokenizer& tokenizer, const std::vector<std::string>& stops, Channel initial,
              std::optional<int32_t> think_open, std::optional<int32_t> think_close,
              const StreamCallback& on_piece, std::vector<std::string> section_markers = {});

  enum class Verdict { kContinue, kStopString, kCallbackStop };

  // Takes one generated token: markers switch the channel; other tokens' text is emitted once
  // it is complete UTF-8 and cannot be the start of a stop string.
  StatusOr<Verdict> Push(int32_t id);
  // Emits whatever is still held back (at the end of a generation that did not hit a stop).
  Verdict Finish();

  Channel channel() const { return channel_; }
  std::string& reasoning() { return reasoning_; }
  std::string& content() { return content_; }
  // The tool-call section, control tokens written out; empty when none opened.
  const std::string& tool_section() const { return section_; }
  bool in_tool_section() const { return in_section_; }
  // Streams a section that turned out not to hold calls as the content it then is.
  Verdict ReleaseToolSection();

 private:
  Verdict Emit(std::string_view text, int32_t token);
  Verdict FlushHeld(int32_t token);
  bool IsSectionMarkerToken(int32_t id) const;
  size_t FindSectionMarker(std::string_view text) const;
  StatusOr<std::string> SectionText(int32_t id);

  StreamDecoder decoder_;
  const std::vector<std::string>& stops_;
  Channel channel_;
  std::optional<int32_t> think_open_, think_close_;
  const StreamCallback& on_piece_;
  std::string held_;  // decoded text that might begin a stop string or a section marker
  std::string reasoning_, content_;
  const Tokenizer& tokenizer_;
  std::vector<std::string> markers_;
  std::vector<int32_t> marker_ids_;  // markers that are control tokens (never decoded as text)
  bool in_section_ = false;
  std::string section_;
};

}  // namespace r1
