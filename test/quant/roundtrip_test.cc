// Reference quantize -> dequantize round trips: relative RMS error per type.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "quant_test_util.h"
#include "r1/quant/reference.h"

namespace r1::quant {
namespace {

double RelRmsError(DType t, const std::vector<float>& x) {
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> q = test::RowStorage(t, n);
  std::vector<float> back(x.size());
  REQUIRE(ref::QuantizeRow(t, x.data(), q.data(), n));
  REQUIRE(ref::DequantizeRow(t, q.data(), back.data(), n));
  double err = 0.0, norm = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    err += (static_cast<double>(x[i]) - back[i]) * (static_cast<double>(x[i]) - back[i]);
    norm += static_cast<double>(x[i]) * x[i];
  }
  return std::sqrt(err / norm);
}

// Inputs: uniform, heavy-tailed (a cube of uniform, like weights with outliers), and shifted
// positive (exercises the mins of the affine types).
std::vector<std::vector<float>> Inputs(size_t n) {
  std::vector<std::vector<float>> out;
  out.push_back(r1::test::RandomFloats(n, 11, -1.0f, 1.0f));
  auto cube = r1::test::RandomFloats(n, 12, -1.0f, 1.0f);
  for (float& v : cube) v = v * v * v;
  out.push_back(cube);
  out.push_back(r1::test::RandomFloats(n, 13, 0.5f, 2.0f));
  return out;
}

struct Bound {
  DType type;
  double max_rel_rms;  // about 1.25 times the largest error measured over the inputs
};

TEST_SUITE("quant") {
  TEST_CASE("quantize -> dequantize error is small for every type") {
    const Bound bounds[] = {
        {DType::kF16, 2.5e-4},  {DType::kBF16, 2e-3},    {DType::kQ8_0, 7e-3},
        {DType::kQ8_1, 7e-3},   {DType::kQ8_K, 7.5e-3},  {DType::kQ6_K, 2.2e-2},
        {DType::kQ5_0, 5e-2},   {DType::kQ5_1, 5e-2},    {DType::kQ5_K, 4.6e-2},
        {DType::kQ4_0, 1e-1},   {DType::kQ4_1, 1.05e-1}, {DType::kQ4_K, 9e-2},
        {DType::kQ3_K, 1.7e-1}, {DType::kQ2_K, 3.4e-1},  {DType::kIQ4_NL, 9e-2},
        {DType::kIQ4_XS, 9e-2},
    };
    const auto inputs = Inputs(4096);
    for (const Bound& b : bounds) {
      for (size_t i = 0; i < inputs.size(); ++i) {
        INFO("type = ", DTypeName(b.type), ", input ", i);
        const double e = RelRmsError(b.type, inputs[i]);
        CHECK(e < b.max_rel_rms);
      }
    }
  }

  TEST_CASE("zero rows stay zero") {
    const std::vector<float> zeros(512, 0.0f);
    for (DType t : test::kWeightTypes) {
      INFO("type = ", DTypeName(t));
      std::vector<uint8_t> q = test::RowStorage(t, 512);
      std::vector<float> back(512, 1.0f);
      ref::QuantizeRow(t, zeros.data(), q.data(), 512);
      ref::DequantizeRow(t, q.data(), back.data(), 512);
      int nonzero = 0;
      for (float v : back) nonzero += v != 0.0f;
      CHECK(nonzero == 0);
    }
  }

}  // TEST_SUITE("quant")

}  // namespace
}  // namespace r1::quant
