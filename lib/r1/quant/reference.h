// r1/quant/reference.h — the scalar reference of every block format, selected by DType.
//
// Per type the typed functions live in ref_legacy.h (Q4_0 … Q8_1), ref_kquants.h (Q2_K … Q8_K),
// ref_kquants_quantize.h (f32 -> K types), ref_iquants.h (IQ1_S … IQ4_XS),
// ref_iquants_quantize.h (f32 -> IQ4_NL, IQ4_XS), ref_iq1/2/3_quantize.h (f32 -> the grid
// i-quants) and ref_float.h (F32, F16, BF16). This header adds
// the DType-level entry points used by tests, tools and the scalar kernel table:
//
//   VecDotType(w)            the type activations are converted to for weights of type w
//   DequantizeRow(t, …)      a row of t to f32 (bit-exact with ggml's dequantize_row_*)
//   QuantizeRow(t, …)        f32 to t: the activation types Q8_0/Q8_1/Q8_K/F16/BF16/F32
//                            bit-exact with ggml's reference converters, the legacy and K
//                            weight types with a simple quantizer, every i-quant with its
//                            search (weighing columns by an importance matrix when given)
//   VecDot(w, n, w_row, x)   a row of w with a row of VecDotType(w)
//
// Each returns false (or nullopt / 0) for a type it does not handle; `n` must be a whole number
// of blocks.
#pragma once

#include <cstdint>
#include <optional>

#include "r1/dtype.h"
#include "r1/quant/blocks.h"
#include "r1/quant/half.h"
#include "r1/quant/ref_float.h"
#include "r1/quant/ref_iquants.h"
#include "r1/quant/ref_iq1_quantize.h"
#include "r1/quant/ref_iq2_quantize.h"
#include "r1/quant/ref_iq3_quantize.h"
#include "r1/quant/ref_iquants_quantize.h"
#include "r1/quant/ref_kquants.h"
#include "r1/quant/ref_kquants_quantize.h"
#include "r1/quant/ref_legacy.h"

namespace r1::quant::ref {

// As ggml's CPU backend: Q4_0/Q5_0/Q8_0/IQ4_NL -> Q8_0, Q4_1/Q5_1 -> Q8_1, K types and the
// other i-quants -> Q8_K, float types -> themselves. nullopt for types that are not matrix weights.
constexpr std::optional<DType> VecDotType(DType w) {
  switch (w) {
    case DType::kF32: return DType::kF32;
    case DType::kF16: return DType::kF16;
    case DType::kBF16: return DType::kBF16;
    case DType::kQ4_0:
    case DType::kQ5_0:
    case DType::kQ8_0:
    case DType::kIQ4_NL: return DType::kQ8_0;
    case DType::kQ4_1:
    case DType::kQ5_1: return DType::kQ8_1;
    case DType::kQ2_K:
    case DType::kQ3_K:
    case DType::kQ4_K:
    case DType::kQ5_K:
    case DType::kQ6_K:
    case DType::kIQ2_XXS:
    case DType::kIQ2_XS:
    case DType::kIQ2_S:
    case DType::kIQ3_XXS:
    case DType::kIQ3_S:
    case DType::kIQ1_S:
    case DType::kIQ1_M:
    case DType::kIQ4_XS: return DType::kQ8_K;
    default: return std::nullopt;
  }
}

inline bool DequantizeRow(DType t, const void* x, float* y, int64_t n) {
  switch (t) {
    case DType::kF32: CopyRowF32(static_cast<const float*>(x), y, n); return true;
    case DType::kF16: ConvertRowF16ToF32(static_cast<const uint16_t*>(x), y, n); return true;
    case DType::kBF16: ConvertRowBf16ToF32(static_cast<const uint16_t*>(x), y, n); return true;
    case DType::kQ4_0: DequantizeRowQ4_0(static_cast<const BlockQ4_0*>(x), y, n); return true;
    case DType::kQ4_1: DequantizeRowQ4_1(static_cast<const BlockQ4_1*>(x), y, n); return true;
    case DType::kQ5_0: DequantizeRowQ5_0(static_cast<const BlockQ5_0*>(x), y, n); return true;
    case DType::kQ5_1: DequantizeRowQ5_1(static_cast<const BlockQ5_1*>(x), y, n); return true;
    case DType::kQ8_0: DequantizeRowQ8_0(static_cast<const BlockQ8_0*>(x), y, n); return true;
    case DType::kQ8_1: DequantizeRowQ8_1(static_cast<const BlockQ8_1*>(x), y, n); return true;
    case DType::kQ2_K: DequantizeRowQ2_K(static_cast<const BlockQ2_K*>(x), y, n); return true;
    case DType::kQ3_K: DequantizeRowQ3_K(static_cast<const BlockQ3_K*>(x), y, n); return true;
    case DType::kQ4_K: DequantizeRowQ4_K(static_cast<const BlockQ4_K*>(x), y, n); return true;
    case DType::kQ5_K: DequantizeRowQ5_K(static_cast<const BlockQ5_K*>(x), y, n); return true;
    case DType::kQ6_K: DequantizeRowQ6_K(static_cast<const BlockQ6_K*>(x), y, n); return true;
    case DType::kQ8_K: DequantizeRowQ8_K(static_cast<const BlockQ8_K*>(x), y, n); return true;
    case DType::kIQ2_XXS: DequantizeRowIQ(static_cast<const BlockIQ2_XXS*>(x), y, n); return true;
    case DType::kIQ2_XS: DequantizeRowIQ(static_cast<const BlockIQ2_XS*>(x), y, n); return true;
    case DType::kIQ2_S: DequantizeRowIQ(static_cast<const BlockIQ2_S*>(x), y, n); return true;
    case DType::kIQ3_XXS: DequantizeRowIQ(static_cast<const BlockIQ3_XXS*>(x), y, n); return true;
    case DType::kIQ3_S: DequantizeRowIQ(static_cast<const BlockIQ3_S*>(x), y, n); return true;
    case DType::kIQ1_S: DequantizeRowIQ(static_cast<const BlockIQ1_S*>(x), y, n); return true;
    case DType::kIQ1_M: DequantizeRowIQ(static_cast<const BlockIQ1_M*>(x), y, n); return true;
    case DType::kIQ4_NL: DequantizeRowIQ(static_cast<const BlockIQ4_NL*>(x), y, n); return true;
    case DType::kIQ4_XS: DequantizeRowIQ(static_cast<const BlockIQ4_XS*>(x), y, n); return true;
    default: return false;
  }
}

// `importance` (n column weights, or null) weighs the search of the legacy Q4_0/Q4_1/Q5_0/Q5_1,
// the K and the i-quant weight types; the others ignore it.
inline bool QuantizeRow(DType t, const float* x, void* y, int64_t n, const float* importance = nullptr) {
  switch (t) {
    case DType::kF32: CopyRowF32(x, static_cast<float*>(y), n); return true;
    case DType::kF16: ConvertRowF32ToF16(x, static_cast<uint16_t*>(y), n); return true;
    case DType::kBF16: ConvertRowF32ToBf16(x, static_cast<uint16_t*>(y), n); return true;
    case DType::kQ4_0: QuantizeRowQ4_0(x, static_cast<BlockQ4_0*>(y), n, importance); return true;
    case DType::kQ4_1: QuantizeRowQ4_1(x, static_cast<BlockQ4_1*>(y), n, importance); return true;
    case DType::kQ5_0: QuantizeRowQ5_0(x, static_cast<BlockQ5_0*>(y), n, importance); return true;
    case DType::kQ5_1: QuantizeRowQ5_1(x, static_cast<BlockQ5_1*>(y), n, importance); return true;
    case DType::kQ8_0: QuantizeRowQ8_0(x, static_cast<BlockQ8_0*>(y), n); return true;
    case DType::kQ8_1: QuantizeRowQ8_1(x, static_cast<BlockQ8_1*>(y), n); return true;
    case DType::kQ2_K: QuantizeRowQ2_K(x, static_cast<BlockQ2_K*>(y), n, importance); return true;
    case DType::kQ3_K: QuantizeRowQ3_K(x, static_cast<BlockQ3_K*>(y), n, importance); return true;
    case DType::kQ4_K: QuantizeRowQ4_K(x, static_cast<BlockQ4_K*>(y), n, importance); return true;
    case DType::kQ5_K: QuantizeRowQ5_K(x, static_cast<BlockQ5_K*>(y), n, importance); return true;
    case DType::kQ6_K: QuantizeRowQ6_K(x, static_cast<BlockQ6_K*>(y), n, importance); return true;
    case DType::kQ8_K: QuantizeRowQ8_K(x, static_cast<BlockQ8_K*>(y), n); return true;
    case DType::kIQ4_NL: QuantizeRowIQ4_NL(x, static_cast<BlockIQ4_NL*>(y), n, importance); return true;
    case DType::kIQ4_XS: QuantizeRowIQ4_XS(x, static_cast<BlockIQ4_XS*>(y), n, importance); return true;
    case DType::kIQ3_XXS: QuantizeRowIQ3_XXS(x, static_cast<BlockIQ3_XXS*>(y), n, importance); return true;
    case DType::kIQ3_S: QuantizeRowIQ3_S(x, static_cast<BlockIQ3_S*>(y), n, importance); return true;
    case DType::kIQ2_XXS: QuantizeRowIQ2_XXS(x, static_cast<BlockIQ2_XXS*>(y), n, importance); return true;
    case DType::kIQ2_XS: QuantizeRowIQ2_XS(x, static_cast<BlockIQ2_XS*>(y), n, importance); return true;
    case DType::kIQ2_S: QuantizeRowIQ2_S(x, static_cast<BlockIQ2_S*>(y), n, importance); return true;
    case DType::kIQ1_S: QuantizeRowIQ1_S(x, static_cast<BlockIQ1_S*>(y), n, importance); return true;
    case DType::kIQ1_M: QuantizeRowIQ1_M(x, static_cast<BlockIQ1_M*>(y), n, importance); return true;
    default: return false;
  }
}

inline float VecDot(DType w, int64_t n, const void* wr, const void* x) {
  switch (w) {
    case DType::kF32:
      return VecDotF32(n, static_cast<const float*>(wr), static_cast<const float*>(x));
    case DType::kF16:
      return VecDotF16(n, static_cast<const uint16_t*>(wr), static_cast<const uint16_t*>(x));
    case DType::kBF16:
      return VecDotBf16(n, static_cast<const uint16_t*>(wr), static_cast<const uint16_t*>(x));
    case DType::kQ4_0:
      return VecDotQ4_0Q8_0(n, static_cast<const BlockQ4_0*>(wr), static_cast<const BlockQ8_0*>(x));
    case DType::kQ4_1:
      return VecDotQ4_1Q8_1(n, static_cast<const BlockQ4_1*>(wr), static_cast<const BlockQ8_1*>(x));
    case DType::kQ5_0:
      return VecDotQ5_0Q8_0(n, static_cast<const BlockQ5_0*>(wr), static_cast<const BlockQ8_0*>(x));
    case DType::kQ5_1:
      return VecDotQ5_1Q8_1(n, static_cast<const BlockQ5_1*>(wr), static_cast<const BlockQ8_1*>(x));
    case DType::kQ8_0:
      return VecDotQ8_0Q8_0(n, static_cast<const BlockQ8_0*>(wr), static_cast<const BlockQ8_0*>(x));
    case DType::kQ2_K:
      return VecDotQ2_KQ8_K(n, static_cast<const BlockQ2_K*>(wr), static_cast<const BlockQ8_K*>(x));
    case DType::kQ3_K:
      return VecDotQ3_KQ8_K(n, static_cast<const BlockQ3_K*>(wr), static_cast<const BlockQ8_K*>(x));
    case DType::kQ4_K:
      return VecDotQ4_KQ8_K(n, static_cast<const BlockQ4_K*>(wr), static_cast<const BlockQ8_K*>(x));
    case DType::kQ5_K:
      return VecDotQ5_KQ8_K(n, static_cast<const BlockQ5_K*>(wr), static_cast<const BlockQ8_K*>(x));
    case DType::kQ6_K:
      return VecDotQ6_KQ8_K(n, static_cast<const BlockQ6_K*>(wr), static_cast<const BlockQ8_K*>(x));
    case DType::kIQ2_XXS: return VecDotIQ(n, static_cast<const BlockIQ2_XXS*>(wr), static_cast<const BlockQ8_K*>(x));
    case DType::kIQ2_XS: return VecDotIQ(n, static_cast<const BlockIQ2_XS*>(wr), static_cast<const BlockQ8_K*>(x));
    case DType::kIQ2_S: return VecDotIQ(n, static_cast<const BlockIQ2_S*>(wr), static_cast<const BlockQ8_K*>(x));
    case DType::kIQ3_XXS: return VecDotIQ(n, static_cast<const BlockIQ3_XXS*>(wr), static_cast<const BlockQ8_K*>(x));
    case DType::kIQ3_S: return VecDotIQ(n, static_cast<const BlockIQ3_S*>(wr), static_cast<const BlockQ8_K*>(x));
    case DType::kIQ1_S: return VecDotIQ(n, static_cast<const BlockIQ1_S*>(wr), static_cast<const BlockQ8_K*>(x));
    case DType::kIQ1_M: return VecDotIQ(n, static_cast<const BlockIQ1_M*>(wr), static_cast<const BlockQ8_K*>(x));
    case DType::kIQ4_XS: return VecDotIQ(n, static_cast<const BlockIQ4_XS*>(wr), static_cast<const BlockQ8_K*>(x));
    case DType::kIQ4_NL:
      return VecDotIQ4_NLQ8_0(n, static_cast<const BlockIQ4_NL*>(wr), static_cast<const BlockQ8_0*>(x));
    default: return 0.0f;
  }
}

}  // namespace r1::quant::ref
