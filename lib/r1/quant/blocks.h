// r1/quant/blocks.h — the on-disk block layouts of GGUF's quantized types.
//
// Each struct is one block exactly as ggml stores it (ggml-common.h), so a row of a mapped
// tensor can be read as an array of blocks. Half-precision fields are raw IEEE binary16 bits
// (see r1/quant/half.h). All fields are byte arrays or 16/32-bit scalars at natural offsets,
// so the structs have no padding and the same layout on every platform r1 supports.
#pragma once

#include <cstdint>

#include "r1/dtype.h"

namespace r1::quant {

inline constexpr int kQK = 32;          // elements per block of the Q4_0 … Q8_1 types
inline constexpr int kQK_K = 256;       // elements per super-block of the K types
inline constexpr int kKScaleSize = 12;  // bytes of packed 6-bit scales/mins in Q4_K, Q5_K

// x = d * (q - 8), q in [0, 15]; element j in the low nibble of qs[j], element j + 16 in the
// high nibble.
struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[kQK / 2];
};

// x = d * q + m, q in [0, 15], nibbles as in Q4_0.
struct BlockQ4_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qs[kQK / 2];
};

// x = d * (q - 16), q in [0, 31]: low 4 bits as in Q4_0, bit 4 of element j is bit j of qh
// (read as a little-endian uint32).
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};

// x = d * q + m, q in [0, 31], bits as in Q5_0.
struct BlockQ5_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};

// x = d * q, q in [-127, 127] (ggml never produces -128; the SIMD kernels rely on that).
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQK];
};

// Activation block for Q4_1 / Q5_1: x = d * q, and s = d * sum(q) rounded to f16.
struct BlockQ8_1 {
  uint16_t d;
  uint16_t s;
  int8_t qs[kQK];
};

// 16 groups of 16: x = d * (scales[g] & 15) * q - dmin * (scales[g] >> 4), q in [0, 3].
// Element 128 * h + 32 * k + l (h in 0..1, k in 0..3, l in 0..31) is bits 2k..2k+1 of
// qs[32 * h + l]; its group is 8 * h + 2 * k + l / 16.
struct BlockQ2_K {
  uint8_t scales[kQK_K / 16];
  uint8_t qs[kQK_K / 4];
  uint16_t d;
  uint16_t dmin;
};

// 16 groups of 16: x = d * (s[g] - 32) * (q - 4 * !hbit), q in [0, 3], 6-bit s[g] packed in
// `scales` (low 4 bits in nibbles of bytes 0..7, high 2 bits in bytes 8..11). Low bits as in
// Q2_K; the high bit of element 32 * m + l (m in 0..7) is bit m of hmask[l].
struct BlockQ3_K {
  uint8_t hmask[kQK_K / 8];
  uint8_t qs[kQK_K / 4];
  uint8_t scales[12];
  uint16_t d;
};

// 8 groups of 32: x = d * sc[g] * q - dmin * m[g], q in [0, 15], 6-bit sc/m packed in `scales`.
// Element 64 * k + l (l < 32) is the low nibble of qs[32 * k + l], element 64 * k + 32 + l the
// high nibble.
struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleSize];
  uint8_t qs[kQK_K / 2];
};

// As Q4_K with q in [0, 31]; bit 4 of element 32 * m + l (m in 0..7) is bit m of qh[l].
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleSize];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};

// 16 groups of 16: x = d * scales[g] * (q - 32), q in [0, 63]. In half h (128 elements),
// element 32 * k + l has low 4 bits in ql[64 * h + l + 32 * (k & 1)] (low nibble for k < 2,
// high for k >= 2) and high 2 bits at bits 2k..2k+1 of qh[32 * h + l].
struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;
};

// Activation block for the K types: x = d * q (d in f32), bsums[g] = sum of qs in group g of 16.
struct BlockQ8_K {
  float d;
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];
};

static_assert(sizeof(BlockQ4_0) == Traits(DType::kQ4_0).type_size);
static_assert(sizeof(BlockQ4_1) == Traits(DType::kQ4_1).type_size);
static_assert(sizeof(BlockQ5_0) == Traits(DType::kQ5_0).type_size);
static_assert(sizeof(BlockQ5_1) == Traits(DType::kQ5_1).type_size);
static_assert(sizeof(BlockQ8_0) == Traits(DType::kQ8_0).type_size);
static_assert(sizeof(BlockQ8_1) == Traits(DType::kQ8_1).type_size);
static_assert(sizeof(BlockQ2_K) == Traits(DType::kQ2_K).type_size);
static_assert(sizeof(BlockQ3_K) == Traits(DType::kQ3_K).type_size);
static_assert(sizeof(BlockQ4_K) == Traits(DType::kQ4_K).type_size);
static_assert(sizeof(BlockQ5_K) == Traits(DType::kQ5_K).type_size);
static_assert(sizeof(BlockQ6_K) == Traits(DType::kQ6_K).type_size);
static_assert(sizeof(BlockQ8_K) == Traits(DType::kQ8_K).type_size);

static_assert(Traits(DType::kQ4_0).block_size == kQK && Traits(DType::kQ8_1).block_size == kQK);
static_assert(Traits(DType::kQ2_K).block_size == kQK_K && Traits(DType::kQ8_K).block_size == kQK_K);

}  // namespace r1::quant
