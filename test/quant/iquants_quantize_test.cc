// The quantizers into the grid i-quant types (IQ3_XXS, IQ3_S, IQ2_XXS, IQ2_XS, IQ2_S, IQ1_S,
// IQ1_M): round trips through the reference dequantizers, the effect of an importance vector, and
// degenerate rows.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "quant_error_util.h"
#include "r1/quant/reference.h"
#include "support/test_util.h"

namespace r1::quant {
namespace {

using test::ErrorTestImportance;
using test::ErrorTestRows;
using test::kErrorCols;
using test::RelativeError;
using test::RoundTrip;

// ggml's quantize_iq* on the same rows gives these relative errors (plain RMS without the
// importance vector, importance-weighted with it). Where ggml needs an importance matrix
// (IQ2_XXS, IQ2_XS, IQ1_S) the first two are with one of all ones, which these quantizers also
// assume without one. The bounds allow 5% more.
struct GgmlErrors {
  double normal_plain, normal_weighted, heavy_plain, heavy_weighted;
};

void CheckAgainstGgml(DType type, const GgmlErrors& ggml) {
  const auto importance = ErrorTestImportance();
  const double bound[2][2] = {{ggml.normal_plain, ggml.normal_weighted}, {ggml.heavy_plain, ggml.heavy_weighted}};
  for (int heavy = 0; heavy < 2; ++heavy) {
    const auto x = ErrorTestRows(heavy != 0);
    for (int with = 0; with < 2; ++with) {
      const float* imp = with ? importance.data() : nullptr;
      const double err = RelativeError(x, RoundTrip(type, x, imp), imp);
      INFO("heavy tails = ", heavy, ", importance = ", with, ", error = ", err, ", ggml = ", bound[heavy][with]);
      CHECK(err <= 1.05 * bound[heavy][with]);
    }
  }
}

// Columns j % 8 == 3 get 100 times the importance of the rest: their error must drop.
void CheckImportanceFavours(DType type) {
  auto favoured = [](int col) { return col % 8 == 3; };
  std::vector<float> importance(kErrorCols);
  for (int j = 0; j < kErrorCols; ++j) importance[j] = favoured(j) ? 100.0f : 1.0f;
  for (int heavy = 0; heavy < 2; ++heavy) {
    const auto x = ErrorTestRows(heavy != 0);
    const double plain = RelativeError(x, RoundTrip(type, x, nullptr), nullptr, favoured);
    const double weighted = RelativeError(x, RoundTrip(type, x, importance.data()), nullptr, favoured);
    INFO("heavy tails = ", heavy, ", favoured columns' error without = ", plain, ", with = ", weighted);
    CHECK(weighted < 0.8 * plain);
  }
}

// All-zero rows decode to zeros; a row of small values with one huge outlier, with or without
// importance, decodes to finite values that keep the outlier's sign and rough size.
void CheckDegenerateRows(DType type) {
  const auto importance = ErrorTestImportance();
  const std::vector<float> zeros(kErrorCols, 0.0f);
  for (const float* imp : {static_cast<const float*>(nullptr), static_cast<const float*>(importance.data())}) {
    const auto y = RoundTrip(type, zeros, imp);
    for (float v : y) REQUIRE(v == 0.0f);
  }
  for (const float outlier : {1e4f, -3e4f}) {
    auto x = r1::test::RandomFloats(kErrorCols, 79, -1e-3f, 1e-3f);
    x[1000] = outlier;
    for (const float* imp : {static_cast<const float*>(nullptr), static_cast<const float*>(importance.data())}) {
      const auto y = RoundTrip(type, x, imp);
      for (float v : y) REQUIRE(std::isfinite(v));
      INFO("outlier = ", outlier, ", decoded = ", y[1000]);
      CHECK(y[1000] / outlier > 0.5f);
      CHECK(y[1000] / outlier < 1.5f);
    }
  }
}

TEST_SUITE("quant") {
  TEST_CASE("grid i-quant quantizers: against ggml's error, importance, degenerate rows") {
    const std::pair<DType, GgmlErrors> cases[] = {
        {DType::kIQ3_XXS, {0.2037, 0.1241, 0.3557, 0.1972}},
        {DType::kIQ3_S, {0.1568, 0.1032, 0.2782, 0.1742}},
        {DType::kIQ2_XXS, {0.3356, 0.2476, 0.5965, 0.4572}},
        {DType::kIQ2_XS, {0.2935, 0.2136, 0.4768, 0.3869}},
        {DType::kIQ2_S, {0.2578, 0.1969, 0.5249, 0.3713}},
        {DType::kIQ1_S, {0.4776, 0.4022, 0.6014, 0.4881}},
        // Without an importance matrix ggml's IQ1_M weighs by x² alone, for errors of 0.5844 and
        // 0.5537 (normal, heavy); this quantizer's are far lower, and its own (0.4605, 0.4805)
        // are the bounds there, so that they still mean something.
        {DType::kIQ1_M, {0.4605, 0.3415, 0.4805, 0.3761}},
    };
    for (const auto& [type, ggml] : cases) {
      INFO("type = ", DTypeName(type));
      CheckAgainstGgml(type, ggml);
      CheckImportanceFavours(type);
      CheckDegenerateRows(type);
    }
  }
}

}  // namespace
}  // namespace r1::quant
