// op_context.h — what every operator runs with: the chosen kernels and the thread pool.
#pragma once

#include "kernels/float_kernels.h"
#include "kernels/isa.h"
#include "runtime/thread_pool.h"

namespace r1 {

struct OpContext {
  Isa isa = Isa::kScalar;
  const FloatKernels* kernels = nullptr;  // GetFloatKernels(isa)
  ThreadPool* pool = nullptr;
};

}  // namespace r1
