// resource_limits.cc — bounds on caller-chosen thread counts and context sizes.
#include "runtime/resource_limits.h"

#include <algorithm>
#include <thread>

#include "absl/strings/str_format.h"

namespace r1 {

int MaxThreadCount() {
  constexpr int kPerHardwareThread = 4, kFloor = 64;
  const unsigned hw = std::thread::hardware_concurrency();
  return std::max(kFloor, kPerHardwareThread * static_cast<int>(std::min(hw, 1u << 20)));
}

Status CheckThreadCount(int64_t n, std::string_view what) {
  const int limit = MaxThreadCount();
  if (n < 1 || n > limit) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s %d is out of range: it must be between 1 and %d (4 per hardware thread of this "
        "machine, at least 64)",
        what, n, limit));
  }
  return absl::OkStatus();
}

Status CheckContextSizes(int64_t n_ctx, int64_t n_batch) {
  if (n_ctx < 1 || n_ctx > kMaxContextPositions) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "n_ctx %d is out of range: a context holds 1 to %d positions", n_ctx, kMaxContextPositions));
  }
  if (n_batch < 1 || n_batch > kMaxBatchTokens) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "n_batch %d is out of range: a forward pass takes 1 to %d tokens", n_batch, kMaxBatchTokens));
  }
  return absl::OkStatus();
}

}  // namespace r1
