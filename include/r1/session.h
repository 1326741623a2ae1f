// r1/session.h — one conversation's state on a Model: its KV cache, buffers and threads.
//
// A Session is thread-compatible: use it from one thread at a time. Many Sessions may share
// one Model concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "absl/types/span.h"
#include "r1/export.h"
#include "r1/model.h"
#include "r1/status.h"

namespace r1 {

struct SessionOptions {
  int64_t n_ctx = 0;      // context length; 0 = the model's training context, at most 4096
  int n_threads = 0;      // 0 = all hardware threads
  int64_t n_batch = 512;  // prompt tokens per forward pass
};

class R1_API Session {
 public:
  static StatusOr<std::unique_ptr<Session>> Create(std::shared_ptr<const Model> model,
                                                   const SessionOptions& options = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Appends `tokens` to the context and runs the model over them (in batches of n_batch).
  // Afterwards Logits() holds the last token's logits, or every new token's when all_logits.
  // Errors (nothing is appended): empty input, an id outside [0, n_vocab), or not enough
  // room left in the context.
  Status Evaluate(absl::Span<const int32_t> tokens, bool all_logits = false);

  // Logits of the last Evaluate: row i of its returned rows ([n_vocab] floats); with the
  // default, the last row. Valid until the next call that changes the session.
  absl::Span<const float> Logits(int64_t row = -1) const;
  int64_t n_logit_rows() const;

  int64_t n_past() const;   // positions filled in the context
  int64_t n_ctx() const;
  int n_threads() const;
  std::string_view isa() const;  // the kernel instruction set in use ("avx512", "scalar", …)
  const Model& model() const;

  // Forgets positions from n on (0 clears the context).
  Status Truncate(int64_t n);

  struct Impl;

 private:
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Index of the largest value; the lowest index wins ties. Empty input gives -1.
R1_API int32_t Argmax(absl::Span<const float> values);

}  // namespace r1
