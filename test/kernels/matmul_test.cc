// MatMul on every ISA: the per-row dots (few tokens) and the GEMM paths of prompt batches
// (INT8 panels, dequantized f32 tiles) against an f64 product of the dequantized weights; and
// panels repacked at load give what the per-call repack gives.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/float_kernels.h"
#include "kernels/isa.h"
#include "model/prompt_panels.h"
#include "ops/matmul.h"
#include "quant/quant_test_util.h"
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
    uint8_t* row = data.data() + static_cast<uint64_t>(r) * row_bytes;
    // I-quants: random block contents, so every grid point and sign pattern meets the kernels.
    if (quant::test::IsIQuant(type)) {
      const auto q = quant::test::RandomWeightRow(type, n_in, static_cast<uint64_t>(r) + 7);
      std::copy(q.begin(), q.end(), row);
      continue;
    }
    const auto v = test::RandomFloats(static_cast<size_t>(n_in), static_cast<uint64_t>(r) + 7, -1.0f, 1.0f);
    quant::ref::QuantizeRow(type, v.data(), row, n_in);
  }
  return data;
}

WeightMatrix View(DType type, int64_t n_in, int64_t n_out, const std::vector<uint8_t>& data) {
  WeightMatrix w;
  w.type = type;
  w.n_in = n_in;
  w.n_out = n_out;
  w.row_bytes = *RowBytes(type, static_cast<uint64_t>(n_in));
  w.data = data.data();
  return w;
}

OpContext Context(Isa isa, ThreadPool& pool) {
  OpContext ctx;
  ctx.isa = isa;
  ctx.kernels = &GetFloatKernels(isa);
  ctx.pool = &pool;
  return ctx;
}

TEST_SUITE("kernels") {
  TEST_CASE("MatMul matches the dequantized product for decode and prompt batches") {
    const int64_t n_in = 256, n_out = 83;  // n_out not a multiple of any grain or tile
    ThreadPool pool(2);
    for (Isa isa : SupportedIsas()) {
      OpContext ctx = Context(isa, pool);
      for (DType type : {DType::kF32, DType::kF16, DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1,
                         DType::kQ8_0, DType::kQ2_K, DType::kQ3_K, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K,
                         DType::kIQ2_XXS, DType::kIQ2_S, DType::kIQ3_XXS, DType::kIQ1_M, DType::kIQ4_NL,
                         DType::kIQ4_XS}) {
        const std::vector<uint8_t> data = MakeWeights(type, n_in, n_out);
        const WeightMatrix w = View(type, n_in, n_out, data);
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

  TEST_CASE("MatMulShared and MatMulSwiGlu give what separate products give") {
    // Three types with two activation formats (Q8_K, Q8_0), row counts off every grain.
    const int64_t n_in = 512;
    const DType types[] = {DType::kQ4_K, DType::kQ6_K, DType::kQ8_0};
    const int64_t n_outs[] = {83, 40, 19};
    std::vector<uint8_t> data[3];
    WeightMatrix w[3];
    for (int p = 0; p < 3; ++p) {
      data[p] = MakeWeights(types[p], n_in, n_outs[p]);
      w[p] = View(types[p], n_in, n_outs[p], data[p]);
    }
    const auto bias = test::RandomFloats(83, 5, -1.0f, 1.0f);
    ThreadPool pool(2);
    for (Isa isa : SupportedIsas()) {
      OpContext ctx = Context(isa, pool);
      for (int64_t n_tokens : {int64_t{1}, int64_t{5}, int64_t{33}}) {
        INFO("isa = ", IsaName(isa), ", n_tokens = ", n_tokens);
        const auto x = test::RandomFloats(static_cast<size_t>(n_tokens * n_in), 13, -1.0f, 1.0f);
        MatMulScratch scratch;
        std::vector<float> want[3], got[3];
        for (int p = 0; p < 3; ++p) {
          want[p].assign(static_cast<size_t>(n_tokens * n_outs[p]), 0.0f);
          got[p].assign(want[p].size(), -1.0f);
          MatMul(w[p], x.data(), n_tokens, p == 0 ? bias.data() : nullptr, want[p].data(), scratch, ctx);
        }
        const MatMulPart parts[] = {{&w[0], bias.data(), got[0].data()}, {&w[1], nullptr, got[1].data()},
                                    {&w[2], nullptr, got[2].data()}};
        MatMulShared(parts, 3, x.data(), n_tokens, scratch, ctx);
        for (int p = 0; p < 3; ++p) CHECK(got[p] == want[p]);

        // SwiGLU of two same-shaped matrices of different types.
        const std::vector<uint8_t> up_data = MakeWeights(DType::kQ8_0, n_in, n_outs[0]);
        const WeightMatrix up = View(DType::kQ8_0, n_in, n_outs[0], up_data);
        std::vector<float> up_want(want[0].size()), gated(want[0].size()), up_scratch(want[0].size());
        MatMul(w[0], x.data(), n_tokens, nullptr, want[0].data(), scratch, ctx);
        MatMul(up, x.data(), n_tokens, nullptr, up_want.data(), scratch, ctx);
        MatMulSwiGlu(w[0], up, x.data(), n_tokens, gated.data(), up_scratch.data(), scratch, ctx);
        for (size_t i = 0; i < gated.size(); ++i) {
          const double g = want[0][i], silu = g / (1.0 + std::exp(-g));
          CHECK(gated[i] == doctest::Approx(silu * up_want[i]).epsilon(1e-5));
        }
      }
    }
  }

  TEST_CASE("Weights repacked once at load multiply exactly as the per-call repack does") {
    const int64_t n_in = 512;
    const std::vector<uint8_t> q4k = MakeWeights(DType::kQ4_K, n_in, 83), q6k = MakeWeights(DType::kQ6_K, n_in, 40),
                               q80 = MakeWeights(DType::kQ8_0, n_in, 19), f16 = MakeWeights(DType::kF16, n_in, 33),
                               experts = MakeWeights(DType::kQ4_0, n_in, 3 * 50);
    ModelWeights weights;
    weights.output = View(DType::kQ8_0, n_in, 19, q80);
    weights.layers.resize(1);
    LayerWeights& L = weights.layers[0];
    L.wq = View(DType::kQ4_K, n_in, 83, q4k);
    L.w_down = View(DType::kQ6_K, n_in, 40, q6k);
    L.wo = View(DType::kF16, n_in, 33, f16);
    L.experts.gate.first = View(DType::kQ4_0, n_in, 50, experts);
    L.experts.gate.n_experts = 3;
    L.experts.gate.expert_bytes = 50 * L.experts.gate.first.row_bytes;
    // The views before repacking.
    const WeightMatrix plain[] = {weights.output, L.wq, L.w_down, L.experts.gate.Expert(0), L.experts.gate.Expert(2)};
    REQUIRE(PackPromptPanels(weights, 2).ok());
    CHECK(L.wo.panels == nullptr);  // float types have no panel form
    const std::pair<WeightMatrix, WeightMatrix> cases[] = {
        {plain[0], weights.output}, {plain[1], L.wq}, {plain[2], L.w_down},
        {plain[3], L.experts.gate.Expert(0)}, {plain[4], L.experts.gate.Expert(2)}};
    ThreadPool pool(2);
    for (Isa isa : SupportedIsas()) {
      OpContext ctx = Context(isa, pool);
      for (const auto& [unpacked, packed] : cases) {
        REQUIRE(packed.panels != nullptr);
        for (int64_t n_tokens : {int64_t{33}, int64_t{70}}) {
          INFO("isa = ", IsaName(isa), ", type = ", DTypeName(packed.type), ", n_out = ", packed.n_out,
               ", n_tokens = ", n_tokens);
          const auto x = test::RandomFloats(static_cast<size_t>(n_tokens * n_in), 17, -1.0f, 1.0f);
          std::vector<float> want(static_cast<size_t>(n_tokens * packed.n_out)), got(want.size(), -1.0f);
          MatMulScratch scratch;
          MatMul(unpacked, x.data(), n_tokens, nullptr, want.data(), scratch, ctx);
          MatMul(packed, x.data(), n_tokens, nullptr, got.data(), scratch, ctx);
          CHECK(got == want);
        }
      }
    }
  }
}

}  // namespace
}  // namespace r1
