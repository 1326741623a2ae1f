#include "model/kv_cache.h"

#include <new>

#include "absl/strings/str_format.h"

namespace r1 {

Status KvCache::Init(int64_t n_layers, int64_t n_ctx, int64_t n_k_dim, int64_t n_v_dim) {
  constexpr uint64_t kMaxValues = uint64_t{1} << 38;  // 1 TiB of f32
  if (n_layers <= 0 || n_ctx <= 0 || n_k_dim <= 0 || n_v_dim < 0 || n_layers > (1 << 16) || n_k_dim > (1 << 24) ||
      n_v_dim > (1 << 24)) {
    return absl::InvalidArgumentError(absl::StrFormat("KV cache of %d positions is too large", n_ctx));
  }
  const uint64_t per_pos = static_cast<uint64_t>(n_layers) * static_cast<uint64_t>(n_k_dim + n_v_dim);
  if (static_cast<uint64_t>(n_ctx) > kMaxValues / per_pos) {
    return absl::InvalidArgumentError(absl::StrFormat("KV cache of %d positions is too large", n_ctx));
  }
  const uint64_t nk = static_cast<uint64_t>(n_layers) * static_cast<uint64_t>(n_ctx) * static_cast<uint64_t>(n_k_dim);
  const uint64_t nv = static_cast<uint64_t>(n_layers) * static_cast<uint64_t>(n_ctx) * static_cast<uint64_t>(n_v_dim);
  const uint64_t bytes = (nk + nv) * sizeof(float);
  n_layers_ = n_layers;
  n_ctx_ = n_ctx;
  n_k_dim_ = n_k_dim;
  n_v_dim_ = n_v_dim;
  // Zero-filled on first touch by the OS; positions are written before they are read.
  k_ = std::vector<float>();
  v_ = std::vector<float>();
  try {
    k_.resize(nk);
    v_.resize(nv);
  } catch (const std::bad_alloc&) {
    k_ = {};
    v_ = {};
    return absl::ResourceExhaustedError(
        absl::StrFormat("cannot allocate a KV cache of %d MiB for %d positions", bytes >> 20, n_ctx));
  }
  return absl::OkStatus();
}

}  // namespace r1
