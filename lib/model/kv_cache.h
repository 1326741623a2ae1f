// kv_cache.h — keys and values of every position seen so far, per layer.
//
// Dense models cache n_kv_heads * head_dim keys and as many values per position. MLA models
// (deepseek2) cache one row per position: the normalized latent (kv_lora_rank) followed by the
// rotated shared key part (n_rot), in the key array, and no separate values.
#pragma once

#include <cstdint>
#include <vector>

#include "r1/status.h"

namespace r1 {

class KvCache {
 public:
  // Reserves n_ctx positions of n_k_dim keys and n_v_dim values for each of n_layers layers.
  Status Init(int64_t n_layers, int64_t n_ctx, int64_t n_k_dim, int64_t n_v_dim);
  Status Init(int64_t n_layers, int64_t n_ctx, int64_t n_kv_dim) { return Init(n_layers, n_ctx, n_kv_dim, n_kv_dim); }

  int64_t n_ctx() const { return n_ctx_; }
  int64_t n_layers() const { return n_layers_; }
  int64_t n_kv_dim() const { return n_k_dim_; }
  int64_t n_k_dim() const { return n_k_dim_; }  // values per position per layer in Keys
  int64_t n_v_dim() const { return n_v_dim_; }  // values per position per layer in Values (0 for MLA)

  float* Keys(int64_t layer) { return k_.data() + static_cast<size_t>(layer * n_ctx_ * n_k_dim_); }    // [n_ctx, n_k_dim]
  float* Values(int64_t layer) { return v_.data() + static_cast<size_t>(layer * n_ctx_ * n_v_dim_); }  // [n_ctx, n_v_dim]
  uint64_t bytes() const { return (k_.size() + v_.size()) * sizeof(float); }

 private:
  int64_t n_layers_ = 0;
  int64_t n_ctx_ = 0;
  int64_t n_k_dim_ = 0;
  int64_t n_v_dim_ = 0;
  std::vector<float> k_, v_;
};

}  // namespace r1
