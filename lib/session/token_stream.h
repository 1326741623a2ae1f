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
  TokenStream(const Tokenizer& tokenizer, const std::vector<std::string>& stops, Channel initial,
              std::optional<int32_t> think_open, std::optional<int32_t> think_close,
              const StreamCallback& on_piece);

  enum class Verdict { kContinue, kStopString, kCallbackStop };

  // Takes one generated token: markers switch the channel; other tokens' text is emitted once
  // it is complete UTF-8 and cannot be the start of a stop string.
  StatusOr<Verdict> Push(int32_t id);
  // Emits whatever is still held back (at the end of a generation that did not hit a stop).
  Verdict Finish();

  Channel channel() const { return channel_; }
  std::string& reasoning() { return reasoning_; }
  std::string& content() { return content_; }

 private:
  Verdict Emit(std::string_view text, int32_t token);
  Verdict FlushHeld(int32_t token);

  StreamDecoder decoder_;
  const std::vector<std::string>& stops_;
  Channel channel_;
  std::optional<int32_t> think_open_, think_close_;
  const StreamCallback& on_piece_;
  std::string held_;  // decoded text that might begin a stop string
  std::string reasoning_, content_;
};

}  // namespace r1
