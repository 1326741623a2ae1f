// The i-quant formats: dequantization of random blocks (every bit pattern of every field)
// against known answers produced by ggml's dequantize_row_iq* on the same bytes, and the facts
// the decoders rely on.
#include <doctest/doctest.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <vector>

#include "quant_test_util.h"
#include "r1/quant/iquant_grids.h"
#include "r1/quant/reference.h"

namespace r1::quant {
namespace {

// FNV-1a over the bytes of the f32 results.
uint64_t HashFloats(const std::vector<float>& y) {
  uint64_t h = 1469598103934665603ull;
  for (float v : y) {
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof(bits));
    for (int k = 0; k < 4; ++k) {
      h ^= (bits >> (8 * k)) & 0xff;
      h *= 1099511628211ull;
    }
  }
  return h;
}

struct KnownAnswer {
  DType type;
  uint64_t hash;  // of ggml's dequantization of RandomWeightRow(type, 1024, 4242 + type)
};

constexpr KnownAnswer kKnownAnswers[] = {
    {DType::kIQ2_XXS, 0xe5172f1f05d253e4ull}, {DType::kIQ2_XS, 0x08816722981b47afull},
    {DType::kIQ2_S, 0x5bb53c09ef4590c1ull},   {DType::kIQ3_XXS, 0x0ad2f26662d7cd36ull},
    {DType::kIQ3_S, 0x23bca6c26ff37fa3ull},   {DType::kIQ1_S, 0xdcd86828da04fd93ull},
    {DType::kIQ1_M, 0x3548ddcbd4447790ull},   {DType::kIQ4_NL, 0xda8d72eaf26a1148ull},
    {DType::kIQ4_XS, 0x938d8320e715fd20ull},
};

TEST_SUITE("quant") {
  TEST_CASE("i-quant dequantization equals ggml's on random blocks") {
    for (const KnownAnswer& k : kKnownAnswers) {
      INFO("type = ", DTypeName(k.type));
      const auto row = test::RandomWeightRow(k.type, 1024, 4242 + static_cast<uint64_t>(k.type));
      std::vector<float> y(1024);
      REQUIRE(ref::DequantizeRow(k.type, row.data(), y.data(), 1024));
      CHECK(HashFloats(y) == k.hash);
    }
  }

  TEST_CASE("i-quant grids and signs") {
    // Sign bytes carry an even number of set bits; the stored 7 bits come back unchanged.
    for (uint32_t b = 0; b < 128; ++b) {
      const uint8_t s = grids::SignByte(b);
      CHECK((s & 127) == b);
      CHECK(std::popcount(s) % 2 == 0);
    }
    // Magnitudes are never 0 (the decoders negate bytewise without carries).
    for (uint64_t g : grids::kIq2xxsGrid) CHECK(((g - 0x0101010101010101ull) & ~g & 0x8080808080808080ull) == 0);
    for (uint32_t g : grids::kIq3sGrid) CHECK(((g - 0x01010101u) & ~g & 0x80808080u) == 0);
    // First and last points as the format defines them.
    CHECK(grids::kIq2xxsGrid.front() == 0x0808080808080808ull);
    CHECK(grids::kIq3xxsGrid.front() == 0x04040404u);
    CHECK(grids::kIq1sGrid.front() == 0xffffffffffffffffull);
    CHECK(grids::kIq1sGrid.back() == 0x0101010101010101ull);
  }

  TEST_CASE("i-quant vec_dot is the integer dot product of the decoded block") {
    // One IQ4_XS block with d = 1 and every group's scale -15: its dot with a Q8_K row of ones
    // (d = 1) is -15 Σ values, exactly.
    BlockIQ4_XS b{};
    b.d = F32ToF16(1.0f);
    b.scales_h = 0x5555;  // high bits 01 for every group: s = 16 + low nibble
    std::memset(b.scales_l, 0x11, sizeof(b.scales_l));  // low nibble 1: s = 17, s - 32 = -15
    for (int j = 0; j < kQK_K / 2; ++j) b.qs[j] = static_cast<uint8_t>(j % 16 | (15 - j % 16) << 4);
    BlockQ8_K x{};
    x.d = 1.0f;
    std::memset(x.qs, 1, sizeof(x.qs));
    int sum = 0;
    for (int j = 0; j < kQK_K / 2; ++j) sum += grids::kIq4Values[j % 16] + grids::kIq4Values[15 - j % 16];
    CHECK(ref::VecDot(DType::kIQ4_XS, kQK_K, &b, &x) == static_cast<float>(-15 * sum));
  }
}

}  // namespace
}  // namespace r1::quant
