// r1/quant/ref_iquants.h — scalar reference for the i-quant types (IQ1 … IQ4).
//
// Every i-quant block decodes to the same integer form (IQuantInts): signed 8-bit quants in
// element order, an integer scale per 16 elements and the block's f32 scale d, so that
//   x[j] = (d * (scale[j / 16] * unit)) * q[j],   unit = 1, 1/4 or 1/8 (exact, per type).
// IQ1's ±1/8 grid shift is folded into q (q = 8 (grid ± 1/8), unit 1/8), which keeps q integer.
// DequantizeRow* evaluate that expression, which rounds exactly as ggml's dequantize_row_iq*
// (the power-of-two unit commutes with rounding). VecDot* take each block's integer dot product
// with its scales exactly and scale once per block in f32; the sums equal ggml's.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>

#include "r1/quant/iquant_grids.h"
#include "r1/quant/ref_common.h"
#include "r1/quant/ref_kquants.h"

namespace r1::quant::ref {

// One i-quant block as integers (IQ4_NL blocks have 32 elements and use the first 32 / 2).
struct IQuantInts {
  int8_t q[kQK_K];
  int16_t scale[kQK_K / 16];
  float d;
};

namespace internal {

inline uint64_t LoadU64(const void* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// Byte j is 0xff where bit j of the index is set: the sign masks of sign bytes.
inline constexpr auto kNegativeBytes = [] {
  std::array<uint64_t, 256> t{};
  for (int i = 0; i < 256; ++i) {
    for (int j = 0; j < 8; ++j) t[i] |= static_cast<uint64_t>((i >> j) & 1 ? 0xff : 0) << (8 * j);
  }
  return t;
}();

// Eight magnitudes (bytes of `grid`, each at least 1) with the signs of `signs`, as int8 to q:
// bytewise two's complement negation (m ^ 0xff) + 1, which never carries since m >= 1.
inline void SignedOctet(uint64_t grid, uint8_t signs, int8_t* q) {
  const uint64_t neg = kNegativeBytes[signs];
  const uint64_t v = (grid ^ neg) + (neg & 0x0101010101010101ull);
  std::memcpy(q, &v, sizeof(v));
}

// As SignedOctet for two 4-element IQ3 grid points.
inline void SignedOctet(uint32_t grid_lo, uint32_t grid_hi, uint8_t signs, int8_t* q) {
  SignedOctet(static_cast<uint64_t>(grid_lo) | static_cast<uint64_t>(grid_hi) << 32, signs, q);
}

// Eight IQ1 grid values (-1, 0, 1) shifted by delta_sign / 8, times 8.
inline void ShiftedOctet(uint64_t grid, int delta_sign, int8_t* q) {
  for (int j = 0; j < 8; ++j) q[j] = static_cast<int8_t>(8 * static_cast<int8_t>(grid >> (8 * j)) + delta_sign);
}

inline void SetScales32(int16_t* scale, int g, int s) { scale[2 * g] = scale[2 * g + 1] = static_cast<int16_t>(s); }

}  // namespace internal

// ---- decoding: one block to IQuantInts ----

inline void DecodeIQ2_XXS(const BlockIQ2_XXS& b, IQuantInts& o) {  // unit 1/8
  o.d = F16ToF32(b.d);
  for (int g = 0; g < 8; ++g) {
    uint32_t w[2];
    std::memcpy(w, b.qs + 4 * g, sizeof(w));
    for (int l = 0; l < 4; ++l) {
      internal::SignedOctet(grids::kIq2xxsGrid[(w[0] >> (8 * l)) & 0xff], grids::SignByte(w[1] >> (7 * l)),
                            o.q + 32 * g + 8 * l);
    }
    internal::SetScales32(o.scale, g, 2 * static_cast<int>(w[1] >> 28) + 1);
  }
}

inline void DecodeIQ2_XS(const BlockIQ2_XS& b, IQuantInts& o) {  // unit 1/8
  o.d = F16ToF32(b.d);
  for (int u = 0; u < 32; ++u) {
    internal::SignedOctet(grids::kIq2xsGrid[b.qs[u] & 511], grids::SignByte(b.qs[u] >> 9), o.q + 8 * u);
  }
  for (int g = 0; g < 8; ++g) {
    o.scale[2 * g] = static_cast<int16_t>(2 * (b.scales[g] & 0xf) + 1);
    o.scale[2 * g + 1] = static_cast<int16_t>(2 * (b.scales[g] >> 4) + 1);
  }
}

inline void DecodeIQ2_S(const BlockIQ2_S& b, IQuantInts& o) {  // unit 1/8
  o.d = F16ToF32(b.d);
  for (int u = 0; u < 32; ++u) {
    const int index = b.qs[u] | (((b.qh[u / 4] >> (2 * (u % 4))) & 3) << 8);
    internal::SignedOctet(grids::kIq2sGrid[index], b.qs[32 + u], o.q + 8 * u);
  }
  for (int g = 0; g < 8; ++g) {
    o.scale[2 * g] = static_cast<int16_t>(2 * (b.scales[g] & 0xf) + 1);
    o.scale[2 * g + 1] = static_cast<int16_t>(2 * (b.scales[g] >> 4) + 1);
  }
}

inline void DecodeIQ3_XXS(const BlockIQ3_XXS& b, IQuantInts& o) {  // unit 1/4
  o.d = F16ToF32(b.d);
  for (int g = 0; g < 8; ++g) {
    const uint32_t w = LoadU32(b.qs + kQK_K / 4 + 4 * g);
    const uint8_t* idx = b.qs + 8 * g;
    for (int l = 0; l < 4; ++l) {
      internal::SignedOctet(grids::kIq3xxsGrid[idx[2 * l]], grids::kIq3xxsGrid[idx[2 * l + 1]],
                            grids::SignByte(w >> (7 * l)), o.q + 32 * g + 8 * l);
    }
    internal::SetScales32(o.scale, g, 2 * static_cast<int>(w >> 28) + 1);
  }
}

inline void DecodeIQ3_S(const BlockIQ3_S& b, IQuantInts& o) {  // unit 1
  o.d = F16ToF32(b.d);
  for (int g = 0; g < 8; ++g) {
    const uint8_t* idx = b.qs + 8 * g;
    const int h = b.qh[g];
    for (int l = 0; l < 4; ++l) {
      const int lo = idx[2 * l] | (((h >> (2 * l)) & 1) << 8);
      const int hi = idx[2 * l + 1] | (((h >> (2 * l + 1)) & 1) << 8);
      internal::SignedOctet(grids::kIq3sGrid[lo], grids::kIq3sGrid[hi], b.signs[4 * g + l], o.q + 32 * g + 8 * l);
    }
    internal::SetScales32(o.scale, g, 2 * ((b.scales[g / 2] >> (4 * (g % 2))) & 0xf) + 1);
  }
}

inline void DecodeIQ1_S(const BlockIQ1_S& b, IQuantInts& o) {  // unit 1/8
  o.d = F16ToF32(b.d);
  for (int g = 0; g < 8; ++g) {
    const int h = b.qh[g];
    const int delta_sign = h & 0x8000 ? -1 : 1;
    for (int l = 0; l < 4; ++l) {
      const int index = b.qs[4 * g + l] | (((h >> (3 * l)) & 7) << 8);
      internal::ShiftedOctet(grids::kIq1sGrid[index], delta_sign, o.q + 32 * g + 8 * l);
    }
    internal::SetScales32(o.scale, g, 2 * ((h >> 12) & 7) + 1);
  }
}

// The f16 super-block scale of an IQ1_M block, spread over the top nibbles of its scale words.
inline uint16_t IQ1_MScaleBits(const BlockIQ1_M& b) {
  uint16_t w[4];
  std::memcpy(w, b.scales, sizeof(w));
  return static_cast<uint16_t>((w[0] >> 12) | ((w[1] >> 8) & 0x00f0) | ((w[2] >> 4) & 0x0f00) | (w[3] & 0xf000));
}

inline void DecodeIQ1_M(const BlockIQ1_M& b, IQuantInts& o) {  // unit 1/8
  o.d = F16ToF32(IQ1_MScaleBits(b));
  uint16_t w[4];
  std::memcpy(w, b.scales, sizeof(w));
  for (int u = 0; u < 32; ++u) {
    const int nibble = (b.qh[u / 2] >> (4 * (u % 2))) & 0xf;
    const int index = b.qs[u] | ((nibble & 7) << 8);
    internal::ShiftedOctet(grids::kIq1sGrid[index], nibble & 8 ? -1 : 1, o.q + 8 * u);
  }
  for (int s = 0; s < 16; ++s) {  // 3 bits per 16 elements, 12 bits per word
    o.scale[s] = static_cast<int16_t>(2 * ((w[s / 4] >> (3 * (s % 4))) & 7) + 1);
  }
}

inline void DecodeIQ4_NL(const BlockIQ4_NL& b, IQuantInts& o) {  // 32 elements, unit 1
  o.d = F16ToF32(b.d);
  for (int j = 0; j < kQK / 2; ++j) {
    o.q[j] = grids::kIq4Values[b.qs[j] & 0xf];
    o.q[j + kQK / 2] = grids::kIq4Values[b.qs[j] >> 4];
  }
  o.scale[0] = o.scale[1] = 1;
}

inline void DecodeIQ4_XS(const BlockIQ4_XS& b, IQuantInts& o) {  // unit 1
  o.d = F16ToF32(b.d);
  for (int g = 0; g < 8; ++g) {
    const uint8_t* qs = b.qs + 16 * g;
    for (int j = 0; j < 16; ++j) {
      o.q[32 * g + j] = grids::kIq4Values[qs[j] & 0xf];
      o.q[32 * g + 16 + j] = grids::kIq4Values[qs[j] >> 4];
    }
    const int s = ((b.scales_l[g / 2] >> (4 * (g % 2))) & 0xf) | (((b.scales_h >> (2 * g)) & 3) << 4);
    internal::SetScales32(o.scale, g, s - 32);
  }
}

// ---- the per-type constants and the generic row functions ----

template <class Block>
struct IQuantTraits;
template <>
struct IQuantTraits<BlockIQ2_XXS> {
  static constexpr int kElems = kQK_K;
  static constexpr float kUnit = 0.125f;
  static void Decode(const BlockIQ2_XXS& b, IQuantInts& o) { DecodeIQ2_XXS(b, o); }
  static uint16_t ScaleBits(const BlockIQ2_XXS& b) { return b.d; }  // the block's f16 scale
};
template <>
struct IQuantTraits<BlockIQ2_XS> {
  static constexpr int kElems = kQK_K;
  static constexpr float kUnit = 0.125f;
  static void Decode(const BlockIQ2_XS& b, IQuantInts& o) { DecodeIQ2_XS(b, o); }
  static uint16_t ScaleBits(const BlockIQ2_XS& b) { return b.d; }  // the block's f16 scale
};
template <>
struct IQuantTraits<BlockIQ2_S> {
  static constexpr int kElems = kQK_K;
  static constexpr float kUnit = 0.125f;
  static void Decode(const BlockIQ2_S& b, IQuantInts& o) { DecodeIQ2_S(b, o); }
  static uint16_t ScaleBits(const BlockIQ2_S& b) { return b.d; }  // the block's f16 scale
};
template <>
struct IQuantTraits<BlockIQ3_XXS> {
  static constexpr int kElems = kQK_K;
  static constexpr float kUnit = 0.25f;
  static void Decode(const BlockIQ3_XXS& b, IQuantInts& o) { DecodeIQ3_XXS(b, o); }
  static uint16_t ScaleBits(const BlockIQ3_XXS& b) { return b.d; }  // the block's f16 scale
};
template <>
struct IQuantTraits<BlockIQ3_S> {
  static constexpr int kElems = kQK_K;
  static constexpr float kUnit = 1.0f;
  static void Decode(const BlockIQ3_S& b, IQuantInts& o) { DecodeIQ3_S(b, o); }
  static uint16_t ScaleBits(const BlockIQ3_S& b) { return b.d; }  // the block's f16 scale
};
template <>
struct IQuantTraits<BlockIQ1_S> {
  static constexpr int kElems = kQK_K;
  static constexpr float kUnit = 0.125f;
  static void Decode(const BlockIQ1_S& b, IQuantInts& o) { DecodeIQ1_S(b, o); }
  static uint16_t ScaleBits(const BlockIQ1_S& b) { return b.d; }  // the block's f16 scale
};
template <>
struct IQuantTraits<BlockIQ1_M> {
  static constexpr int kElems = kQK_K;
  static constexpr float kUnit = 0.125f;
  static void Decode(const BlockIQ1_M& b, IQuantInts& o) { DecodeIQ1_M(b, o); }
  static uint16_t ScaleBits(const BlockIQ1_M& b) { return IQ1_MScaleBits(b); }  // the block's f16 scale
};
template <>
struct IQuantTraits<BlockIQ4_NL> {
  static constexpr int kElems = kQK;
  static constexpr float kUnit = 1.0f;
  static void Decode(const BlockIQ4_NL& b, IQuantInts& o) { DecodeIQ4_NL(b, o); }
  static uint16_t ScaleBits(const BlockIQ4_NL& b) { return b.d; }  // the block's f16 scale
};
template <>
struct IQuantTraits<BlockIQ4_XS> {
  static constexpr int kElems = kQK_K;
  static constexpr float kUnit = 1.0f;
  static void Decode(const BlockIQ4_XS& b, IQuantInts& o) { DecodeIQ4_XS(b, o); }
  static uint16_t ScaleBits(const BlockIQ4_XS& b) { return b.d; }  // the block's f16 scale
};

// The f32 step of each group of 16: d * scale * unit (scale * unit is exact).
template <class Block>
inline void IQuantSteps(const IQuantInts& o, float* step) {
  for (int s = 0; s < IQuantTraits<Block>::kElems / 16; ++s) {
    step[s] = Mul(o.d, static_cast<float>(o.scale[s]) * IQuantTraits<Block>::kUnit);
  }
}

template <class Block>
inline void DequantizeRowIQ(const Block* x, float* y, int64_t n) {
  using T = IQuantTraits<Block>;
  IQuantInts o;
  float step[kQK_K / 16];
  for (int64_t i = 0; i < n / T::kElems; ++i) {
    T::Decode(x[i], o);
    IQuantSteps<Block>(o, step);
    for (int j = 0; j < T::kElems; ++j) y[i * T::kElems + j] = Mul(step[j / 16], static_cast<float>(o.q[j]));
  }
}

// Σ_g scale[g] Σ_{j in g} q[j] a[j] over `n` elements: exact in int32 for every i-quant.
inline int32_t IQuantBlockDot(const IQuantInts& o, const int8_t* a, int n) {
  int32_t total = 0;
  for (int g = 0; g < n / 16; ++g) total += o.scale[g] * internal::GroupDot(o.q + 16 * g, a + 16 * g, 16);
  return total;
}

// With Q8_K activations (IQ4_NL: Q8_0).
template <class Block>
inline float VecDotIQ(int64_t n, const Block* x, const BlockQ8_K* y) {
  IQuantInts o;
  float sumf = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    IQuantTraits<Block>::Decode(x[i], o);
    sumf += o.d * y[i].d * static_cast<float>(IQuantBlockDot(o, y[i].qs, kQK_K));
  }
  return sumf * IQuantTraits<Block>::kUnit;
}

inline float VecDotIQ4_NLQ8_0(int64_t n, const BlockIQ4_NL* x, const BlockQ8_0* y) {
  IQuantInts o;
  float sumf = 0.0f;
  for (int64_t i = 0; i < n / kQK; ++i) {
    DecodeIQ4_NL(x[i], o);
    sumf += F16ToF32(y[i].d) * o.d * static_cast<float>(IQuantBlockDot(o, y[i].qs, kQK));
  }
  return sumf;
}

}  // namespace r1::quant::ref
