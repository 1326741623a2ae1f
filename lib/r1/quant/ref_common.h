// r1/quant/ref_common.h — small helpers shared by the scalar reference of the block formats.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "r1/quant/blocks.h"
#include "r1/quant/half.h"

namespace r1::quant::ref {

// a * b rounded to f32 before any following addition. ggml's reference dequantization is
// built without FMA on x86, so `d * q - m` is two roundings there; an optimizer allowed to
// contract (GCC does so by default) would fuse it into one. The empty asm pins the product.
inline float Mul(float a, float b) {
  float p = a * b;
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  asm("" : "+x"(p));
#elif defined(__GNUC__) && defined(__aarch64__)
  asm("" : "+w"(p));
#elif defined(__GNUC__)
  asm("" : "+m"(p));
#endif
  return p;
}

// Round to nearest, ties to even: the result of ggml's nearest_int() (its 1.5 * 2^23 trick)
// for |x| < 2^22, the only range it is used on.
inline int NearestInt(float x) { return static_cast<int>(std::nearbyint(x)); }

inline uint32_t LoadU32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

namespace internal {
// The value of largest magnitude (the first one on ties), with its sign.
inline float SignedAbsMax(const float* x, int n) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < n; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}
}  // namespace internal

// Scale and min of group j (0..7) of a Q4_K / Q5_K block: 6-bit values, the first four stored
// directly in bytes 0..3 (scales) and 4..7 (mins), the last four split into a low nibble in
// bytes 8..11 and two high bits in the top bits of bytes 0..7.
inline void ScaleMinK4(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// The 16 signed group scales (in [-32, 31]) of a Q3_K block.
inline void UnpackQ3KScales(const uint8_t* packed, int8_t out[16]) {
  for (int j = 0; j < 16; ++j) {
    const int low = j < 8 ? (packed[j] & 0xf) : (packed[j - 8] >> 4);
    const int high = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;
    out[j] = static_cast<int8_t>((low | (high << 4)) - 32);
  }
}

inline void PackQ3KScales(const int l_in[16], uint8_t packed[12]) {  // l_in in [0, 63]
  std::memset(packed, 0, 12);
  for (int j = 0; j < 16; ++j) {
    const int l = l_in[j];
    if (j < 8) {
      packed[j] = static_cast<uint8_t>(l & 0xf);
    } else {
      packed[j - 8] |= static_cast<uint8_t>((l & 0xf) << 4);
    }
    packed[8 + j % 4] |= static_cast<uint8_t>((l >> 4) << (2 * (j / 4)));
  }
}

inline void PackK4ScaleMin(const uint8_t sc[8], const uint8_t m[8], uint8_t packed[12]) {
  for (int j = 0; j < 8; ++j) {
    if (j < 4) {
      packed[j] = sc[j];
      packed[j + 4] = m[j];
    } else {
      packed[j + 4] = static_cast<uint8_t>((sc[j] & 0xf) | ((m[j] & 0xf) << 4));
      packed[j - 4] |= static_cast<uint8_t>((sc[j] >> 4) << 6);
      packed[j] |= static_cast<uint8_t>((m[j] >> 4) << 6);
    }
  }
}

}  // namespace r1::quant::ref
