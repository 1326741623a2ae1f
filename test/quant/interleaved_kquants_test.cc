// Interleaved Q4_K and Q6_K rows: the scalar references give each row's dot product (to f32
// rounding), and every ISA's kernel gives the reference's bits for any number of activation rows
// and awkward lengths, the same for a row alone as in a batch.
#include "quant/interleaved_kquants.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <utility>
#include <vector>

#include "kernels/isa.h"
#include "quant/quant_kernels.h"
#include "quant_test_util.h"
#include "r1/quant/reference.h"
#include "support/test_util.h"

namespace r1 {
namespace {

using RefDot = void (*)(int64_t, const void*, const void*, uint64_t, int64_t, float*, int64_t);
constexpr std::pair<DType, RefDot> kTypes[] = {{DType::kQ4_K, DotQ4_Kx16Ref}, {DType::kQ6_K, DotQ6_Kx16Ref}};

struct Case {
  quant::test::RandomRows rows;  // 16 rows
  std::vector<uint8_t> interleaved;
  std::vector<uint8_t> x;  // n_tokens Q8_K rows
  uint64_t x_bytes = 0;

  Case(DType type, int64_t n, int n_tokens, uint64_t seed)
      : rows(type, kInterleavedRows, n, seed),
        interleaved(InterleavedBytes(type, n)),
        x_bytes(*RowBytes(DType::kQ8_K, static_cast<uint64_t>(n))) {
    InterleaveRows16(type, rows.data.data(), rows.row_bytes, n, interleaved.data());
    x.resize(static_cast<size_t>(n_tokens) * x_bytes);
    for (int t = 0; t < n_tokens; ++t) {
      const auto xf = test::RandomFloats(static_cast<size_t>(n), seed * 31 + static_cast<uint64_t>(t), -3.0f, 3.0f);
      quant::ref::QuantizeRow(DType::kQ8_K, xf.data(), x.data() + t * x_bytes, n);
    }
  }
};

TEST_CASE("the interleaved references give each row's dot product") {
  for (const auto& [type, ref] : kTypes) {
    for (int64_t n : {256, 768, 1536, 8960}) {
      INFO(DTypeName(type), ", n = ", n);
      const Case c(type, n, 3, static_cast<uint64_t>(n));
      std::vector<float> out(3 * kInterleavedRows);
      ref(n, c.interleaved.data(), c.x.data(), c.x_bytes, 3, out.data(), kInterleavedRows);
      for (int t = 0; t < 3; ++t) {
        for (int r = 0; r < kInterleavedRows; ++r) {
          const float want = quant::ref::VecDot(type, n, c.rows.data.data() + r * c.rows.row_bytes, c.x.data() + t * c.x_bytes);
          const float got = out[static_cast<size_t>(t * kInterleavedRows + r)];
          CHECK(std::fabs(got - want) <= 1e-5f * std::max(1.0f, std::fabs(want)) + 1e-4f);
        }
      }
    }
  }
}

TEST_CASE("every interleaved kernel gives the reference's bits, alone or batched") {
  int kernels = 0;
  for (Isa isa : SupportedIsas()) {
    for (const auto& [type, ref] : kTypes) {
      const QuantKernels* k = GetQuantKernels(isa, type);
      if (k == nullptr || k->vec_dot_interleaved == nullptr) continue;
      ++kernels;
      for (int64_t n : {256, 512, 2304, 8960}) {
        for (int n_tokens : {1, 2, 3, 4, 5, 7, 9}) {
          INFO(IsaName(isa), ", ", DTypeName(type), ", n = ", n, ", tokens = ", n_tokens);
          const Case c(type, n, n_tokens, static_cast<uint64_t>(n + n_tokens));
          // Outputs of token t at t * stride, with a stride wider than 16 as a matrix's n_out is.
          const int64_t stride = 3 * kInterleavedRows + 5;
          std::vector<float> want(static_cast<size_t>(n_tokens * stride), 0.0f), got = want, alone = want;
          ref(n, c.interleaved.data(), c.x.data(), c.x_bytes, n_tokens, want.data(), stride);
          k->vec_dot_interleaved(n, c.interleaved.data(), c.x.data(), c.x_bytes, n_tokens, got.data(), stride);
          for (int t = 0; t < n_tokens; ++t) {
            k->vec_dot_interleaved(n, c.interleaved.data(), c.x.data() + t * c.x_bytes, c.x_bytes, 1,
                                   alone.data() + t * stride, stride);
          }
          CHECK(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)) == 0);
          CHECK(std::memcmp(alone.data(), want.data(), want.size() * sizeof(float)) == 0);
        }
      }
    }
  }
  MESSAGE(kernels, " interleaved kernels on the ISAs of this CPU");
}

}  // namespace
}  // namespace r1
