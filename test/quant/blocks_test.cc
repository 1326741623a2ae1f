// Block layouts: sizes, and reference dequantization of hand-built blocks against values
// computed here from the layout as documented in r1/quant/blocks.h.
#include "r1/quant/blocks.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "r1/quant/half.h"
#include "r1/quant/reference.h"

namespace r1::quant {
namespace {

// Scales used below are powers of two and quants small integers, so every expected value is
// exact in f32 and the comparisons are equalities.
constexpr uint16_t kHalf = 0x3800;     // 0.5
constexpr uint16_t kQuarter = 0x3400;  // 0.25
constexpr uint16_t kOne = 0x3c00;      // 1.0
constexpr uint16_t kMinusOne = 0xbc00;

uint8_t Pattern(int i) { return static_cast<uint8_t>((i * 37 + 11) & 0xff); }

int Mismatches(const std::vector<float>& got, const std::vector<float>& want) {
  int bad = 0;
  for (size_t i = 0; i < got.size(); ++i) bad += got[i] != want[i];
  return bad;
}

TEST_SUITE("quant") {
  TEST_CASE("block sizes match ggml") {
    CHECK(sizeof(BlockQ4_0) == 18);
    CHECK(sizeof(BlockQ4_1) == 20);
    CHECK(sizeof(BlockQ5_0) == 22);
    CHECK(sizeof(BlockQ5_1) == 24);
    CHECK(sizeof(BlockQ8_0) == 34);
    CHECK(sizeof(BlockQ8_1) == 36);
    CHECK(sizeof(BlockQ2_K) == 84);
    CHECK(sizeof(BlockQ3_K) == 110);
    CHECK(sizeof(BlockQ4_K) == 144);
    CHECK(sizeof(BlockQ5_K) == 176);
    CHECK(sizeof(BlockQ6_K) == 210);
    CHECK(sizeof(BlockQ8_K) == 292);
    CHECK(offsetof(BlockQ2_K, d) == 80);
    CHECK(offsetof(BlockQ3_K, d) == 108);
    CHECK(offsetof(BlockQ5_K, qs) == 48);
    CHECK(offsetof(BlockQ6_K, d) == 208);
    CHECK(offsetof(BlockQ8_K, bsums) == 260);
  }

  TEST_CASE("Q4_0 / Q4_1 / Q8_0 / Q8_1 dequantize hand-built blocks") {
    std::vector<float> got(32), want(32);
    BlockQ4_0 q40{kHalf, {}};
    for (int j = 0; j < 16; ++j) q40.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
    for (int j = 0; j < 16; ++j) {
      want[j] = 0.5f * static_cast<float>(j - 8);
      want[j + 16] = 0.5f * static_cast<float>(15 - j - 8);
    }
    ref::DequantizeRowQ4_0(&q40, got.data(), 32);
    CHECK(Mismatches(got, want) == 0);

    BlockQ4_1 q41{kQuarter, kMinusOne, {}};
    for (int j = 0; j < 16; ++j) q41.qs[j] = Pattern(j);
    for (int j = 0; j < 16; ++j) {
      want[j] = 0.25f * static_cast<float>(Pattern(j) & 15) - 1.0f;
      want[j + 16] = 0.25f * static_cast<float>(Pattern(j) >> 4) - 1.0f;
    }
    ref::DequantizeRowQ4_1(&q41, got.data(), 32);
    CHECK(Mismatches(got, want) == 0);

    BlockQ8_0 q80{kQuarter, {}};
    BlockQ8_1 q81{kHalf, 0, {}};
    for (int j = 0; j < 32; ++j) q80.qs[j] = q81.qs[j] = static_cast<int8_t>(4 * j - 127);
    for (int j = 0; j < 32; ++j) want[j] = 0.25f * static_cast<float>(4 * j - 127);
    ref::DequantizeRowQ8_0(&q80, got.data(), 32);
    CHECK(Mismatches(got, want) == 0);
    for (int j = 0; j < 32; ++j) want[j] = 0.5f * static_cast<float>(4 * j - 127);
    ref::DequantizeRowQ8_1(&q81, got.data(), 32);
    CHECK(Mismatches(got, want) == 0);
  }

  TEST_CASE("Q5_0 / Q5_1 dequantize hand-built blocks") {
    std::vector<float> got(32), want(32);
    const uint32_t qh = 0xa5c3f00fu;
    BlockQ5_0 q50{kHalf, {}, {}};
    BlockQ5_1 q51{kQuarter, kOne, {}, {}};
    std::memcpy(q50.qh, &qh, 4);
    std::memcpy(q51.qh, &qh, 4);
    for (int j = 0; j < 16; ++j) q50.qs[j] = q51.qs[j] = Pattern(j);
    const auto q = [&](int e) {  // the 5-bit quant of element e
      const int low = e < 16 ? (Pattern(e) & 15) : (Pattern(e - 16) >> 4);
      return low | static_cast<int>(((qh >> e) & 1) << 4);
    };
    for (int e = 0; e < 32; ++e) want[e] = 0.5f * static_cast<float>(q(e) - 16);
    ref::DequantizeRowQ5_0(&q50, got.data(), 32);
    CHECK(Mismatches(got, want) == 0);
    for (int e = 0; e < 32; ++e) want[e] = 0.25f * static_cast<float>(q(e)) + 1.0f;
    ref::DequantizeRowQ5_1(&q51, got.data(), 32);
    CHECK(Mismatches(got, want) == 0);
  }

  TEST_CASE("Q2_K / Q3_K dequantize hand-built blocks") {
    std::vector<float> got(256), want(256);
    BlockQ2_K q2{};
    for (int i = 0; i < 64; ++i) q2.qs[i] = Pattern(i);
    for (int g = 0; g < 16; ++g)
      q2.scales[g] = static_cast<uint8_t>((g & 15) | (((3 * g + 1) & 15) << 4));
    q2.d = kHalf;
    q2.dmin = kQuarter;
    for (int e = 0; e < 256; ++e) {
      const int h = e / 128, k = (e % 128) / 32, l = e % 32;
      const int qv = (Pattern(32 * h + l) >> (2 * k)) & 3;
      const int g = 8 * h + 2 * k + l / 16;
      want[e] = 0.5f * static_cast<float>(g & 15) * static_cast<float>(qv) -
                0.25f * static_cast<float>((3 * g + 1) & 15);
    }
    ref::DequantizeRowQ2_K(&q2, got.data(), 256);
    CHECK(Mismatches(got, want) == 0);

    BlockQ3_K q3{};
    for (int i = 0; i < 64; ++i) q3.qs[i] = Pattern(i);
    for (int i = 0; i < 32; ++i) q3.hmask[i] = Pattern(100 + i);
    int s[16];
    for (int g = 0; g < 16; ++g)
      s[g] = (5 * g + 3) % 64;  // stored 6-bit value; the scale is s - 32
    for (int g = 0; g < 16; ++g) {
      if (g < 8)
        q3.scales[g] |= static_cast<uint8_t>(s[g] & 15);
      else
        q3.scales[g - 8] |= static_cast<uint8_t>((s[g] & 15) << 4);
      q3.scales[8 + g % 4] |= static_cast<uint8_t>((s[g] >> 4) << (2 * (g / 4)));
    }
    q3.d = kQuarter;
    for (int e = 0; e < 256; ++e) {
      const int h = e / 128, k = (e % 128) / 32, l = e % 32;
      const int low = (Pattern(32 * h + l) >> (2 * k)) & 3;
      const int hbit = (Pattern(100 + l) >> (e / 32)) & 1;
      const int g = 8 * h + 2 * k + l / 16;
      want[e] = 0.25f * static_cast<float>(s[g] - 32) * static_cast<float>(low - (hbit ? 0 : 4));
    }
    ref::DequantizeRowQ3_K(&q3, got.data(), 256);
    CHECK(Mismatches(got, want) == 0);
  }

  // 6-bit scales and mins of Q4_K / Q5_K packed as documented in blocks.h.
  void PackK4(const int sc[8], const int m[8], uint8_t out[12]) {
    std::memset(out, 0, 12);
    for (int j = 0; j < 4; ++j) {
      out[j] = static_cast<uint8_t>((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
      out[j + 4] = static_cast<uint8_t>((m[j] & 63) | ((m[j + 4] >> 4) << 6));
      out[j + 8] = static_cast<uint8_t>((sc[j + 4] & 15) | ((m[j + 4] & 15) << 4));
    }
  }

  TEST_CASE("Q4_K / Q5_K dequantize hand-built blocks") {
    std::vector<float> got(256), want(256);
    int sc[8], m[8];
    for (int g = 0; g < 8; ++g) {
      sc[g] = (10 + 7 * g) % 64;
      m[g] = (63 - 5 * g) % 64;
    }
    BlockQ4_K q4{};
    BlockQ5_K q5{};
    q4.d = q5.d = kQuarter;
    q4.dmin = q5.dmin = kHalf;
    PackK4(sc, m, q4.scales);
    PackK4(sc, m, q5.scales);
    for (int i = 0; i < 128; ++i) q4.qs[i] = q5.qs[i] = Pattern(i);
    for (int i = 0; i < 32; ++i) q5.qh[i] = Pattern(200 + i);
    for (int e = 0; e < 256; ++e) {
      const int k = e / 64, l = e % 32, hi = (e % 64) / 32;
      const int nib = hi ? Pattern(32 * k + l) >> 4 : Pattern(32 * k + l) & 15;
      const int g = e / 32;
      want[e] = 0.25f * static_cast<float>(sc[g]) * static_cast<float>(nib) -
                0.5f * static_cast<float>(m[g]);
    }
    ref::DequantizeRowQ4_K(&q4, got.data(), 256);
    CHECK(Mismatches(got, want) == 0);
    for (int e = 0; e < 256; ++e) {
      const int k = e / 64, l = e % 32, hi = (e % 64) / 32;
      const int nib = hi ? Pattern(32 * k + l) >> 4 : Pattern(32 * k + l) & 15;
      const int g = e / 32;
      const int qv = nib | (((Pattern(200 + l) >> g) & 1) << 4);
      want[e] = 0.25f * static_cast<float>(sc[g]) * static_cast<float>(qv) -
                0.5f * static_cast<float>(m[g]);
    }
    ref::DequantizeRowQ5_K(&q5, got.data(), 256);
    CHECK(Mismatches(got, want) == 0);
  }

  TEST_CASE("Q6_K / Q8_K dequantize hand-built blocks") {
    std::vector<float> got(256), want(256);
    BlockQ6_K q6{};
    for (int i = 0; i < 128; ++i) q6.ql[i] = Pattern(i);
    for (int i = 0; i < 64; ++i) q6.qh[i] = Pattern(300 + i);
    for (int g = 0; g < 16; ++g) q6.scales[g] = static_cast<int8_t>(g * 17 - 128);
    q6.d = kQuarter;
    for (int e = 0; e < 256; ++e) {
      const int h = e / 128, k = (e % 128) / 32, l = e % 32;
      const uint8_t qlb = Pattern(64 * h + l + 32 * (k & 1));
      const int low = k < 2 ? qlb & 15 : qlb >> 4;
      const int high = (Pattern(300 + 32 * h + l) >> (2 * k)) & 3;
      const int g = 8 * h + 2 * k + l / 16;
      want[e] =
          0.25f * static_cast<float>(g * 17 - 128) * static_cast<float>((low | (high << 4)) - 32);
    }
    ref::DequantizeRowQ6_K(&q6, got.data(), 256);
    CHECK(Mismatches(got, want) == 0);

    BlockQ8_K q8{};
    q8.d = 0.125f;
    for (int j = 0; j < 256; ++j) q8.qs[j] = static_cast<int8_t>(j - 128);
    for (int j = 0; j < 256; ++j) want[j] = 0.125f * static_cast<float>(j - 128);
    ref::DequantizeRowQ8_K(&q8, got.data(), 256);
    CHECK(Mismatches(got, want) == 0);
  }

  TEST_CASE("activation quantizers follow ggml's rules") {
    SUBCASE("Q8_0: scale from |max|, rounding half away from zero") {
      std::vector<float> x(32, 0.0f);
      x[0] = -127.0f;  // d = 1, id = 1
      x[1] = 2.5f;
      x[2] = -2.5f;
      x[3] = 0.49999997f;
      BlockQ8_0 b;
      ref::QuantizeRowQ8_0(x.data(), &b, 32);
      CHECK(b.d == kOne);
      CHECK(b.qs[0] == -127);
      CHECK(b.qs[1] == 3);
      CHECK(b.qs[2] == -3);
      CHECK(b.qs[3] == 0);
    }
    SUBCASE("Q8_1: s = d * sum(q)") {
      std::vector<float> x(32, 1.0f);
      x[5] = -127.0f;
      BlockQ8_1 b;
      ref::QuantizeRowQ8_1(x.data(), &b, 32);
      CHECK(b.d == kOne);
      CHECK(F16ToF32(b.s) == 31.0f - 127.0f);
    }
    SUBCASE("Q8_K: iscale = -127 / (signed max), half to even, bsums") {
      std::vector<float> x(256, 0.0f);
      x[3] = -127.0f;
      x[7] = 127.0f;  // same magnitude, later: the first one sets the sign, so iscale = 1
      x[20] = 0.5f;   // ties round to even
      x[21] = 1.5f;
      x[22] = 2.5f;
      x[23] = -0.5f;
      BlockQ8_K b;
      ref::QuantizeRowQ8_K(x.data(), &b, 256);
      CHECK(b.d == 1.0f);
      CHECK(b.qs[3] == -127);
      CHECK(b.qs[7] == 127);
      CHECK(b.qs[20] == 0);
      CHECK(b.qs[21] == 2);
      CHECK(b.qs[22] == 2);
      CHECK(b.qs[23] == 0);
      CHECK(b.bsums[0] == 0);
      CHECK(b.bsums[1] == 4);
      x[3] = 127.0f;  // now the positive maximum comes first: iscale = -1
      ref::QuantizeRowQ8_K(x.data(), &b, 256);
      CHECK(b.d == -1.0f);
      CHECK(b.qs[3] == -127);
      CHECK(b.qs[22] == -2);
      std::vector<float> zeros(256, 0.0f);
      ref::QuantizeRowQ8_K(zeros.data(), &b, 256);
      CHECK(b.d == 0.0f);
      CHECK(b.bsums[5] == 0);
    }
  }

  TEST_CASE("vec_dot types follow ggml's CPU backend") {
    CHECK(ref::VecDotType(DType::kQ4_0) == DType::kQ8_0);
    CHECK(ref::VecDotType(DType::kQ5_0) == DType::kQ8_0);
    CHECK(ref::VecDotType(DType::kQ8_0) == DType::kQ8_0);
    CHECK(ref::VecDotType(DType::kQ4_1) == DType::kQ8_1);
    CHECK(ref::VecDotType(DType::kQ5_1) == DType::kQ8_1);
    for (DType t : {DType::kQ2_K, DType::kQ3_K, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K}) {
      CHECK(ref::VecDotType(t) == DType::kQ8_K);
    }
    CHECK(ref::VecDotType(DType::kF16) == DType::kF16);
    CHECK(ref::VecDotType(DType::kBF16) == DType::kBF16);
    CHECK(ref::VecDotType(DType::kF32) == DType::kF32);
    CHECK_FALSE(ref::VecDotType(DType::kQ8_K).has_value());
    CHECK_FALSE(ref::VecDotType(DType::kI8).has_value());
  }

}  // TEST_SUITE("quant")

}  // namespace
}  // namespace r1::quant
