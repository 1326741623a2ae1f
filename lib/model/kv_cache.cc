#include "model/kv_cache.h"

#include <new>

#include "absl/strings/str_format.h"

namespace r1 {

Status KvCache::Init(int64_t n_layers, int64_t n_ctx, int64_t n_kv_dim) {
  const uint64_t n = static_cast<uint64_t>(n_layers) * static_cast<uint64_t>(n_ctx) * static_cast<uint64_t>(n_kv_dim);
  const uint64_t bytes = 2 * n * sizeof(float);
  if (n_ctx <= 0 || n / static_cast<uint64_t>(n_ctx) != static_cast<uint64_t>(n_layers * n_kv_dim) ||
      bytes > (uint64_t{1} << 40)) {
    return absl::InvalidArgumentError(absl::StrFormat("KV cache of %d positions is too large", n_ctx));
  }
  n_ctx_ = n_ctx;
  n_kv_dim_ = n_kv_dim;
  // Zero-filled on first touch by the OS; positions are written before they are read.
  k_ = std::vector<float>();
  v_ = std::vector<float>();
  try {
    k_.resize(n);
    v_.resize(n);
  } catch (const std::bad_alloc&) {
    k_ = {};
    v_ = {};
    return absl::ResourceExhaustedError(
        absl::StrFormat("cannot allocate a KV cache of %d MiB for %d positions", bytes >> 20, n_ctx));
  }
  return absl::OkStatus();
}

}  // namespace r1
