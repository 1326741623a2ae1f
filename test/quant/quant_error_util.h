// quant_error_util.h — the rows, importance vector and error measure the quantizer tests compare
// with ggml's quantizers on (the bounds in those tests were measured on exactly these).
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include <doctest/doctest.h>

#include "r1/quant/reference.h"
#include "support/test_util.h"

namespace r1::quant::test {

constexpr int kErrorRows = 8;
constexpr int kErrorCols = 2048;

// kErrorRows rows of sums of four uniforms (near normal), at scales 0.01 .. 30; `heavy`
// multiplies each by a random factor in [e^-3, e^3] for heavy tails.
inline std::vector<float> ErrorTestRows(bool heavy) {
  const float scales[] = {0.01f, 0.1f, 1.0f, 30.0f};
  const auto u = r1::test::RandomFloats(size_t{6} * kErrorRows * kErrorCols, heavy ? 77 : 76, -1.0f, 1.0f);
  std::vector<float> x(size_t{kErrorRows} * kErrorCols);
  for (size_t i = 0; i < x.size(); ++i) {
    const float* r = u.data() + 6 * i;
    float v = r[0] + r[1] + r[2] + r[3];
    if (heavy) v *= std::exp(1.5f * (r[4] + r[5]));
    x[i] = scales[i / kErrorCols % 4] * v;
  }
  return x;
}

// Per-column importance spread over [0.05, 10.05], most of it small.
inline std::vector<float> ErrorTestImportance() {
  auto v = r1::test::RandomFloats(kErrorCols, 78, 0.0f, 1.0f);
  for (float& w : v) w = 0.05f + 10.0f * w * w * w * w;
  return v;
}

// Quantizes the rows of x (kErrorCols each) into `type` and decodes them with the reference.
inline std::vector<float> RoundTrip(DType type, const std::vector<float>& x, const float* importance) {
  const int64_t cols = kErrorCols, rows = static_cast<int64_t>(x.size()) / cols;
  std::vector<uint8_t> q(*RowBytes(type, static_cast<uint64_t>(cols)));
  std::vector<float> y(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    REQUIRE(ref::QuantizeRow(type, x.data() + r * cols, q.data(), cols, importance));
    REQUIRE(ref::DequantizeRow(type, q.data(), y.data() + r * cols, cols));
  }
  return y;
}

// sqrt(Σ w e² / Σ w x²) over the elements whose column passes `keep`, w the column's importance
// (1 when null).
template <class Keep>
double RelativeError(const std::vector<float>& x, const std::vector<float>& y, const float* importance, Keep keep) {
  double e2 = 0.0, x2 = 0.0;
  for (size_t j = 0; j < x.size(); ++j) {
    if (!keep(static_cast<int>(j % kErrorCols))) continue;
    const double w = importance ? importance[j % kErrorCols] : 1.0;
    e2 += w * (static_cast<double>(y[j]) - x[j]) * (static_cast<double>(y[j]) - x[j]);
    x2 += w * static_cast<double>(x[j]) * x[j];
  }
  return std::sqrt(e2 / x2);
}

inline double RelativeError(const std::vector<float>& x, const std::vector<float>& y, const float* importance) {
  return RelativeError(x, y, importance, [](int) { return true; });
}

}  // namespace r1::quant::test
