// interleaved_kquants.cc — the interleaved Q4_K and Q6_K layouts: repack and scalar references.
#include "quant/interleaved_kquants.h"

#include <cmath>

#include "r1/quant/blocks.h"
#include "r1/quant/half.h"

namespace r1 {
namespace {

using quant::BlockQ4_K;
using quant::BlockQ6_K;
using quant::BlockQ8_K;

// Q4_K's 12 packed bytes as 8 scales and 8 mins of 6 bits.
void UnpackScalesMins(const uint8_t q[12], uint8_t scale[8], uint8_t min[8]) {
  for (int j = 0; j < 4; ++j) {
    scale[j] = q[j] & 63;
    min[j] = q[j + 4] & 63;
    scale[j + 4] = static_cast<uint8_t>((q[j + 8] & 15) | (q[j] >> 6) << 4);
    min[j + 4] = static_cast<uint8_t>((q[j + 8] >> 4) | (q[j + 4] >> 6) << 4);
  }
}

// The 256 quants of a Q4_K block in element order: groups 2k and 2k + 1 share the bytes
// qs[32k .. 32k + 31], low nibbles first.
void UnpackQuants(const BlockQ4_K& b, uint8_t q[256]) {
  for (int k = 0; k < 4; ++k) {
    for (int l = 0; l < 32; ++l) {
      q[64 * k + l] = b.qs[32 * k + l] & 15;
      q[64 * k + 32 + l] = b.qs[32 * k + l] >> 4;
    }
  }
}

// The 256 quants (0..63) of a Q6_K block in element order: in half h, element 32k + l has its
// low 4 bits in ql[64h + l + 32 (k & 1)] (low nibble for k < 2) and its high 2 bits at bits
// 2k, 2k + 1 of qh[32h + l].
void UnpackQuants(const BlockQ6_K& b, uint8_t q[256]) {
  for (int h = 0; h < 2; ++h) {
    for (int k = 0; k < 4; ++k) {
      for (int l = 0; l < 32; ++l) {
        const uint8_t low = b.ql[64 * h + l + 32 * (k & 1)];
        const int bits = k < 2 ? low & 15 : low >> 4;
        q[128 * h + 32 * k + l] = static_cast<uint8_t>(bits | ((b.qh[32 * h + l] >> (2 * k)) & 3) << 4);
      }
    }
  }
}

void InterleaveQ4_K(const uint8_t* rows, uint64_t row_bytes, int64_t n, BlockQ4_Kx16* dst) {
  for (int64_t i = 0; i < n / 256; ++i) {
    BlockQ4_Kx16& o = dst[i];
    for (int r = 0; r < kInterleavedRows; ++r) {
      const BlockQ4_K& b = reinterpret_cast<const BlockQ4_K*>(rows + static_cast<uint64_t>(r) * row_bytes)[i];
      o.d[r] = b.d;
      o.dmin[r] = b.dmin;
      uint8_t scale[8], min[8], q[256];
      UnpackScalesMins(b.scales, scale, min);
      UnpackQuants(b, q);
      for (int g = 0; g < 8; ++g) {
        o.scales[g][r] = scale[g];
        o.mins[g / 2][r][g % 2] = min[g];
        for (int p = 0; p < 4; ++p) {
          const uint8_t* at = q + 32 * g + 8 * p;
          for (int e = 0; e < 4; ++e) o.qs[g][p][4 * r + e] = static_cast<uint8_t>(at[e] | at[e + 4] << 4);
        }
      }
    }
  }
}

void InterleaveQ6_K(const uint8_t* rows, uint64_t row_bytes, int64_t n, BlockQ6_Kx16* dst) {
  for (int64_t i = 0; i < n / 256; ++i) {
    BlockQ6_Kx16& o = dst[i];
    for (int r = 0; r < kInterleavedRows; ++r) {
      const BlockQ6_K& b = reinterpret_cast<const BlockQ6_K*>(rows + static_cast<uint64_t>(r) * row_bytes)[i];
      o.d[r] = b.d;
      uint8_t q[256];
      UnpackQuants(b, q);
      for (int g = 0; g < 16; ++g) {
        o.scales[g / 2][r][g % 2] = b.scales[g];
        const uint8_t* at = q + 16 * g;
        for (int e = 0; e < 4; ++e) {
          for (int p = 0; p < 2; ++p)
            o.ql[g][p][4 * r + e] = static_cast<uint8_t>((at[8 * p + e] & 15) | (at[8 * p + 4 + e] & 15) << 4);
          uint8_t high = 0;
          for (int j = 0; j < 4; ++j) high = static_cast<uint8_t>(high | (at[4 * j + e] >> 4) << (2 * j));
          o.qh[g][4 * r + e] = high;
        }
      }
    }
  }
}

}  // namespace

bool HasInterleavedForm(DType type) { return type == DType::kQ4_K || type == DType::kQ6_K; }

size_t InterleavedBytes(DType type, int64_t n) {
  const size_t block = type == DType::kQ4_K ? sizeof(BlockQ4_Kx16) : type == DType::kQ6_K ? sizeof(BlockQ6_Kx16) : 0;
  return static_cast<size_t>(n / 256) * block;
}

void InterleaveRows16(DType type, const uint8_t* rows, uint64_t row_bytes, int64_t n, void* dst) {
  if (type == DType::kQ4_K) InterleaveQ4_K(rows, row_bytes, n, static_cast<BlockQ4_Kx16*>(dst));
  if (type == DType::kQ6_K) InterleaveQ6_K(rows, row_bytes, n, static_cast<BlockQ6_Kx16*>(dst));
}

void DotQ4_Kx16Ref(int64_t n, const void* w, const void* x, uint64_t x_stride, int64_t nx, float* out,
                   int64_t out_stride) {
  const auto* blocks = static_cast<const BlockQ4_Kx16*>(w);
  for (int64_t t = 0; t < nx; ++t) {
    const auto* xb = reinterpret_cast<const BlockQ8_K*>(static_cast<const uint8_t*>(x) + t * x_stride);
    for (int r = 0; r < kInterleavedRows; ++r) {
      float acc = 0.0f;
      for (int64_t i = 0; i < n / 256; ++i) {
        const BlockQ4_Kx16& b = blocks[i];
        int32_t sum = 0, min_sum = 0;
        for (int g = 0; g < 8; ++g) {
          int32_t group = 0;
          for (int p = 0; p < 4; ++p) {
            for (int e = 0; e < 4; ++e) {
              const uint8_t q = b.qs[g][p][4 * r + e];
              group += (q & 15) * xb[i].qs[32 * g + 8 * p + e] + (q >> 4) * xb[i].qs[32 * g + 8 * p + 4 + e];
            }
          }
          sum += group * b.scales[g][r];
          min_sum += b.mins[g / 2][r][g % 2] * (xb[i].bsums[2 * g] + xb[i].bsums[2 * g + 1]);
        }
        const float d = quant::F16ToF32(b.d[r]), dmin = quant::F16ToF32(b.dmin[r]);
        acc = std::fma(d * xb[i].d, static_cast<float>(sum), acc);
        acc = std::fma(-(dmin * xb[i].d), static_cast<float>(min_sum), acc);
      }
      out[t * out_stride + r] = acc;
    }
  }
}

void DotQ6_Kx16Ref(int64_t n, const void* w, const void* x, uint64_t x_stride, int64_t nx, float* out,
                   int64_t out_stride) {
  const auto* blocks = static_cast<const BlockQ6_Kx16*>(w);
  for (int64_t t = 0; t < nx; ++t) {
    const auto* xb = reinterpret_cast<const BlockQ8_K*>(static_cast<const uint8_t*>(x) + t * x_stride);
    for (int r = 0; r < kInterleavedRows; ++r) {
      float acc = 0.0f;
      for (int64_t i = 0; i < n / 256; ++i) {
        const BlockQ6_Kx16& b = blocks[i];
        int32_t sum = 0, offset = 0;
        for (int g = 0; g < 16; ++g) {
          int32_t group = 0;
          for (int e = 0; e < 4; ++e) {
            for (int j = 0; j < 4; ++j) {
              const uint8_t low = b.ql[g][j / 2][4 * r + e];
              const int q = ((j % 2 == 0) ? low & 15 : low >> 4) | ((b.qh[g][4 * r + e] >> (2 * j)) & 3) << 4;
              group += q * xb[i].qs[16 * g + 4 * j + e];
            }
          }
          const int32_t scale = b.scales[g / 2][r][g % 2];
          sum += group * scale;
          offset += scale * xb[i].bsums[g];
        }
        acc = std::fma(quant::F16ToF32(b.d[r]) * xb[i].d, static_cast<float>(sum - 32 * offset), acc);
      }
      out[t * out_stride + r] = acc;
    }
  }
}

}  // namespace r1
