// The importance-weighted quantizers of the legacy (Q4_0, Q4_1, Q5_0, Q5_1) and K (Q2_K … Q6_K)
// weight types: the weighted error against the plain quantizers and against ggml's weighted
// quantizers, columns favoured by the importance vector, and degenerate rows.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "r1/dtype.h"
#include "r1/quant/reference.h"
#include "support/test_util.h"

namespace r1::quant {
namespace {

constexpr int kRows = 8;
constexpr int kCols = 2048;

// kRows rows of sums of four uniforms (near normal), at scales 0.01 .. 30; `heavy` multiplies
// each by a random factor in [e^-3, e^3] for heavy tails.
std::vector<float> TestRows(bool heavy) {
  const float scales[] = {0.01f, 0.1f, 1.0f, 30.0f};
  const auto u = r1::test::RandomFloats(size_t{6} * kRows * kCols, heavy ? 77 : 76, -1.0f, 1.0f);
  std::vector<float> x(size_t{kRows} * kCols);
  for (size_t i = 0; i < x.size(); ++i) {
    const float* r = u.data() + 6 * i;
    float v = r[0] + r[1] + r[2] + r[3];
    if (heavy) v *= std::exp(1.5f * (r[4] + r[5]));
    x[i] = scales[i / kCols % 4] * v;
  }
  return x;
}

// Per-column importance spread over [0.05, 10.05], most of it small.
std::vector<float> TestImportance() {
  auto v = r1::test::RandomFloats(kCols, 78, 0.0f, 1.0f);
  for (float& w : v) w = 0.05f + 10.0f * w * w * w * w;
  return v;
}

// Quantizes the rows of x (kCols each) to t and decodes them again.
std::vector<float> RoundTrip(DType t, const std::vector<float>& x, const float* importance) {
  const int64_t rows = static_cast<int64_t>(x.size()) / kCols;
  const uint64_t row_bytes = *RowBytes(t, kCols);
  std::vector<uint8_t> q(row_bytes * static_cast<uint64_t>(rows));
  std::vector<float> y(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    REQUIRE(ref::QuantizeRow(t, x.data() + r * kCols, q.data() + r * row_bytes, kCols, importance));
    REQUIRE(ref::DequantizeRow(t, q.data() + r * row_bytes, y.data() + r * kCols, kCols));
  }
  return y;
}

// sqrt(Σ w e² / Σ w x²) over the elements whose column passes `keep`, w the column's importance.
template <class Keep>
double WeightedError(const std::vector<float>& x, const std::vector<float>& y, const std::vector<float>& importance,
                     Keep keep) {
  double e2 = 0.0, x2 = 0.0;
  for (size_t j = 0; j < x.size(); ++j) {
    if (!keep(static_cast<int>(j % kCols))) continue;
    const double w = importance[j % kCols];
    e2 += w * (static_cast<double>(y[j]) - x[j]) * (static_cast<double>(y[j]) - x[j]);
    x2 += w * static_cast<double>(x[j]) * x[j];
  }
  return std::sqrt(e2 / x2);
}

double WeightedError(const std::vector<float>& x, const std::vector<float>& y, const std::vector<float>& importance) {
  return WeightedError(x, y, importance, [](int) { return true; });
}

// ggml's weighted error on TestRows with TestImportance (near-normal rows, heavy-tailed rows),
// measured with ggml 0.18.1's CPU build: ggml_quantize_chunk(type, rows, dst, 0, 8, 2048,
// TestImportance()) after ggml_quantize_init, decoded with the type's to_float, the error
// computed as WeightedError. The test allows 5% more.
struct GgmlWeighted {
  DType type;
  double normal, heavy;
};
constexpr GgmlWeighted kGgml[] = {
    {DType::kQ4_0, 0.068862, 0.110841}, {DType::kQ4_1, 0.056315, 0.081956}, {DType::kQ5_0, 0.033832, 0.060010},
    {DType::kQ5_1, 0.027288, 0.039789}, {DType::kQ2_K, 0.206721, 0.228827}, {DType::kQ3_K, 0.118637, 0.144770},
    {DType::kQ4_K, 0.057131, 0.085205}, {DType::kQ5_K, 0.029579, 0.044154}, {DType::kQ6_K, 0.014170, 0.024438},
};

TEST_CASE("weighted legacy and K quantizers beat the plain ones and stay within 5% of ggml") {
  const auto importance = TestImportance();
  for (const GgmlWeighted& g : kGgml) {
    for (int heavy = 0; heavy < 2; ++heavy) {
      const auto x = TestRows(heavy != 0);
      const double plain = WeightedError(x, RoundTrip(g.type, x, nullptr), importance);
      const double weighted = WeightedError(x, RoundTrip(g.type, x, importance.data()), importance);
      const double ggml = heavy ? g.heavy : g.normal;
      INFO(DTypeName(g.type), ": heavy tails = ", heavy, ", plain = ", plain, ", weighted = ", weighted,
           ", ggml = ", ggml);
      CHECK(weighted < plain);
      CHECK(weighted <= 1.05 * ggml);
    }
  }
}

TEST_CASE("weighted legacy and K quantizers favour the important columns") {
  // Columns j % 8 == 3 get 100 times the importance of the rest: their error must drop.
  auto favoured = [](int col) { return col % 8 == 3; };
  std::vector<float> importance(kCols);
  for (int j = 0; j < kCols; ++j) importance[j] = favoured(j) ? 100.0f : 1.0f;
  const std::vector<float> ones(kCols, 1.0f);
  for (const GgmlWeighted& g : kGgml) {
    for (int heavy = 0; heavy < 2; ++heavy) {
      const auto x = TestRows(heavy != 0);
      const double plain = WeightedError(x, RoundTrip(g.type, x, nullptr), ones, favoured);
      const double weighted = WeightedError(x, RoundTrip(g.type, x, importance.data()), ones, favoured);
      INFO(DTypeName(g.type), ": heavy tails = ", heavy, ", favoured columns' error without = ", plain,
           ", with = ", weighted);
      CHECK(weighted < 0.9 * plain);
    }
  }
}

// All-zero rows decode to zeros; rows with outliers, with tiny values, or constant decode to finite
// values, with importance vectors with and without zeros; outliers of some importance keep their
// sign.
TEST_CASE("weighted legacy and K quantizers keep zero rows zero and other rows finite") {
  const std::vector<float> importance = TestImportance();
  std::vector<float> some_zero = importance;
  for (int j = 0; j < kCols; j += 3) some_zero[j] = 0.0f;
  const std::vector<float> zeros(kCols, 0.0f);
  std::vector<float> outliers(kCols), tiny(kCols);
  const std::vector<float> constant(kCols, -0.75f);
  const auto u = r1::test::RandomFloats(kCols, 79, -1.0f, 1.0f);
  for (int j = 0; j < kCols; ++j) {
    outliers[j] = j % 61 == 0 ? (j % 2 ? 3e4f : -1e4f) : 1e-3f * u[j];
    tiny[j] = 1e-20f * u[j];
  }
  const std::vector<const std::vector<float>*> importances = {&importance, &some_zero};
  const std::vector<const std::vector<float>*> inputs = {&outliers, &tiny, &constant};
  for (const GgmlWeighted& g : kGgml) {
    for (const std::vector<float>* imp : importances) {
      INFO(DTypeName(g.type));
      for (float v : RoundTrip(g.type, zeros, imp->data())) REQUIRE(v == 0.0f);
      for (const std::vector<float>* x : inputs) {
        const auto y = RoundTrip(g.type, *x, imp->data());
        for (float v : y) REQUIRE(std::isfinite(v));
      }
      const auto y = RoundTrip(g.type, outliers, imp->data());
      for (int j = 0; j < kCols; j += 61) {
        if ((*imp)[j] > 0.0f) CHECK(y[j] * outliers[j] > 0.0f);  // outliers of no importance may go
      }
    }
  }
}

}  // namespace
}  // namespace r1::quant
