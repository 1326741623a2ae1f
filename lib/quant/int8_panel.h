// int8_panel.h — quantized weights repacked for the INT8 prompt GEMM, and its scalar reference.
//
// A prompt batch multiplies every weight row with many token rows, so it pays to decode each
// block once into a layout an 8-bit multiply-add instruction (vpdpbusd: 4 unsigned x 4 signed
// bytes summed into one 32-bit lane) reads directly. A panel holds kPanelRows rows:
//
//   u  [k/4][kPanelRows][4]   unsigned 8-bit quants, 4 consecutive elements of each row
//                             together, so one 64-byte load feeds 16 rows x 4 elements;
//   a  [k/sub][kPanelRows]    f32 scale of each sub-block of `sub` elements,
//   c  [k/sub][kPanelRows]    f32 offset, so that weight = a * u + c exactly as the block
//                             format defines it (sub = the format's scale group: 32 or 16).
//
// Activations are quantized per token to 8 bits with one f32 scale dx per activation block
// (32 elements; 256 for formats with 16-element sub-blocks, as llama.cpp's Q8_K) and an integer
// sum Σ xq per sub-block, so that
//   y[t][r] = Σ_sub dx[t] (a[r] Σ u[r] xq[t] + c[r] Σ xq[t]).
// The integer sums are exact; only the f32 accumulation order differs between kernels. For the
// symmetric formats (c = -z a, z a power of two) kernels may fold the offset into the integer
// sums instead: Σ (u - z) xq.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "r1/dtype.h"

namespace r1 {

inline constexpr int kPanelRows = 16;

// The sub-block length of `type` in a panel (32 or 16); 0 when the type has no panel form
// (float types, which are not integer-coded).
int Int8PanelSubBlock(DType type);

// Bytes of one panel of `k` elements per row (k a multiple of 32 and of `sub`).
inline size_t Int8PanelBytes(int64_t k, int sub) {
  return static_cast<size_t>(k) * kPanelRows + 2 * static_cast<size_t>(k / sub) * kPanelRows * sizeof(float);
}

// The parts of the panel at `panel` (k elements per row); Byte is uint8_t or const uint8_t.
template <class Byte>
struct Int8PanelParts {
  using Float = std::conditional_t<std::is_const_v<Byte>, const float, float>;
  Byte* u;
  Float* a;
  Float* c;
  Int8PanelParts(Byte* panel, int64_t k, int sub)
      : u(panel), a(reinterpret_cast<Float*>(panel + k * kPanelRows)), c(a + (k / sub) * kPanelRows) {}
};

// Writes rows [0, nr) of a matrix of `type` (rows `row_bytes` apart, k elements each) into
// ceil(nr / 16) panels back to back at `dst`; rows past nr in the last panel are zero (they
// contribute nothing).
void RepackInt8Panels(DType type, const uint8_t* rows, uint64_t row_bytes, int nr, int64_t k, uint8_t* dst);

// The zero point z of a symmetric format (weight = a (u - z)): Q4_0 8, Q5_0 16, Q8_0 128,
// Q3_K 4, Q6_K 32, the i-quants 16 … 128 by their range; 0 for formats with a separate minimum.
int Int8PanelZeroPoint(DType type);

// Activation elements per f32 scale for weights with sub-blocks of `sub`.
inline int Int8ActBlock(int sub) { return sub == 16 ? 256 : 32; }

// Token rows quantized for the kernel: q [n][k], d [n][k / Int8ActBlock(sub)], sum [n][k / sub].
struct Int8Activations {
  const int8_t* q = nullptr;
  const float* d = nullptr;
  const int32_t* sum = nullptr;
  int64_t k = 0;
  int sub = 32;
};

// One token row: d = max|x| / 127 per activation block, q = x / d rounded to nearest (ties to
// even), sum = Σ q per `sub` elements. k a multiple of Int8ActBlock(sub).
void QuantizeInt8ActivationsRef(const float* x, int64_t k, int sub, int8_t* q, float* d, int32_t* sum);

// y[t * ldy + r] = row r of the panels . token row t, for r < nr and t < n_tokens. `panels`
// holds ceil(nr / 16) (at most 2) panels back to back, Int8PanelBytes(k, sub) each.
void Int8PanelGemmRef(const uint8_t* panels, int nr, const Int8Activations& x, int64_t n_tokens, float* y,
                      int64_t ldy);

// The most rows one call of an Int8PanelGemm kernel takes.
inline constexpr int kInt8GemmMaxRows = 2 * kPanelRows;

}  // namespace r1
