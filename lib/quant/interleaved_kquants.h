// interleaved_kquants.h — Q4_K and Q6_K matrices with 16 rows side by side, for the decode
// products, and their scalar references.
//
// The row-by-row K-quant kernels reduce each block of every weight row to one number: the
// group sums are packed, scaled, folded with the mins or offsets and converted per row and per
// activation row, so a batched decode step pays that work once per conversation. With 16 rows
// interleaved, each 32-bit lane of a 512-bit register belongs to one weight row: the 8-bit
// multiply-adds take 4 quants of each of 16 rows against 4 activation bytes broadcast to every
// lane, and scales, mins and conversions are applied to 16 rows at once. Both layouts keep the
// file's density within 3%.
//
// Q4_K, the block of 256 elements at the same position in rows r = 0..15 (2368 bytes, 16 × 144
// in the file):
//   d[r], dmin[r]        the rows' f16 scales;
//   scales[g][r]         group g's 6-bit scale (8 groups of 32 elements);
//   mins[h][r][j]        the 6-bit min of group 2h + j, j = 0, 1 (pairs, for 16-bit multiply-adds);
//   qs[g][p][4 r + e]    low nibble: element 8p + e of group g; high nibble: element 8p + 4 + e
//                        (p = 0..3, e = 0..3), so one 64-byte load holds 4 consecutive quants
//                        of 16 rows twice.
// Per block: d · xd · Σ_g scale_g Σ q·x  −  dmin · xd · Σ_g min_g · Σ_{group g} x.
//
// Q6_K (3360 bytes, 16 × 210 as in the file), 16 groups of 16 elements:
//   d[r]                 f16 scale;
//   scales[h][r][j]      the signed 8-bit scale of group 2h + j (pairs, as the Q4_K mins);
//   ql[g][p][4 r + e]    the low 4 bits of element 8p + e of group g (low nibble) and of
//                        element 8p + 4 + e (high nibble), p = 0, 1;
//   qh[g][4 r + e]       bits 2j, 2j + 1: the high 2 bits of element 4j + e of group g.
// Per block: d · xd · (Σ_g scale_g Σ q·x  −  32 Σ_g scale_g · Σ_{group g} x), q in 0..63.
//
// The integer sums are exact; the kernels and the references add each block's f32 terms to
// the running sum in the same order with fused multiply-adds, so they agree bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>

#include "r1/dtype.h"

namespace r1 {

inline constexpr int kInterleavedRows = 16;

struct BlockQ4_Kx16 {
  uint16_t d[kInterleavedRows];
  uint16_t dmin[kInterleavedRows];
  uint8_t scales[8][kInterleavedRows];
  uint8_t mins[4][kInterleavedRows][2];
  uint8_t qs[8][4][4 * kInterleavedRows];
};
static_assert(sizeof(BlockQ4_Kx16) == 2368);

struct BlockQ6_Kx16 {
  uint16_t d[kInterleavedRows];
  int8_t scales[8][kInterleavedRows][2];
  uint8_t ql[16][2][4 * kInterleavedRows];
  uint8_t qh[16][4 * kInterleavedRows];
};
static_assert(sizeof(BlockQ6_Kx16) == 3360);

// Whether matrices of `type` have an interleaved form (Q4_K, Q6_K).
bool HasInterleavedForm(DType type);

// Bytes of 16 interleaved rows of n elements of `type` (n a multiple of 256).
size_t InterleavedBytes(DType type, int64_t n);

// Writes 16 rows of `type` with n elements each (`row_bytes` apart) interleaved at dst.
void InterleaveRows16(DType type, const uint8_t* rows, uint64_t row_bytes, int64_t n, void* dst);

// out[t * out_stride + r] = row r of the 16 interleaved rows `w` (n elements) · Q8_K
// activation row t (x + t * x_stride), for r < 16 and t < nx.
void DotQ4_Kx16Ref(int64_t n, const void* w, const void* x, uint64_t x_stride, int64_t nx, float* out,
                   int64_t out_stride);
void DotQ6_Kx16Ref(int64_t n, const void* w, const void* x, uint64_t x_stride, int64_t nx, float* out,
                   int64_t out_stride);

}  // namespace r1
