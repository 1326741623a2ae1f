// kv_cache.h — keys and values of every position seen so far, per layer.
#pragma once

#include <cstdint>
#include <vector>

#include "r1/status.h"

namespace r1 {

class KvCache {
 public:
  // Reserves n_ctx positions of n_kv_dim keys and values for each of n_layers layers.
  Status Init(int64_t n_layers, int64_t n_ctx, int64_t n_kv_dim);

  int64_t n_ctx() const { return n_ctx_; }
  int64_t n_kv_dim() const { return n_kv_dim_; }

  float* Keys(int64_t layer) { return k_.data() + Offset(layer); }    // [n_ctx, n_kv_dim]
  float* Values(int64_t layer) { return v_.data() + Offset(layer); }  // [n_ctx, n_kv_dim]
  uint64_t bytes() const { return (k_.size() + v_.size()) * sizeof(float); }

 private:
  size_t Offset(int64_t layer) const { return static_cast<size_t>(layer * n_ctx_ * n_kv_dim_); }
  int64_t n_ctx_ = 0;
  int64_t n_kv_dim_ = 0;
  std::vector<float> k_, v_;
};

}  // namespace r1
