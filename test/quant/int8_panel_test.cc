// INT8 panels: the repacked form reproduces each block format's values, the activation
// quantizer's SIMD form matches the reference bit for bit, and the VNNI kernel matches the
// reference kernel on awkward row, token and length counts.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <utility>
#include <vector>

#include "kernels/isa.h"
#include "quant/int8_panel.h"
#include "quant/quant_kernels.h"
#include "quant_test_util.h"
#include "r1/quant/reference.h"
#include "support/test_util.h"

namespace r1 {
namespace {

constexpr DType kPanelTypes[] = {DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1, DType::kQ8_0,
                                 DType::kQ2_K, DType::kQ3_K, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K,
                                 DType::kIQ2_XXS, DType::kIQ2_XS, DType::kIQ2_S, DType::kIQ3_XXS, DType::kIQ3_S,
                                 DType::kIQ1_S, DType::kIQ1_M, DType::kIQ4_NL, DType::kIQ4_XS};

using Rows = quant::test::RandomRows;

// Weight (r, j) as the panel holds it, a * u + c, and |a * u| + |c| (the size of its rounding).
std::pair<float, float> PanelValue(const uint8_t* data, int64_t k, int sub, int r, int64_t j) {
  const Int8PanelParts panel(data, k, sub);
  const float au = panel.a[j / sub * kPanelRows + r] * static_cast<float>(panel.u[(j / 4 * kPanelRows + r) * 4 + j % 4]);
  const float c = panel.c[j / sub * kPanelRows + r];
  return {au + c, std::fabs(au) + std::fabs(c)};
}

struct QuantizedActs {
  std::vector<int8_t> q;
  std::vector<float> d;
  std::vector<int32_t> sum;
  Int8Activations view(int64_t k, int sub) const { return {q.data(), d.data(), sum.data(), k, sub}; }
};

QuantizedActs QuantizeActs(const std::vector<float>& x, int64_t n_tokens, int64_t k, int sub) {
  const int64_t block = Int8ActBlock(sub);
  QuantizedActs a;
  a.q.resize(static_cast<size_t>(n_tokens * k));
  a.d.resize(static_cast<size_t>(n_tokens * k / block));
  a.sum.resize(static_cast<size_t>(n_tokens * k / sub));
  for (int64_t t = 0; t < n_tokens; ++t) {
    QuantizeInt8ActivationsRef(x.data() + t * k, k, sub, a.q.data() + t * k, a.d.data() + t * k / block,
                               a.sum.data() + t * k / sub);
  }
  return a;
}

// The size of the terms a product sums, Σ dx (|a| Σ u |xq| + |c| Σ |xq|): the reference kernel
// run on absolute values. Kernels that differ only in the f32 summation order agree to a few
// f32 roundings of it.
std::vector<float> TermSizes(const std::vector<uint8_t>& panels, int nr, int64_t k, int sub, const QuantizedActs& x,
                             int64_t n_tokens, int64_t ldy) {
  std::vector<uint8_t> abs_panels = panels;
  for (size_t off = 0; off < abs_panels.size(); off += Int8PanelBytes(k, sub)) {
    const Int8PanelParts panel(abs_panels.data() + off, k, sub);
    for (int64_t i = 0; i < (k / sub) * kPanelRows; ++i) panel.a[i] = std::fabs(panel.a[i]), panel.c[i] = std::fabs(panel.c[i]);
  }
  QuantizedActs abs_x = x;
  for (int8_t& q : abs_x.q) q = static_cast<int8_t>(std::abs(q));
  for (size_t g = 0; g < abs_x.sum.size(); ++g) {
    abs_x.sum[g] = 0;
    for (int j = 0; j < sub; ++j) abs_x.sum[g] += abs_x.q[g * static_cast<size_t>(sub) + static_cast<size_t>(j)];
  }
  std::vector<float> sizes(static_cast<size_t>(n_tokens * ldy), 0.0f);
  Int8PanelGemmRef(abs_panels.data(), nr, abs_x.view(k, sub), n_tokens, sizes.data(), ldy);
  return sizes;
}

TEST_SUITE("quant") {
  TEST_CASE("INT8 panels hold every block format's values, and zero rows past the end") {
    const int64_t k = 512;
    for (DType type : kPanelTypes) {
      const int sub = Int8PanelSubBlock(type);
      REQUIRE((sub == 16 || sub == 32));
      for (int nr : {1, 7, 16}) {
        INFO("type = ", DTypeName(type), ", nr = ", nr);
        const Rows m(type, nr, k, 100);
        std::vector<uint8_t> panel(Int8PanelBytes(k, sub), 0xee);
        RepackInt8Panels(type, m.data.data(), m.row_bytes, nr, k, panel.data());
        std::vector<float> want(static_cast<size_t>(k));
        double max_err = 0, max_pad = 0;
        for (int r = 0; r < kPanelRows; ++r) {
          if (r < nr) quant::ref::DequantizeRow(type, m.data.data() + r * m.row_bytes, want.data(), k);
          for (int64_t j = 0; j < k; ++j) {
            const auto [got, size] = PanelValue(panel.data(), k, sub, r, j);
            if (r < nr) {
              max_err = std::max(max_err, std::fabs(got - want[static_cast<size_t>(j)]) / (1.0 + size));
            } else {
              max_pad = std::max(max_pad, static_cast<double>(std::fabs(got)) + size);
            }
          }
        }
        CHECK(max_err < 1e-6);  // the same products as the format's own formula, up to rounding
        CHECK(max_pad == 0.0);
      }
    }
  }

  TEST_CASE("INT8 activations: 8 bits per value with one scale per block, sums per sub-block") {
    const int64_t k = 512;
    auto x = test::RandomFloats(static_cast<size_t>(k), 5, -3.0f, 3.0f);
    for (int64_t j = 256; j < k; ++j) x[static_cast<size_t>(j)] = 0.0f;  // all-zero blocks at the end
    for (int sub : {16, 32}) {
      const int64_t block = Int8ActBlock(sub);
      const QuantizedActs a = QuantizeActs(x, 1, k, sub);
      for (int64_t j = 0; j < k; ++j) {
        const float d = a.d[static_cast<size_t>(j / block)];
        CHECK(std::fabs(d * a.q[static_cast<size_t>(j)] - x[static_cast<size_t>(j)]) <= 0.5f * d + 1e-7f);
      }
      CHECK(a.d.back() == 0.0f);
      for (int64_t g = 0; g < k / sub; ++g) {
        int32_t sum = 0;
        for (int j = 0; j < sub; ++j) sum += a.q[static_cast<size_t>(g * sub + j)];
        CHECK(a.sum[static_cast<size_t>(g)] == sum);
      }
    }
  }

  TEST_CASE("the reference INT8 GEMM is the product of the panel weights and the 8-bit activations") {
    const int64_t k = 256, n_tokens = 3;
    for (DType type : {DType::kQ4_K, DType::kQ6_K, DType::kQ8_0}) {
      const int sub = Int8PanelSubBlock(type);
      const int nr = 21;
      const Rows m(type, nr, k, 40);
      std::vector<uint8_t> panels(2 * Int8PanelBytes(k, sub));
      RepackInt8Panels(type, m.data.data(), m.row_bytes, nr, k, panels.data());
      const auto x = test::RandomFloats(static_cast<size_t>(n_tokens * k), 9);
      const QuantizedActs a = QuantizeActs(x, n_tokens, k, sub);
      std::vector<float> y(static_cast<size_t>(n_tokens * nr));
      Int8PanelGemmRef(panels.data(), nr, a.view(k, sub), n_tokens, y.data(), nr);
      std::vector<float> w(static_cast<size_t>(k));
      for (int r = 0; r < nr; ++r) {
        quant::ref::DequantizeRow(type, m.data.data() + r * m.row_bytes, w.data(), k);
        for (int64_t t = 0; t < n_tokens; ++t) {
          double want = 0, scale = 0;
          for (int64_t j = 0; j < k; ++j) {
            const double xq = static_cast<double>(a.d[static_cast<size_t>((t * k + j) / Int8ActBlock(sub))]) *
                              a.q[static_cast<size_t>(t * k + j)];
            want += w[static_cast<size_t>(j)] * xq;
            scale += std::fabs(w[static_cast<size_t>(j)] * xq);
          }
          INFO("type = ", DTypeName(type), ", r = ", r, ", t = ", t);
          CHECK(std::fabs(y[static_cast<size_t>(t * nr + r)] - want) <= 1e-5 * scale);
        }
      }
    }
  }

  TEST_CASE("each ISA's INT8 GEMM matches the reference kernel") {
    bool any = false;
    for (Isa isa : SupportedIsas()) {
      const Int8GemmKernels* g = GetInt8GemmKernels(isa);
      if (g == nullptr) continue;
      any = true;
      for (DType type : {DType::kQ4_0, DType::kQ8_0, DType::kQ4_K, DType::kQ2_K, DType::kQ6_K}) {
        const int sub = Int8PanelSubBlock(type);
        for (int64_t k : {int64_t{256}, int64_t{768}}) {
          const Rows m(type, 32, k, 70);
          const size_t panel_bytes = Int8PanelBytes(k, sub);
          for (int nr : {1, 5, 16, 17, 31, 32}) {
            std::vector<uint8_t> panels(2 * panel_bytes);
            RepackInt8Panels(type, m.data.data(), m.row_bytes, nr, k, panels.data());
            for (int64_t n_tokens : {1, 2, 3, 4, 5, 7, 13}) {
              const auto x = test::RandomFloats(static_cast<size_t>(n_tokens * k), 13 + static_cast<uint64_t>(n_tokens));
              const QuantizedActs a = QuantizeActs(x, n_tokens, k, sub);
              // The SIMD quantizer gives the same bytes, scales and sums.
              QuantizedActs b = a;
              const int64_t block = Int8ActBlock(sub);
              for (int64_t t = 0; t < n_tokens; ++t) {
                g->quantize(x.data() + t * k, k, sub, b.q.data() + t * k, b.d.data() + t * k / block,
                            b.sum.data() + t * k / sub);
              }
              CHECK(b.q == a.q);
              CHECK(b.d == a.d);
              CHECK(b.sum == a.sum);
              // With the format's zero point folded into the integer sums, and without it.
              for (int zero_point : {Int8PanelZeroPoint(type), 0}) {
                INFO("isa = ", IsaName(isa), ", type = ", DTypeName(type), ", k = ", k, ", nr = ", nr,
                     ", n_tokens = ", n_tokens, ", zero point = ", zero_point);
                // Outputs land at stride ldy; nothing past row nr is written.
                const int64_t ldy = nr + 3;
                std::vector<float> want(static_cast<size_t>(n_tokens * ldy), -7.0f), got = want;
                Int8PanelGemmRef(panels.data(), nr, a.view(k, sub), n_tokens, want.data(), ldy);
                g->gemm(panels.data(), nr, a.view(k, sub), zero_point, n_tokens, got.data(), ldy);
                const std::vector<float> size = TermSizes(panels, nr, k, sub, a, n_tokens, ldy);
                double max_err = 0;
                for (size_t i = 0; i < want.size(); ++i) {
                  max_err = std::max(max_err, static_cast<double>(std::fabs(got[i] - want[i])) / (1.0 + size[i]));
                }
                CHECK(max_err < 1e-5);
              }
            }
          }
        }
      }
    }
    if (!any) MESSAGE("no ISA with an INT8 GEMM on this CPU: only the reference was checked");
  }
}

}  // namespace
}  // namespace r1
