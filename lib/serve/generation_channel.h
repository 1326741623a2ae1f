// serve/generation_channel.h — hands one request's generation from the slot's worker thread
// to the HTTP thread that answers it: pieces as they come, then the result.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "r1/session.h"

namespace r1::serve {

class GenerationChannel {
 public:
  struct Piece {
    Channel channel;
    std::string text;
  };

  // Worker side.
  void Push(Channel channel, std::string_view text);
  void Finish(StatusOr<GenerateResult> result);

  // HTTP side: waits up to `timeout` for pieces or the end, and moves the pieces waiting
  // into *out. True once the generation has finished and every piece was taken.
  bool Wait(std::chrono::milliseconds timeout, std::vector<Piece>* out);
  // Valid after Wait returned true.
  const StatusOr<GenerateResult>& result() const { return *result_; }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Piece> pieces_;
  std::optional<StatusOr<GenerateResult>> result_;
};

}  // namespace r1::serve
