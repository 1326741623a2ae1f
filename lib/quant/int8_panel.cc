// int8_panel.cc — repacking block formats into INT8 panels, and the plain reference kernel.
#include "quant/int8_panel.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "r1/quant/reference.h"

namespace r1 {
namespace {

using namespace quant;
using quant::F16ToF32;

// One block of a format in panel form: `n` unsigned quants and, per sub-block, the scale a and
// offset c with weight = a * u + c.
struct DecodedBlock {
  uint8_t u[kQK_K];
  float a[kQK_K / 16];
  float c[kQK_K / 16];
};

// Signed quants q in [-o, 255 - o] become u = q + o.
void Offset(const int8_t* q, int n, int o, uint8_t* u) {
  for (int j = 0; j < n; ++j) u[j] = static_cast<uint8_t>(q[j] + o);
}

// The stored 4- or 5-bit quants of a Q4_0 … Q5_1 block, unsigned, in element order.
void StoredQuants(const uint8_t* qs, uint8_t* u) {
  int8_t q[kQK];
  ref::internal::DecodeNibbles(qs, 0, q);
  Offset(q, kQK, 0, u);
}
void StoredQuants(const uint8_t* qs, const uint8_t* qh, uint8_t* u) {
  int8_t q[kQK];
  ref::internal::DecodeFiveBits(qs, qh, 0, q);
  Offset(q, kQK, 0, u);
}

// An i-quant block: its signed quants offset by the format's zero point, one step per
// sub-block of `sub` (the i-quants' steps are equal within a sub-block).
template <class Block>
int DecodeIQuant(DType type, const uint8_t* p, DecodedBlock& b) {
  using T = ref::IQuantTraits<Block>;
  ref::IQuantInts o;
  T::Decode(*reinterpret_cast<const Block*>(p), o);
  const int z = Int8PanelZeroPoint(type), sub = Int8PanelSubBlock(type);
  Offset(o.q, T::kElems, z, b.u);
  float step[kQK_K / 16];
  ref::IQuantSteps<Block>(o, step);
  for (int g = 0; g < T::kElems / sub; ++g) b.a[g] = step[g * sub / 16], b.c[g] = -static_cast<float>(z) * b.a[g];
  return T::kElems;
}

// Returns the block's element count.
int DecodeBlock(DType type, const uint8_t* p, DecodedBlock& b) {
  switch (type) {
    case DType::kIQ2_XXS: return DecodeIQuant<BlockIQ2_XXS>(type, p, b);
    case DType::kIQ2_XS: return DecodeIQuant<BlockIQ2_XS>(type, p, b);
    case DType::kIQ2_S: return DecodeIQuant<BlockIQ2_S>(type, p, b);
    case DType::kIQ3_XXS: return DecodeIQuant<BlockIQ3_XXS>(type, p, b);
    case DType::kIQ3_S: return DecodeIQuant<BlockIQ3_S>(type, p, b);
    case DType::kIQ1_S: return DecodeIQuant<BlockIQ1_S>(type, p, b);
    case DType::kIQ1_M: return DecodeIQuant<BlockIQ1_M>(type, p, b);
    case DType::kIQ4_NL: return DecodeIQuant<BlockIQ4_NL>(type, p, b);
    case DType::kIQ4_XS: return DecodeIQuant<BlockIQ4_XS>(type, p, b);
    case DType::kQ4_0: {
      const auto& x = *reinterpret_cast<const BlockQ4_0*>(p);
      StoredQuants(x.qs, b.u);
      b.a[0] = F16ToF32(x.d), b.c[0] = -8.0f * b.a[0];
      return kQK;
    }
    case DType::kQ4_1: {
      const auto& x = *reinterpret_cast<const BlockQ4_1*>(p);
      StoredQuants(x.qs, b.u);
      b.a[0] = F16ToF32(x.d), b.c[0] = F16ToF32(x.m);
      return kQK;
    }
    case DType::kQ5_0: {
      const auto& x = *reinterpret_cast<const BlockQ5_0*>(p);
      StoredQuants(x.qs, x.qh, b.u);
      b.a[0] = F16ToF32(x.d), b.c[0] = -16.0f * b.a[0];
      return kQK;
    }
    case DType::kQ5_1: {
      const auto& x = *reinterpret_cast<const BlockQ5_1*>(p);
      StoredQuants(x.qs, x.qh, b.u);
      b.a[0] = F16ToF32(x.d), b.c[0] = F16ToF32(x.m);
      return kQK;
    }
    case DType::kQ8_0: {
      const auto& x = *reinterpret_cast<const BlockQ8_0*>(p);
      Offset(x.qs, kQK, 128, b.u);
      b.a[0] = F16ToF32(x.d), b.c[0] = -128.0f * b.a[0];
      return kQK;
    }
    case DType::kQ2_K: {
      const auto& x = *reinterpret_cast<const BlockQ2_K*>(p);
      int8_t q[kQK_K];
      ref::DecodeQ2_K(x, q);
      Offset(q, kQK_K, 0, b.u);
      const float d = F16ToF32(x.d), dmin = F16ToF32(x.dmin);
      for (int g = 0; g < 16; ++g) {
        b.a[g] = d * static_cast<float>(x.scales[g] & 0xf);
        b.c[g] = -dmin * static_cast<float>(x.scales[g] >> 4);
      }
      return kQK_K;
    }
    case DType::kQ3_K: {
      const auto& x = *reinterpret_cast<const BlockQ3_K*>(p);
      int8_t q[kQK_K], scales[16];
      ref::DecodeQ3_K(x, q);
      ref::UnpackQ3KScales(x.scales, scales);
      Offset(q, kQK_K, 4, b.u);
      const float d = F16ToF32(x.d);
      for (int g = 0; g < 16; ++g) b.a[g] = d * static_cast<float>(scales[g]), b.c[g] = -4.0f * b.a[g];
      return kQK_K;
    }
    case DType::kQ4_K:
    case DType::kQ5_K: {
      int8_t q[kQK_K];
      const uint8_t* packed;
      float d, dmin;
      if (type == DType::kQ4_K) {
        const auto& x = *reinterpret_cast<const BlockQ4_K*>(p);
        ref::DecodeQ4_K(x, q);
        packed = x.scales, d = F16ToF32(x.d), dmin = F16ToF32(x.dmin);
      } else {
        const auto& x = *reinterpret_cast<const BlockQ5_K*>(p);
        ref::DecodeQ5_K(x, q);
        packed = x.scales, d = F16ToF32(x.d), dmin = F16ToF32(x.dmin);
      }
      Offset(q, kQK_K, 0, b.u);
      for (int g = 0; g < 8; ++g) {
        uint8_t sc, m;
        ref::ScaleMinK4(g, packed, &sc, &m);
        b.a[g] = d * static_cast<float>(sc), b.c[g] = -dmin * static_cast<float>(m);
      }
      return kQK_K;
    }
    case DType::kQ6_K: {
      const auto& x = *reinterpret_cast<const BlockQ6_K*>(p);
      int8_t q[kQK_K];
      ref::DecodeQ6_K(x, q);
      Offset(q, kQK_K, 32, b.u);
      const float d = F16ToF32(x.d);
      for (int g = 0; g < 16; ++g) b.a[g] = d * static_cast<float>(x.scales[g]), b.c[g] = -32.0f * b.a[g];
      return kQK_K;
    }
    default:
      return 0;
  }
}

}  // namespace

int Int8PanelSubBlock(DType type) {
  switch (type) {
    case DType::kQ4_0:
    case DType::kQ4_1:
    case DType::kQ5_0:
    case DType::kQ5_1:
    case DType::kQ8_0:
    case DType::kQ4_K:
    case DType::kQ5_K:
    case DType::kIQ2_XXS:
    case DType::kIQ3_XXS:
    case DType::kIQ3_S:
    case DType::kIQ1_S:
    case DType::kIQ4_NL:
    case DType::kIQ4_XS:
      return 32;
    case DType::kQ2_K:
    case DType::kQ3_K:
    case DType::kQ6_K:
    case DType::kIQ2_XS:
    case DType::kIQ2_S:
    case DType::kIQ1_M:
      return 16;
    default:
      return 0;
  }
}

int Int8PanelZeroPoint(DType type) {
  switch (type) {
    case DType::kQ4_0: return 8;
    case DType::kQ5_0: return 16;
    case DType::kQ8_0: return 128;
    case DType::kQ3_K: return 4;
    case DType::kQ6_K: return 32;
    case DType::kIQ2_XXS:
    case DType::kIQ2_XS:
    case DType::kIQ2_S:
    case DType::kIQ3_XXS: return 64;
    case DType::kIQ3_S:
    case DType::kIQ1_S:
    case DType::kIQ1_M: return 16;
    case DType::kIQ4_NL:
    case DType::kIQ4_XS: return 128;
    default: return 0;
  }
}

void RepackInt8Panels(DType type, const uint8_t* rows, uint64_t row_bytes, int nr, int64_t k, uint8_t* dst) {
  const int sub = Int8PanelSubBlock(type);
  const size_t panel_bytes = Int8PanelBytes(k, sub);
  if (nr % kPanelRows != 0) std::memset(dst + nr / kPanelRows * panel_bytes, 0, panel_bytes);
  const uint64_t block_bytes = Traits(type).type_size;
  DecodedBlock b;
  for (int r = 0; r < nr; ++r) {
    const Int8PanelParts panel(dst + r / kPanelRows * panel_bytes, k, sub);
    const int pr = r % kPanelRows;
    const uint8_t* p = rows + static_cast<uint64_t>(r) * row_bytes;
    for (int64_t k0 = 0; k0 < k; p += block_bytes) {
      const int n = DecodeBlock(type, p, b);
      for (int j = 0; j < n; j += 4) std::memcpy(panel.u + ((k0 + j) / 4 * kPanelRows + pr) * 4, b.u + j, 4);
      for (int g = 0; g < n / sub; ++g) {
        panel.a[(k0 / sub + g) * kPanelRows + pr] = b.a[g];
        panel.c[(k0 / sub + g) * kPanelRows + pr] = b.c[g];
      }
      k0 += n;
    }
  }
}

void QuantizeInt8ActivationsRef(const float* x, int64_t k, int sub, int8_t* q, float* d, int32_t* sum) {
  const int block = Int8ActBlock(sub);
  for (int64_t b = 0; b < k / block; ++b) {
    const float* xb = x + b * block;
    float amax = 0.0f;
    for (int j = 0; j < block; ++j) amax = std::max(amax, std::fabs(xb[j]));
    const float db = amax / 127.0f;
    const float id = db != 0.0f ? 1.0f / db : 0.0f;
    d[b] = db;
    for (int j = 0; j < block; ++j) q[b * block + j] = static_cast<int8_t>(std::nearbyint(xb[j] * id));
  }
  for (int64_t g = 0; g < k / sub; ++g) {
    int32_t s = 0;
    for (int j = 0; j < sub; ++j) s += q[g * sub + j];
    sum[g] = s;
  }
}

void Int8PanelGemmRef(const uint8_t* panels, int nr, const Int8Activations& x, int64_t n_tokens, float* y,
                      int64_t ldy) {
  const int64_t k = x.k, n_sub = k / x.sub;
  const int block = Int8ActBlock(x.sub);
  const size_t panel_bytes = Int8PanelBytes(k, x.sub);
  for (int r = 0; r < nr; ++r) {
    const Int8PanelParts panel(panels + static_cast<size_t>(r / kPanelRows) * panel_bytes, k, x.sub);
    const int pr = r % kPanelRows;
    for (int64_t t = 0; t < n_tokens; ++t) {
      const int8_t* xq = x.q + t * k;
      float acc = 0.0f;
      for (int64_t g = 0; g < n_sub; ++g) {
        int32_t isum = 0;
        for (int64_t j = g * x.sub; j < (g + 1) * x.sub; ++j) {
          isum += static_cast<int32_t>(panel.u[(j / 4 * kPanelRows + pr) * 4 + j % 4]) * xq[j];
        }
        const float dx = x.d[t * (k / block) + g * x.sub / block];
        acc += dx * (panel.a[g * kPanelRows + pr] * static_cast<float>(isum) +
                     panel.c[g * kPanelRows + pr] * static_cast<float>(x.sum[t * n_sub + g]));
      }
      y[t * ldy + r] = acc;
    }
  }
}

}  // namespace r1
