// op_context_for_test.h — an OpContext with its own thread pool, for calling ops directly.
#pragma once

#include "kernels/float_kernels.h"
#include "ops/op_context.h"
#include "runtime/thread_pool.h"

namespace r1::test {

struct Context {
  explicit Context(Isa isa, int n_threads) : pool(n_threads) {
    ctx.isa = isa;
    ctx.kernels = &GetFloatKernels(isa);
    ctx.pool = &pool;
  }
  ThreadPool pool;
  OpContext ctx;
};

}  // namespace r1::test
