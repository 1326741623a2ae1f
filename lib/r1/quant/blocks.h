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

// ---- i-quants: quants name points of fixed grids (r1/quant/iquant_grids.h) or values of a
// non-linear table. All elements of a 256-block use the f16 `d`; below, "sign byte" means bit j
// set = element j of the 8 is negative.

// 8 groups of 32: 8 bytes per group read as two little-endian words w0, w1. Byte l of w0 indexes
// kIq2xxsGrid for elements 8l..8l+7; SignByte(w1 >> 7l) are their signs; x = d (2 (w1 >> 28) + 1)
// / 8 * grid * sign.
struct BlockIQ2_XXS {
  uint16_t d;
  uint16_t qs[kQK_K / 8];
};

// 32 words of 8 elements: bits 0..8 index kIq2xsGrid, SignByte(bits 9..15) the signs. Group g of
// 32 has 4-bit scales s in scales[g] (low nibble: first 16, high: last 16); x = d (2 s + 1) / 8 * grid.
struct BlockIQ2_XS {
  uint16_t d;
  uint16_t qs[kQK_K / 8];
  uint8_t scales[kQK_K / 32];
};

// 32 units of 8: qs[u] | bits 2 (u % 4)..+1 of qh[u / 4] << 8 index kIq2sGrid, qs[32 + u] is the
// sign byte; scales as IQ2_XS.
struct BlockIQ2_S {
  uint16_t d;
  uint8_t qs[kQK_K / 4];
  uint8_t qh[kQK_K / 32];
  uint8_t scales[kQK_K / 32];
};

// 64 bytes of kIq3xxsGrid indices (4 elements each), then per group of 32 a word w: the sign
// bytes SignByte(w >> 7l) of its 4 units of 8, and x = d (2 (w >> 28) + 1) / 4 * grid * sign.
struct BlockIQ3_XXS {
  uint16_t d;
  uint8_t qs[3 * kQK_K / 8];
};

// Per group g of 32: 8 bytes of qs with bit 8 from qh[g] index kIq3sGrid (4 elements each),
// 4 sign bytes, a 4-bit scale s (nibble g % 2 of scales[g / 2]); x = d (2 s + 1) * grid * sign.
struct BlockIQ3_S {
  uint16_t d;
  uint8_t qs[kQK_K / 4];
  uint8_t qh[kQK_K / 32];
  uint8_t signs[kQK_K / 8];
  uint8_t scales[kQK_K / 64];
};

// Per group g of 32, h = qh[g]: 4 units of 8 index kIq1sGrid with qs[4g + l] | ((h >> 3l) & 7) << 8;
// x = d (2 ((h >> 12) & 7) + 1) (grid + delta), delta = -1/8 if bit 15 of h is set, else +1/8.
struct BlockIQ1_S {
  uint16_t d;
  uint8_t qs[kQK_K / 8];
  uint16_t qh[kQK_K / 32];
};

// No separate d: the f16 super-block scale is the top nibbles of the four little-endian words
// of `scales` (word 0 lowest). Units of 8 as IQ1_S with 3 high index bits and a delta bit per
// nibble of qh; 3-bit scales per 16 elements in the low 12 bits of the words.
struct BlockIQ1_M {
  uint8_t qs[kQK_K / 8];
  uint8_t qh[kQK_K / 16];
  uint8_t scales[kQK_K / 32];
};

// 32 elements: x = d * kIq4Values[q], q as the nibbles of Q4_0.
struct BlockIQ4_NL {
  uint16_t d;
  uint8_t qs[kQK / 2];
};

// 8 groups of 32 with 6-bit scales s (low 4 bits: nibble g % 2 of scales_l[g / 2], high 2 bits:
// bits 2g..2g+1 of scales_h); x = d (s - 32) kIq4Values[q], nibbles per group as IQ4_NL.
struct BlockIQ4_XS {
  uint16_t d;
  uint16_t scales_h;
  uint8_t scales_l[kQK_K / 64];
  uint8_t qs[kQK_K / 2];
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
static_assert(sizeof(BlockIQ2_XXS) == Traits(DType::kIQ2_XXS).type_size);
static_assert(sizeof(BlockIQ2_XS) == Traits(DType::kIQ2_XS).type_size);
static_assert(sizeof(BlockIQ2_S) == Traits(DType::kIQ2_S).type_size);
static_assert(sizeof(BlockIQ3_XXS) == Traits(DType::kIQ3_XXS).type_size);
static_assert(sizeof(BlockIQ3_S) == Traits(DType::kIQ3_S).type_size);
static_assert(sizeof(BlockIQ1_S) == Traits(DType::kIQ1_S).type_size);
static_assert(sizeof(BlockIQ1_M) == Traits(DType::kIQ1_M).type_size);
static_assert(sizeof(BlockIQ4_NL) == Traits(DType::kIQ4_NL).type_size);
static_assert(sizeof(BlockIQ4_XS) == Traits(DType::kIQ4_XS).type_size);

static_assert(Traits(DType::kQ4_0).block_size == kQK && Traits(DType::kQ8_1).block_size == kQK);
static_assert(Traits(DType::kQ2_K).block_size == kQK_K && Traits(DType::kQ8_K).block_size == kQK_K);

}  // namespace r1::quant
