#include "model/kv_cache.h"

#include "absl/strings/str_format.h"
#include "quant/quant_kernels.h"

namespace r1 {

Status KvCache::Init(int64_t n_layers, int64_t n_ctx, int64_t n_k_dim, int64_t n_v_dim, DType type,
                     int64_t head_align, Isa isa) {
  constexpr uint64_t kMaxBytes = uint64_t{1} << 40;  // 1 TiB
  if (n_layers <= 0 || n_ctx <= 0 || n_k_dim <= 0 || n_v_dim < 0 || n_layers > (1 << 16) || n_k_dim > (1 << 24) ||
      n_v_dim > (1 << 24) || n_ctx > (int64_t{1} << 32)) {
    return absl::InvalidArgumentError(absl::StrFormat("KV cache of %d positions is too large", n_ctx));
  }
  if (type != DType::kF32 && type != DType::kF16 && type != DType::kQ8_0) {
    return absl::InvalidArgumentError("the KV cache stores f32, f16 or q8_0");
  }
  const uint32_t block = GetDTypeTraits(static_cast<uint32_t>(type))->block_size;
  if (head_align <= 0 || head_align % block != 0 || n_k_dim % head_align != 0 || n_v_dim % block != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "a %s KV cache needs head sizes that are multiples of %d (this model's: %d)",
        GetDTypeTraits(static_cast<uint32_t>(type))->name, block, head_align));
  }
  const QuantKernels* k = GetQuantKernels(isa, type);
  const uint64_t k_row = *RowBytes(type, static_cast<uint64_t>(n_k_dim));
  const uint64_t v_row = n_v_dim > 0 ? *RowBytes(type, static_cast<uint64_t>(n_v_dim)) : 0;
  const uint64_t per_pos = static_cast<uint64_t>(n_layers) * (k_row + v_row);
  if (static_cast<uint64_t>(n_ctx) > kMaxBytes / per_pos) {
    return absl::InvalidArgumentError(absl::StrFormat("KV cache of %d positions is too large", n_ctx));
  }
  const uint64_t bytes = per_pos * static_cast<uint64_t>(n_ctx);
  if (!memory_.Reserve(bytes).ok()) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "cannot reserve a KV cache of %d MiB for %d positions; a shorter context or the q8_0 cache type "
        "needs less",
        bytes >> 20, n_ctx));
  }
  n_layers_ = n_layers;
  n_ctx_ = n_ctx;
  n_k_dim_ = n_k_dim;
  n_v_dim_ = n_v_dim;
  type_ = type;
  k_row_bytes_ = k_row;
  v_row_bytes_ = v_row;
  v_base_ = static_cast<uint64_t>(n_layers) * static_cast<uint64_t>(n_ctx) * k_row;
  from_float_ = k->from_float;
  to_float_ = k->to_float;
  return absl::OkStatus();
}

void KvCache::StoreKeys(int64_t layer, int64_t pos, int64_t n, const float* rows, int64_t stride) const {
  for (int64_t i = 0; i < n; ++i) from_float_(rows + i * stride, KeyRow(layer, pos + i), n_k_dim_);
}

void KvCache::StoreValues(int64_t layer, int64_t pos, int64_t n, const float* rows, int64_t stride) const {
  for (int64_t i = 0; i < n; ++i) from_float_(rows + i * stride, ValueRow(layer, pos + i), n_v_dim_);
}

void KvCache::LoadKeys(int64_t layer, int64_t pos, float* out) const { to_float_(KeyRow(layer, pos), out, n_k_dim_); }

void KvCache::LoadValues(int64_t layer, int64_t pos, float* out) const {
  to_float_(ValueRow(layer, pos), out, n_v_dim_);
}

}  // namespace r1
