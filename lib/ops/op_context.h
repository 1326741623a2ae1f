// op_context.h — what every operator runs with: the chosen kernels and the thread pool.
#pragma once

#include "kernels/float_kernels.h"
#include "kernels/isa.h"
#include "ops/product_observer.h"
#include "runtime/thread_pool.h"

namespace r1 {

struct OpContext {
  Isa isa = Isa::kScalar;
  const FloatKernels* kernels = nullptr;  // GetFloatKernels(isa)
  ThreadPool* pool = nullptr;
  // Every product computed as a decode step computes it, whatever the batch: the logits of a
  // position then do not depend on how its tokens were batched (SessionOptions::batch_invariant).
  bool batch_invariant = false;
  ProductObserver* observer = nullptr;  // sees every weight product's input when set
};

}  // namespace r1
