// MatMul on every ISA: the per-row dots (few tokens) and the GEMM paths of prompt batches
// (INT8 panels, dequantized f32 tiles) against an f64 product of the dequantized weights.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "kernels/float_kernels.h"
#include "kernels/isa.h"
#include "ops/matmul.h"
#include "r1/quant/reference.h"
#include "runtime/thread_pool.h"
#include "support/test_util.h"

namespace r1 {
namespace {

// Quantizes random f32 rows into a weight matrix of `type`.
std::vector<uint8_t> MakeWeights(DType type, int64_t n_in, int64_t n_out) {
  const uint64_t row_bytes = *RowBytes(type, static_cast<uint64_t>(n_in));
  std::vector<uint8_t> data(row_bytes * static_cast<uint64_t>(n_out));
  for (int64_t r = 0; r < n_out; ++r) {
    const auto v = test::RandomFloats(static_cast<size_t>(n_in), static_cast<uint64_t>(r) + 7, -1.0f, 1.0f);
    quant::ref::QuantizeRow(type, v.data(), data.data() + static_cast<uint64_t>(r) * row_bytes, n_in);
  }
  return data;
}

TEST_SUITE("kernels") {
  TEST_CASE("MatMul matches the dequantized product for decode and prompt batches") {
    const int64_t n_in = 256, n_out = 83;  // n_out not a multiple of any grain or tile
    ThreadPool pool(2);
    for (Isa isa : SupportedIsas()) {
      OpContext ctx;
      ctx.isa = isa;
      ctx.kernels = &GetFloatKernels(isa);
      ctx.pool = &pool;
      for (DType type : {DType::kF32, DType::kF16, DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1,
                         DType::kQ8_0, DType::kQ2_K, DType::kQ3_K, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K}) {
        const std::vector<uint8_t> data = MakeWeights(type, n_in, n_out);
        WeightMatrix w;
        w.type = type;
        w.n_in = n_in;
        w.n_out = n_out;
        w.row_bytes = *RowBytes(type, static_cast<uint64_t>(n_in));
        w.data = data.data();
        std::vector<float> deq(static_cast<size_t>(n_in * n_out));
        for (int64_t r = 0; r < n_out; ++r) quant::ref::DequantizeRow(type, w.Row(r), deq.data() + r * n_in, n_in);
        const auto bias = test::RandomFloats(static_cast<size_t>(n_out), 3, -1.0f, 1.0f);
        for (int64_t n_tokens : {int64_t{1}, int64_t{5}, int64_t{17}, int64_t{33}, int64_t{70}}) {
          INFO("isa = ", IsaName(isa), ", type = ", DTypeName(type), ", n_tokens = ", n_tokens);
          const auto x = test::RandomFloats(static_cast<size_t>(n_tokens * n_in), 11, -1.0f, 1.0f);
          std::vector<float> y(static_cast<size_t>(n_tokens * n_out));
          MatMulScratch scratch;
          MatMul(w, x.data(), n_tokens, bias.data(), y.data(), scratch, ctx);
          double max_err = 0;
          for (int64_t t = 0; t < n_tokens; ++t) {
            for (int64_t o = 0; o < n_out; ++o) {
              double want = bias[static_cast<size_t>(o)], scale = 0;
              for (int64_t i = 0; i < n_in; ++i) {
                const double p = static_cast<double>(deq[static_cast<size_t>(o * n_in + i)]) * x[static_cast<size_t>(t * n_in + i)];
                want += p;
                scale += std::fabs(p);
              }
              max_err = std::max(max_err, std::fabs(y[static_cast<size_t>(t * n_out + o)] - want) / (scale + 1e-9));
            }
          }
          // Activations rounded to 8 bits (dots) or f16 give up to ~1% of Σ|w x|; f32 far less.
          CHECK(max_err < 2e-2);
        }
      }
    }
  }
}

}  // namespace
}  // namespace r1
