// kv_cache.h — keys and values of every position seen so far, per layer, in the session's
// cache type (f16, q8_0 or f32).
//
// Dense models cache n_kv_heads * head_dim keys and as many values per position. MLA models
// (deepseek2) cache one row per position: the normalized latent (kv_lora_rank) followed by the
// rotated shared key part (n_rot), in the key rows, and no separate values.
//
// The whole context is reserved up front but only written positions become resident memory.
#pragma once

#include <cstdint>

#include "kernels/isa.h"
#include "ops/attention.h"
#include "r1/dtype.h"
#include "r1/status.h"
#include "runtime/reserved_memory.h"

namespace r1 {

class KvCache {
 public:
  // Reserves n_ctx positions of n_k_dim keys and n_v_dim values for each of n_layers layers,
  // stored as `type` (F32, F16 or Q8_0; Q8_0 needs every head's width, `head_align`, to be a
  // multiple of its 32-value blocks). `isa` picks the conversion kernels.
  Status Init(int64_t n_layers, int64_t n_ctx, int64_t n_k_dim, int64_t n_v_dim, DType type, int64_t head_align,
              Isa isa);

  int64_t n_ctx() const { return n_ctx_; }
  int64_t n_layers() const { return n_layers_; }
  int64_t n_k_dim() const { return n_k_dim_; }  // values per position per layer in the keys
  int64_t n_v_dim() const { return n_v_dim_; }  // values per position per layer in the values (0 for MLA)
  DType type() const { return type_; }
  uint64_t k_row_bytes() const { return k_row_bytes_; }
  uint64_t v_row_bytes() const { return v_row_bytes_; }
  uint64_t bytes_per_position() const { return static_cast<uint64_t>(n_layers_) * (k_row_bytes_ + v_row_bytes_); }
  uint64_t reserved_bytes() const { return memory_.size(); }

  KvRows Keys(int64_t layer) const { return {KeyRow(layer, 0), type_, k_row_bytes_}; }
  KvRows Values(int64_t layer) const { return {ValueRow(layer, 0), type_, v_row_bytes_}; }
  uint8_t* KeyRow(int64_t layer, int64_t pos) const { return memory_.data() + k_offset(layer, pos); }
  uint8_t* ValueRow(int64_t layer, int64_t pos) const { return memory_.data() + v_offset(layer, pos); }

  // Stores n rows of f32 keys (values), `stride` floats apart, at positions pos .. pos + n - 1
  // of `layer`, converted to the cache type.
  void StoreKeys(int64_t layer, int64_t pos, int64_t n, const float* rows, int64_t stride) const;
  void StoreValues(int64_t layer, int64_t pos, int64_t n, const float* rows, int64_t stride) const;
  // Reads one cached row back as f32 (n_k_dim or n_v_dim values).
  void LoadKeys(int64_t layer, int64_t pos, float* out) const;
  void LoadValues(int64_t layer, int64_t pos, float* out) const;

 private:
  uint64_t k_offset(int64_t layer, int64_t pos) const {
    return static_cast<uint64_t>(layer * n_ctx_ + pos) * k_row_bytes_;
  }
  uint64_t v_offset(int64_t layer, int64_t pos) const {
    return v_base_ + static_cast<uint64_t>(layer * n_ctx_ + pos) * v_row_bytes_;
  }

  int64_t n_layers_ = 0;
  int64_t n_ctx_ = 0;
  int64_t n_k_dim_ = 0;
  int64_t n_v_dim_ = 0;
  DType type_ = DType::kF16;
  uint64_t k_row_bytes_ = 0;
  uint64_t v_row_bytes_ = 0;
  uint64_t v_base_ = 0;  // where the value rows start
  void (*from_float_)(const float*, void*, int64_t) = nullptr;
  void (*to_float_)(const void*, float*, int64_t) = nullptr;
  ReservedMemory memory_;
};

}  // namespace r1
