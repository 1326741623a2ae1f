// f32 <-> f16 / bf16 scalar conversions: known bit patterns and exhaustive round trips.
#include "r1/quant/half.h"

#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

namespace r1::quant {
namespace {

uint32_t Bits(float f) { return std::bit_cast<uint32_t>(f); }
float FromBits(uint32_t u) { return std::bit_cast<float>(u); }

// An independent f32 -> f16 conversion through double arithmetic: scale into units of the
// target spacing and round half to even with nearbyint.
uint16_t F32ToF16ViaDouble(float f) {
  if (std::isnan(f)) return 0;  // not used for NaN
  const uint16_t sign = std::signbit(f) ? 0x8000 : 0;
  const double a = std::fabs(static_cast<double>(f));
  if (a >= 65520.0) return sign | 0x7c00;
  if (a < std::ldexp(1.0, -14)) {  // subnormal: multiples of 2^-24
    return static_cast<uint16_t>(sign | static_cast<uint16_t>(std::nearbyint(std::ldexp(a, 24))));
  }
  int e;
  std::frexp(a, &e);  // a = m * 2^e, m in [0.5, 1)
  const double unit = std::ldexp(1.0, e - 11);
  const double q = std::nearbyint(a / unit) * unit;  // rounded to 11 significant bits
  // Re-encode q (may have carried to the next binade).
  int e2;
  const double m2 = std::frexp(q, &e2);
  const uint32_t exp = static_cast<uint32_t>(e2 - 1 + 15);
  const uint32_t mant = static_cast<uint32_t>(std::ldexp(m2, 11)) & 0x3ffu;
  return static_cast<uint16_t>(sign | (exp << 10) | mant);
}

TEST_SUITE("quant") {
  TEST_CASE("f16 known values") {
    CHECK(F32ToF16(0.0f) == 0x0000);
    CHECK(F32ToF16(-0.0f) == 0x8000);
    CHECK(F32ToF16(1.0f) == 0x3c00);
    CHECK(F32ToF16(-2.0f) == 0xc000);
    CHECK(F32ToF16(0.5f) == 0x3800);
    CHECK(F32ToF16(65504.0f) == 0x7bff);
    CHECK(F32ToF16(65519.99f) == 0x7bff);
    CHECK(F32ToF16(65520.0f) == 0x7c00);  // the tie goes to even: infinity
    CHECK(F32ToF16(std::numeric_limits<float>::infinity()) == 0x7c00);
    CHECK(F32ToF16(-std::numeric_limits<float>::infinity()) == 0xfc00);
    CHECK(F32ToF16(std::ldexp(1.0f, -14)) == 0x0400);  // smallest normal
    CHECK(F32ToF16(std::ldexp(1.0f, -24)) == 0x0001);  // smallest subnormal
    CHECK(F32ToF16(std::ldexp(1.0f, -25)) == 0x0000);  // tie between 0 and 2^-24: even
    CHECK(F32ToF16(std::ldexp(1.5f, -25)) == 0x0001);
    CHECK(F32ToF16(std::ldexp(3.0f, -25)) == 0x0002);         // tie 1.5 units: to even 2
    CHECK(F32ToF16(std::ldexp(5.0f, -25)) == 0x0002);         // tie 2.5 units: to even 2
    CHECK(F32ToF16(1.0f + std::ldexp(1.0f, -11)) == 0x3c00);  // tie: to even
    CHECK(F32ToF16(1.0f + std::ldexp(3.0f, -11)) == 0x3c02);  // tie: to even
    CHECK(F32ToF16(0.1f) == 0x2e66);
    CHECK(F32ToF16(FromBits(0x7fc00000u)) == 0x7e00);  // quiet NaN
    CHECK(F32ToF16(FromBits(0xff800001u)) == 0xfe00);  // signalling NaN becomes quiet, keeps sign
    CHECK(F32ToF16(FromBits(0x7fbfe000u)) == 0x7fff);  // upper payload bits kept

    CHECK(F16ToF32(0x3c00) == 1.0f);
    CHECK(F16ToF32(0xc000) == -2.0f);
    CHECK(F16ToF32(0x7bff) == 65504.0f);
    CHECK(F16ToF32(0x0001) == std::ldexp(1.0f, -24));
    CHECK(F16ToF32(0x03ff) == std::ldexp(1023.0f, -24));
    CHECK(Bits(F16ToF32(0x8000)) == 0x80000000u);
    CHECK(Bits(F16ToF32(0x7c00)) == 0x7f800000u);
    CHECK(Bits(F16ToF32(0x7e01)) == 0x7fc02000u);
  }

  TEST_CASE("f16 -> f32 -> f16 is the identity on all 65536 values (NaNs stay NaN)") {
    int mismatches = 0;
    for (uint32_t h = 0; h < 0x10000u; ++h) {
      const float f = F16ToF32(static_cast<uint16_t>(h));
      const uint16_t back = F32ToF16(f);
      const bool is_nan = (h & 0x7c00u) == 0x7c00u && (h & 0x3ffu) != 0;
      if (is_nan) {
        mismatches += !std::isnan(f) || back != (h | 0x200u);  // quieted, payload kept
      } else {
        mismatches += back != h;
        // The value is exact: compare with the obvious formula.
        const int e = static_cast<int>((h >> 10) & 0x1f);
        const double m = h & 0x3ff;
        const double v = e == 0    ? std::ldexp(m, -24)
                         : e == 31 ? INFINITY
                                   : std::ldexp(1024.0 + m, e - 25);
        mismatches += static_cast<double>(std::fabs(f)) != v;
      }
    }
    CHECK(mismatches == 0);
  }

  TEST_CASE("f32 -> f16 rounds to nearest even over random and near-tie inputs") {
    std::mt19937 rng(7);
    int mismatches = 0;
    for (int i = 0; i < 2000000; ++i) {
      uint32_t u = rng();
      if (i % 2 == 1) {
        // Concentrate on the f16 range, and on exact ties (low 13 bits = 0x1000).
        u = (u & 0x80000000u) | (0x33000000u + (u % (0x47800000u - 0x33000000u)));
        if (i % 4 == 3) u = (u & ~0x1fffu) | 0x1000u;
      }
      const float f = FromBits(u);
      if (std::isnan(f)) continue;
      mismatches += F32ToF16(f) != F32ToF16ViaDouble(f);
    }
    CHECK(mismatches == 0);
  }

  TEST_CASE("bf16 known values and round trip") {
    CHECK(F32ToBf16(1.0f) == 0x3f80);
    CHECK(F32ToBf16(-2.0f) == 0xc000);
    CHECK(F32ToBf16(FromBits(0x3f808000u)) == 0x3f80);  // tie, even stays
    CHECK(F32ToBf16(FromBits(0x3f818000u)) == 0x3f82);  // tie, odd rounds up
    CHECK(F32ToBf16(FromBits(0x3f808001u)) == 0x3f81);
    CHECK(F32ToBf16(FromBits(0x7f7fffffu)) == 0x7f80);  // FLT_MAX rounds to infinity
    CHECK(F32ToBf16(FromBits(0x00000001u)) == 0x0000);  // subnormals are kept (and rounded)
    CHECK(F32ToBf16(FromBits(0x00008000u)) == 0x0000);
    CHECK(F32ToBf16(FromBits(0x00018000u)) == 0x0002);
    CHECK(F32ToBf16(FromBits(0x7f800001u)) == 0x7fc0);  // NaN forced quiet
    CHECK(F32ToBf16(FromBits(0xffc12345u)) == 0xffc1);
    CHECK(Bf16ToF32(0x3f80) == 1.0f);
    int mismatches = 0;
    for (uint32_t h = 0; h < 0x10000u; ++h) {
      const bool is_nan = (h & 0x7f80u) == 0x7f80u && (h & 0x7fu) != 0;
      const uint16_t back = F32ToBf16(Bf16ToF32(static_cast<uint16_t>(h)));
      mismatches += is_nan ? back != (h | 0x40u) : back != h;
    }
    CHECK(mismatches == 0);
  }

}  // TEST_SUITE("quant")

}  // namespace
}  // namespace r1::quant
