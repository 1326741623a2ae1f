// quant_test_util.h — random rows of any block type for the quant tests.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>
#include <type_traits>
#include <vector>

#include "r1/dtype.h"
#include "r1/quant/blocks.h"
#include "r1/quant/half.h"
#include "r1/quant/reference.h"
#include "support/test_util.h"

namespace r1::quant::test {

inline std::vector<uint8_t> RowStorage(DType t, int64_t n) {
  return std::vector<uint8_t>(*RowBytes(t, static_cast<uint64_t>(n)));
}

// Overwrites the f16 scale fields of every block with random finite values: positive scales,
// mins of either sign. Q8_0 quants are kept off -128, which ggml's quantizer never writes.
template <class Block>
void RandomizeScales(std::vector<uint8_t>& row, std::mt19937_64& rng) {
  std::uniform_real_distribution<float> scale(1e-3f, 2e-2f);
  std::uniform_real_distribution<float> min(-0.5f, 0.5f);
  auto* blocks = reinterpret_cast<Block*>(row.data());
  for (size_t i = 0; i < row.size() / sizeof(Block); ++i) {
    Block& b = blocks[i];
    b.d = F32ToF16(scale(rng));
    if constexpr (requires { b.dmin; }) b.dmin = F32ToF16(scale(rng));
    if constexpr (requires { b.m; }) b.m = F32ToF16(min(rng));
    if constexpr (std::is_same_v<Block, BlockQ8_0>) {
      for (int8_t& q : b.qs) q = q == -128 ? -127 : q;
    }
  }
}

// IQ1_M keeps its f16 scale in the top nibbles of its four scale words.
inline void RandomizeIQ1_MScales(std::vector<uint8_t>& row, std::mt19937_64& rng) {
  std::uniform_real_distribution<float> scale(1e-3f, 2e-2f);
  auto* blocks = reinterpret_cast<BlockIQ1_M*>(row.data());
  for (size_t i = 0; i < row.size() / sizeof(BlockIQ1_M); ++i) {
    const uint16_t d = F32ToF16(scale(rng));
    uint16_t w[4];
    std::memcpy(w, blocks[i].scales, sizeof(w));
    for (int k = 0; k < 4; ++k) w[k] = static_cast<uint16_t>((w[k] & 0x0fff) | (((d >> (4 * k)) & 0xf) << 12));
    std::memcpy(blocks[i].scales, w, sizeof(w));
  }
}

// A row of n elements of weight type t: for the block types uniformly random quant bits (so
// every bit pattern of the packed fields gets exercised) with random scales; for the float
// types random values in [-1, 1].
inline std::vector<uint8_t> RandomWeightRow(DType t, int64_t n, uint64_t seed) {
  std::vector<uint8_t> row = RowStorage(t, n);
  std::mt19937_64 rng(seed);
  for (uint8_t& b : row) b = static_cast<uint8_t>(rng());
  switch (t) {
    case DType::kF32:
    case DType::kF16:
    case DType::kBF16: {
      const auto v = r1::test::RandomFloats(static_cast<size_t>(n), seed, -1.0f, 1.0f);
      ref::QuantizeRow(t, v.data(), row.data(), n);
      break;
    }
    case DType::kQ4_0: RandomizeScales<BlockQ4_0>(row, rng); break;
    case DType::kQ4_1: RandomizeScales<BlockQ4_1>(row, rng); break;
    case DType::kQ5_0: RandomizeScales<BlockQ5_0>(row, rng); break;
    case DType::kQ5_1: RandomizeScales<BlockQ5_1>(row, rng); break;
    case DType::kQ8_0: RandomizeScales<BlockQ8_0>(row, rng); break;
    case DType::kQ2_K: RandomizeScales<BlockQ2_K>(row, rng); break;
    case DType::kQ3_K: RandomizeScales<BlockQ3_K>(row, rng); break;
    case DType::kQ4_K: RandomizeScales<BlockQ4_K>(row, rng); break;
    case DType::kQ5_K: RandomizeScales<BlockQ5_K>(row, rng); break;
    case DType::kQ6_K: RandomizeScales<BlockQ6_K>(row, rng); break;
    case DType::kIQ2_XXS: RandomizeScales<BlockIQ2_XXS>(row, rng); break;
    case DType::kIQ2_XS: RandomizeScales<BlockIQ2_XS>(row, rng); break;
    case DType::kIQ2_S: RandomizeScales<BlockIQ2_S>(row, rng); break;
    case DType::kIQ3_XXS: RandomizeScales<BlockIQ3_XXS>(row, rng); break;
    case DType::kIQ3_S: RandomizeScales<BlockIQ3_S>(row, rng); break;
    case DType::kIQ1_S: RandomizeScales<BlockIQ1_S>(row, rng); break;
    case DType::kIQ4_NL: RandomizeScales<BlockIQ4_NL>(row, rng); break;
    case DType::kIQ4_XS: RandomizeScales<BlockIQ4_XS>(row, rng); break;
    case DType::kIQ1_M: RandomizeIQ1_MScales(row, rng); break;
    default: break;
  }
  return row;
}

// Σ |w_i * x_i| over the dequantized rows: the scale that dot-product errors are measured by.
// n_rows random rows of k elements (RandomWeightRow, seeds seed, seed + 1, …) back to back.
struct RandomRows {
  std::vector<uint8_t> data;
  uint64_t row_bytes = 0;
  RandomRows(DType type, int n_rows, int64_t k, uint64_t seed) : row_bytes(*RowBytes(type, static_cast<uint64_t>(k))) {
    for (int r = 0; r < n_rows; ++r) {
      const auto row = RandomWeightRow(type, k, seed + static_cast<uint64_t>(r));
      data.insert(data.end(), row.begin(), row.end());
    }
  }
};

inline double AbsDot(DType wt, const void* w, DType xt, const void* x, int64_t n) {
  std::vector<float> wf(static_cast<size_t>(n)), xf(static_cast<size_t>(n));
  ref::DequantizeRow(wt, w, wf.data(), n);
  ref::DequantizeRow(xt, x, xf.data(), n);
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) s += std::abs(static_cast<double>(wf[i]) * xf[i]);
  return s;
}

// The types r1 can use as matrix weights.
inline constexpr DType kWeightTypes[] = {
    DType::kF32,    DType::kF16,     DType::kBF16,  DType::kQ4_0,  DType::kQ4_1,   DType::kQ5_0,
    DType::kQ5_1,   DType::kQ8_0,    DType::kQ2_K,  DType::kQ3_K,  DType::kQ4_K,   DType::kQ5_K,
    DType::kQ6_K,   DType::kIQ2_XXS, DType::kIQ2_XS, DType::kIQ2_S, DType::kIQ3_XXS, DType::kIQ3_S,
    DType::kIQ1_S,  DType::kIQ1_M,   DType::kIQ4_NL, DType::kIQ4_XS};

// The i-quants.
inline constexpr DType kIQuantTypes[] = {DType::kIQ2_XXS, DType::kIQ2_XS, DType::kIQ2_S,
                                         DType::kIQ3_XXS, DType::kIQ3_S,  DType::kIQ1_S,
                                         DType::kIQ1_M,   DType::kIQ4_NL, DType::kIQ4_XS};

inline bool IsIQuant(DType t) {
  for (DType i : kIQuantTypes) {
    if (i == t) return true;
  }
  return false;
}


// Row lengths per block size: one block, a few, many, and the model sizes that matter.
inline std::vector<int64_t> TestSizes(DType t) {
  switch (Traits(t).block_size) {
    case 256: return {256, 512, 4352, 11008};
    case 32: return {32, 96, 4096 + 32, 11008};
    default: return {1, 7, 16, 33, 100, 4097};
  }
}

}  // namespace r1::quant::test
