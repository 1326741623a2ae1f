// product_observer.h — a hook that sees the input of every weight product of a forward pass,
// for tools that study activations (the importance matrix of quantization).
#pragma once

#include <cstdint>

#include "tensor/weight_view.h"

namespace r1 {

class ProductObserver {
 public:
  virtual ~ProductObserver() = default;
  // x: [n_tokens, w.n_in], the activations about to be multiplied by w (an expert's matrix for
  // mixture-of-experts layers: only the tokens routed to it). Called on the forward pass's
  // thread, before the product.
  virtual void OnProduct(const WeightMatrix& w, const float* x, int64_t n_tokens) = 0;
  // Per-head products (MLA): head h multiplies heads[h] with its slice of each token's row,
  // x + t * x_tok_stride + h * x_head_stride (heads[0].n_in values).
  virtual void OnHeadProducts(const WeightMatrix* heads, int64_t n_heads, const float* x, int64_t x_tok_stride,
                              int64_t x_head_stride, int64_t n_tokens) = 0;
};

}  // namespace r1
