// The operators of lib/ops against plain references, on every supported ISA and at awkward
// sizes: matrix products (Eigen over dequantized weights), embedding rows, rope angles
// (attention: attention_test.cc).
#include <doctest/doctest.h>

#include <Eigen/Core>
#include <cmath>
#include <vector>

#include "ops/matmul.h"
#include "ops/rope.h"
#include "quant/quant_kernels.h"
#include "r1/ops/reference.h"
#include "r1/quant/reference.h"
#include "op_context_for_test.h"
#include "support/test_util.h"

namespace r1 {
namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

using test::Context;

// A weight matrix of `type` from random values, with its dequantized f32 copy.
struct Weights {
  std::vector<uint8_t> bytes;
  RowMatrix dense;  // [n_out, n_in]
  WeightMatrix view;
};

Weights MakeWeights(DType type, int64_t n_in, int64_t n_out, uint64_t seed) {
  Weights w;
  const auto values = test::RandomFloats(size_t(n_in * n_out), seed);
  const uint64_t row_bytes = *RowBytes(type, uint64_t(n_in));
  w.bytes.resize(row_bytes * uint64_t(n_out));
  for (int64_t r = 0; r < n_out; ++r) {
    REQUIRE(quant::ref::QuantizeRow(type, values.data() + r * n_in, w.bytes.data() + r * row_bytes, n_in));
  }
  w.dense.resize(n_out, n_in);
  for (int64_t r = 0; r < n_out; ++r) {
    REQUIRE(quant::ref::DequantizeRow(type, w.bytes.data() + r * row_bytes, w.dense.row(r).data(), n_in));
  }
  w.view = WeightMatrix{type, n_in, n_out, row_bytes, w.bytes.data()};
  return w;
}

// The activations as a product with `type` sees them (rounded through its vec_dot_type).
RowMatrix Rounded(DType type, const RowMatrix& x) {
  const DType vt = *quant::ref::VecDotType(type);
  RowMatrix out = x;
  if (vt == DType::kF32) return out;
  std::vector<uint8_t> row(*RowBytes(vt, uint64_t(x.cols())));
  for (int64_t r = 0; r < x.rows(); ++r) {
    REQUIRE(quant::ref::QuantizeRow(vt, x.row(r).data(), row.data(), x.cols()));
    REQUIRE(quant::ref::DequantizeRow(vt, row.data(), out.row(r).data(), x.cols()));
  }
  return out;
}

TEST_CASE("MatMul equals the dense product of dequantized weights and rounded activations") {
  const DType types[] = {DType::kF32,  DType::kF16,  DType::kBF16, DType::kQ4_0, DType::kQ4_1,
                         DType::kQ5_0, DType::kQ5_1, DType::kQ8_0, DType::kQ2_K, DType::kQ3_K,
                         DType::kQ4_K, DType::kQ5_K, DType::kQ6_K};
  for (Isa isa : SupportedIsas()) {
    for (DType type : types) {
      const int64_t block = Traits(type).block_size == 256 ? 256 : 32;
      for (const auto& [n_in, n_out, n_tokens] : {std::tuple<int64_t, int64_t, int64_t>{block, 1, 1},
                                                  {block * 3, 37, 5}, {block * 2, 130, 17}}) {
        INFO(IsaName(isa), " ", DTypeName(type), " n_in=", n_in, " n_out=", n_out, " n_tokens=", n_tokens);
        const Weights w = MakeWeights(type, n_in, n_out, uint64_t(n_in * 31 + n_out));
        RowMatrix x(n_tokens, n_in);
        const auto xv = test::RandomFloats(size_t(n_tokens * n_in), uint64_t(n_tokens), -2.0f, 2.0f);
        std::copy(xv.begin(), xv.end(), x.data());
        const auto bias = test::RandomFloats(size_t(n_out), 99);
        RowMatrix want = Rounded(type, x) * w.dense.transpose();
        want.rowwise() += Eigen::Map<const Eigen::RowVectorXf>(bias.data(), n_out);

        Context c(isa, 2);
        MatMulScratch scratch;
        RowMatrix got(n_tokens, n_out);
        MatMul(w.view, x.data(), n_tokens, bias.data(), got.data(), scratch, c.ctx);
        const float scale = std::max(1.0f, want.cwiseAbs().maxCoeff());
        float bound = 2e-5f * scale * std::sqrt(float(n_in) / 32.0f);
        // Q8_1 keeps each block's sum d·Σq as f16 (as ggml does); weights' mins (|m| <= 1 here)
        // multiply it, so allow f16's rounding of the activations' absolute sum.
        if (quant::ref::VecDotType(type) == DType::kQ8_1) bound += 1e-3f * x.cwiseAbs().rowwise().sum().maxCoeff();
        CHECK((got - want).cwiseAbs().maxCoeff() <= bound);
      }
    }
  }
}

TEST_CASE("GetRows converts the asked-for rows") {
  for (Isa isa : SupportedIsas()) {
    for (DType type : {DType::kF32, DType::kF16, DType::kQ8_0, DType::kQ4_K, DType::kQ6_K}) {
      INFO(IsaName(isa), " ", DTypeName(type));
      const Weights table = MakeWeights(type, 256, 9, 5);
      const std::vector<int32_t> ids = {8, 0, 3, 3};
      std::vector<float> got(ids.size() * 256);
      Context c(isa, 1);
      GetRows(table.view, ids.data(), int64_t(ids.size()), got.data(), c.ctx);
      for (size_t t = 0; t < ids.size(); ++t) {
        for (int64_t i = 0; i < 256; ++i) CHECK(got[t * 256 + size_t(i)] == table.dense(ids[t], i));
      }
    }
  }
}

TEST_CASE("rope angles follow base^(-2i/n) with factors and scaling") {
  const std::vector<float> factors = {1.0f, 2.0f, 4.0f, 8.0f};
  for (const RopeParams& p : {RopeParams{8, 10000.0f, 1.0f, nullptr}, RopeParams{8, 500000.0f, 0.25f, factors.data()}}) {
    for (int64_t pos : {0, 1, 7, 100, 4000}) {
      std::vector<float> cs(8);
      RopeCosSin(pos, p, cs.data());
      for (int i = 0; i < 4; ++i) {
        const double angle = double(pos) * std::pow(double(p.freq_base), -2.0 * i / 8.0) /
                             (p.freq_factors ? p.freq_factors[i] : 1.0) * p.freq_scale;
        INFO("pos ", pos, " pair ", i);
        // Stepping the frequency in f32 drifts by a few ulps of the angle.
        CHECK(cs[2 * i] == doctest::Approx(std::cos(angle)).epsilon(1e-6).scale(std::fabs(angle) + 1));
        CHECK(cs[2 * i + 1] == doctest::Approx(std::sin(angle)).epsilon(1e-6).scale(std::fabs(angle) + 1));
      }
    }
  }
}

}  // namespace
}  // namespace r1
