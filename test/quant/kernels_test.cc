// Every quant kernel on every ISA this machine supports, against r1/quant/reference.h:
// from_float and to_float bit-exact, vec_dot within a tight tolerance.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/isa.h"
#include "quant/quant_kernels.h"
#include "quant_test_util.h"
#include "r1/quant/reference.h"

namespace r1::quant {
namespace {

using test::RowStorage;

// vec_dot differs from the reference only in the order of f32 additions of exact per-block
// integer sums, so its error is a few f32 roundings of Σ|w x| (measured: below 3e-8 of it).
constexpr double kDotTolerance = 5e-7;

const QuantKernels& Kernels(Isa isa, DType t) {
  const QuantKernels* k = GetQuantKernels(isa, t);
  REQUIRE(k != nullptr);
  return *k;
}

// from_float of `x` on `isa` equals the reference converter byte for byte.
void CheckFromFloat(Isa isa, DType weight, const std::vector<float>& x) {
  const QuantKernels& k = Kernels(isa, weight);
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> got = RowStorage(k.vec_dot_type, n), want = RowStorage(k.vec_dot_type, n);
  k.from_float(x.data(), got.data(), n);
  ref::QuantizeRow(k.vec_dot_type, x.data(), want.data(), n);
  size_t first_diff = got.size();
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] != want[i]) {
      first_diff = i;
      break;
    }
  }
  INFO("vec_dot_type = ", DTypeName(k.vec_dot_type), ", first differing byte ", first_diff, " of ",
       got.size());
  CHECK(first_diff == got.size());
}

TEST_SUITE("quant") {
  TEST_CASE("kernel tables describe each weight type") {
    for (Isa isa : SupportedIsas()) {
      for (DType t : test::kWeightTypes) {
        INFO("isa = ", IsaName(isa), ", type = ", DTypeName(t));
        const QuantKernels& k = Kernels(isa, t);
        CHECK(k.type == t);
        CHECK(k.vec_dot_type == *ref::VecDotType(t));
        CHECK(static_cast<bool>(k.from_float));
        CHECK(static_cast<bool>(k.to_float));
        CHECK(static_cast<bool>(k.vec_dot));
      }
      for (DType t : {DType::kQ8_K, DType::kQ8_1, DType::kI8, DType::kI32, DType::kF64}) {
        CHECK(GetQuantKernels(isa, t) == nullptr);
      }
    }
    for (Isa isa : {Isa::kAvx2, Isa::kAvx512, Isa::kAvx512Vnni, Isa::kNeon}) {
      if (!IsaCompiled(isa)) CHECK(GetQuantKernels(isa, DType::kQ4_K) == nullptr);
    }
  }

  TEST_CASE("to_float matches the reference bit for bit") {
    for (Isa isa : SupportedIsas()) {
      for (DType t : test::kWeightTypes) {
        for (int64_t n : test::TestSizes(t)) {
          INFO("isa = ", IsaName(isa), ", type = ", DTypeName(t), ", n = ", n);
          const auto w =
              test::RandomWeightRow(t, n, static_cast<uint64_t>(n) * 31 + static_cast<uint64_t>(t));
          std::vector<float> got(static_cast<size_t>(n)), want(static_cast<size_t>(n));
          Kernels(isa, t).to_float(w.data(), got.data(), n);
          ref::DequantizeRow(t, w.data(), want.data(), n);
          CHECK(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0);
        }
      }
    }
  }

  TEST_CASE("from_float matches the reference bit for bit") {
    for (Isa isa : SupportedIsas()) {
      for (DType t : test::kWeightTypes) {
        for (int64_t n : test::TestSizes(t)) {
          INFO("isa = ", IsaName(isa), ", type = ", DTypeName(t), ", n = ", n);
          CheckFromFloat(isa, t,
                         r1::test::RandomFloats(static_cast<size_t>(n),
                                                static_cast<uint64_t>(n) + 5, -4.0f, 4.0f));
        }
      }
    }
  }

  TEST_CASE("from_float matches the reference on edge cases") {
    std::mt19937 rng(99);
    for (Isa isa : SupportedIsas()) {
      INFO("isa = ", IsaName(isa));
      SUBCASE("zeros, ties and tiny / huge magnitudes") {
        for (DType t : {DType::kQ8_0, DType::kQ4_1, DType::kQ4_K, DType::kF16, DType::kBF16}) {
          INFO("type = ", DTypeName(t));
          const int64_t n = 512;
          std::vector<float> x(static_cast<size_t>(n), 0.0f);
          CheckFromFloat(isa, t, x);
          // Block maxima of ±127 make the scale 1, so x.5 values are exact rounding ties.
          for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(i % 200) - 100.0f + 0.5f;
          for (int64_t i = 0; i < n; i += 32) x[i] = (i / 32) % 2 ? 127.0f : -127.0f;
          CheckFromFloat(isa, t, x);
          for (int64_t i = 0; i < n; ++i)
            x[i] = std::ldexp(static_cast<float>(i % 17) - 8.0f, (i / 32) * 8 - 70);
          CheckFromFloat(isa, t, x);
          // Equal magnitudes of both signs: Q8_K's sign comes from the first of them.
          for (int64_t i = 0; i < n; ++i)
            x[i] = (i % 3 == 0 ? -1.0f : 1.0f) * static_cast<float>(i % 5);
          CheckFromFloat(isa, t, x);
        }
      }
      SUBCASE("F16 and BF16 over random f32 bit patterns, NaN and infinity included") {
        for (DType t : {DType::kF16, DType::kBF16}) {
          INFO("type = ", DTypeName(t));
          std::vector<float> x(1 << 16);
          for (float& v : x) v = std::bit_cast<float>(static_cast<uint32_t>(rng()));
          for (size_t i = 0; i < x.size(); i += 7) {  // half of them in the f16 range and near ties
            const uint32_t u = static_cast<uint32_t>(rng());
            x[i] = std::bit_cast<float>((u & 0x80000000u) | (0x33000000u + (u % 0x14800000u)) |
                                        0x1000u);
          }
          CheckFromFloat(isa, t, x);
        }
      }
    }
  }

  TEST_CASE("vec_dot matches the reference closely") {
    for (Isa isa : SupportedIsas()) {
      for (DType t : test::kWeightTypes) {
        const QuantKernels& k = Kernels(isa, t);
        for (int64_t n : test::TestSizes(t)) {
          INFO("isa = ", IsaName(isa), ", type = ", DTypeName(t), ", n = ", n);
          const auto w =
              test::RandomWeightRow(t, n, static_cast<uint64_t>(n) * 17 + static_cast<uint64_t>(t));
          const auto xf = r1::test::RandomFloats(static_cast<size_t>(n),
                                                 static_cast<uint64_t>(n) * 3 + 1, -2.0f, 2.0f);
          std::vector<uint8_t> x = RowStorage(k.vec_dot_type, n);
          ref::QuantizeRow(k.vec_dot_type, xf.data(), x.data(), n);
          const double got = k.vec_dot(n, w.data(), x.data());
          const double want = ref::VecDot(t, n, w.data(), x.data());
          const double scale = test::AbsDot(t, w.data(), k.vec_dot_type, x.data(), n);
          INFO("got ", got, ", want ", want, ", scale ", scale);
          CHECK(std::fabs(got - want) <= kDotTolerance * scale);
        }
      }
    }
  }

  TEST_CASE("vec_dot_rows matches vec_dot row by row") {
    int n_tables_with_rows = 0;
    for (Isa isa : SupportedIsas()) {
      for (DType t : test::kWeightTypes) {
        const QuantKernels& k = Kernels(isa, t);
        if (k.vec_dot_rows == nullptr) continue;
        ++n_tables_with_rows;
        for (int64_t n : test::TestSizes(t)) {
          for (int64_t nr : {1, 3, 4, 5, 9}) {
            INFO("isa = ", IsaName(isa), ", type = ", DTypeName(t), ", n = ", n, ", rows = ", nr);
            const uint64_t row_bytes = *RowBytes(t, static_cast<uint64_t>(n));
            std::vector<uint8_t> w;
            for (int64_t r = 0; r < nr; ++r) {
              const auto row = test::RandomWeightRow(t, n, static_cast<uint64_t>(n * 7 + r));
              w.insert(w.end(), row.begin(), row.end());
            }
            const auto xf = r1::test::RandomFloats(static_cast<size_t>(n), static_cast<uint64_t>(n) + 3, -2.0f, 2.0f);
            std::vector<uint8_t> x = RowStorage(k.vec_dot_type, n);
            ref::QuantizeRow(k.vec_dot_type, xf.data(), x.data(), n);
            std::vector<float> got(static_cast<size_t>(nr));
            k.vec_dot_rows(n, w.data(), row_bytes, nr, x.data(), got.data());
            for (int64_t r = 0; r < nr; ++r) {
              const uint8_t* wr = w.data() + static_cast<uint64_t>(r) * row_bytes;
              const double want = ref::VecDot(t, n, wr, x.data());
              const double scale = test::AbsDot(t, wr, k.vec_dot_type, x.data(), n);
              CHECK(std::fabs(got[static_cast<size_t>(r)] - want) <= kDotTolerance * scale);
            }
          }
        }
      }
    }
    if (IsaSupported(Isa::kAvx512Vnni)) CHECK(n_tables_with_rows >= 1);  // Q4_0 under VNNI
  }

  TEST_CASE("vec_dot_tokens gives each activation row the bits of vec_dot") {
    int n_tables_with_tokens = 0;
    for (Isa isa : SupportedIsas()) {
      for (DType t : test::kWeightTypes) {
        const QuantKernels& k = Kernels(isa, t);
        if (k.vec_dot_tokens == nullptr) continue;
        ++n_tables_with_tokens;
        for (int64_t n : test::TestSizes(t)) {
          const uint64_t x_bytes = *RowBytes(k.vec_dot_type, static_cast<uint64_t>(n));
          const auto w = test::RandomWeightRow(t, n, static_cast<uint64_t>(n) * 5 + 11);
          for (int64_t nx : {1, 2, 3, 4, 5, 7, 9}) {
            INFO("isa = ", IsaName(isa), ", type = ", DTypeName(t), ", n = ", n, ", activation rows = ", nx);
            std::vector<uint8_t> x(x_bytes * static_cast<uint64_t>(nx));
            for (int64_t r = 0; r < nx; ++r) {
              const auto xf = r1::test::RandomFloats(static_cast<size_t>(n), static_cast<uint64_t>(n * 13 + r), -2.0f, 2.0f);
              ref::QuantizeRow(k.vec_dot_type, xf.data(), x.data() + static_cast<uint64_t>(r) * x_bytes, n);
            }
            // Results land every out_stride floats, the others untouched.
            constexpr int64_t kStride = 3;
            std::vector<float> got(static_cast<size_t>(nx * kStride), -7.0f);
            k.vec_dot_tokens(n, w.data(), x.data(), x_bytes, nx, got.data(), kStride);
            for (int64_t r = 0; r < nx; ++r) {
              const uint8_t* xr = x.data() + static_cast<uint64_t>(r) * x_bytes;
              const float alone = k.vec_dot(n, w.data(), xr);
              const float row = got[static_cast<size_t>(r * kStride)];
              CHECK(std::bit_cast<uint32_t>(row) == std::bit_cast<uint32_t>(alone));
              const double want = ref::VecDot(t, n, w.data(), xr);
              CHECK(std::fabs(row - want) <= kDotTolerance * test::AbsDot(t, w.data(), k.vec_dot_type, xr, n));
              CHECK(got[static_cast<size_t>(r * kStride + 1)] == -7.0f);
              CHECK(got[static_cast<size_t>(r * kStride + 2)] == -7.0f);
            }
          }
        }
      }
    }
    if (IsaSupported(Isa::kAvx2)) CHECK(n_tables_with_tokens >= 2);  // Q4_K and Q6_K on x86
  }

}  // TEST_SUITE("quant")

}  // namespace
}  // namespace r1::quant
