// quant_kernels.cc — the scalar kernel table (from the reference) and per-ISA dispatch.
#include "quant/quant_kernels.h"

#include <cstdint>

#include "quant/quant_simd.h"
#include "r1/quant/reference.h"

namespace r1 {
namespace {

namespace ref = quant::ref;

// Adapters from the typed reference functions to the table's untyped signatures.
template <class Block, void (*F)(const float*, Block*, int64_t)>
void FromFloat(const float* x, void* y, int64_t n) {
  F(x, static_cast<Block*>(y), n);
}
template <class Block, void (*F)(const Block*, float*, int64_t)>
void ToFloat(const void* x, float* y, int64_t n) {
  F(static_cast<const Block*>(x), y, n);
}
template <class W, class X, float (*F)(int64_t, const W*, const X*)>
float VecDot(int64_t n, const void* w, const void* x) {
  return F(n, static_cast<const W*>(w), static_cast<const X*>(x));
}

using quant::BlockIQ1_M;
using quant::BlockIQ1_S;
using quant::BlockIQ2_S;
using quant::BlockIQ2_XS;
using quant::BlockIQ2_XXS;
using quant::BlockIQ3_S;
using quant::BlockIQ3_XXS;
using quant::BlockIQ4_NL;
using quant::BlockIQ4_XS;
using quant::BlockQ2_K;
using quant::BlockQ3_K;
using quant::BlockQ4_0;
using quant::BlockQ4_1;
using quant::BlockQ4_K;
using quant::BlockQ5_0;
using quant::BlockQ5_1;
using quant::BlockQ5_K;
using quant::BlockQ6_K;
using quant::BlockQ8_0;
using quant::BlockQ8_1;
using quant::BlockQ8_K;

constexpr auto kQ8_0 = FromFloat<BlockQ8_0, ref::QuantizeRowQ8_0>;
constexpr auto kQ8_1 = FromFloat<BlockQ8_1, ref::QuantizeRowQ8_1>;
constexpr auto kQ8_K = FromFloat<BlockQ8_K, ref::QuantizeRowQ8_K>;

// An i-quant weight type with Q8_K activations.
template <class Block>
constexpr QuantKernels IQuant(DType type) {
  return {type, DType::kQ8_K, kQ8_K, ToFloat<Block, ref::DequantizeRowIQ<Block>>,
          VecDot<Block, BlockQ8_K, ref::VecDotIQ<Block>>};
}

constexpr QuantKernels kScalarTable[] = {
    {DType::kF32, DType::kF32, FromFloat<float, ref::CopyRowF32>, ToFloat<float, ref::CopyRowF32>,
     VecDot<float, float, ref::VecDotF32>},
    {DType::kF16, DType::kF16, FromFloat<uint16_t, ref::ConvertRowF32ToF16>,
     ToFloat<uint16_t, ref::ConvertRowF16ToF32>, VecDot<uint16_t, uint16_t, ref::VecDotF16>},
    {DType::kBF16, DType::kBF16, FromFloat<uint16_t, ref::ConvertRowF32ToBf16>,
     ToFloat<uint16_t, ref::ConvertRowBf16ToF32>, VecDot<uint16_t, uint16_t, ref::VecDotBf16>},
    {DType::kQ4_0, DType::kQ8_0, kQ8_0, ToFloat<BlockQ4_0, ref::DequantizeRowQ4_0>,
     VecDot<BlockQ4_0, BlockQ8_0, ref::VecDotQ4_0Q8_0>},
    {DType::kQ4_1, DType::kQ8_1, kQ8_1, ToFloat<BlockQ4_1, ref::DequantizeRowQ4_1>,
     VecDot<BlockQ4_1, BlockQ8_1, ref::VecDotQ4_1Q8_1>},
    {DType::kQ5_0, DType::kQ8_0, kQ8_0, ToFloat<BlockQ5_0, ref::DequantizeRowQ5_0>,
     VecDot<BlockQ5_0, BlockQ8_0, ref::VecDotQ5_0Q8_0>},
    {DType::kQ5_1, DType::kQ8_1, kQ8_1, ToFloat<BlockQ5_1, ref::DequantizeRowQ5_1>,
     VecDot<BlockQ5_1, BlockQ8_1, ref::VecDotQ5_1Q8_1>},
    {DType::kQ8_0, DType::kQ8_0, kQ8_0, ToFloat<BlockQ8_0, ref::DequantizeRowQ8_0>,
     VecDot<BlockQ8_0, BlockQ8_0, ref::VecDotQ8_0Q8_0>},
    {DType::kQ2_K, DType::kQ8_K, kQ8_K, ToFloat<BlockQ2_K, ref::DequantizeRowQ2_K>,
     VecDot<BlockQ2_K, BlockQ8_K, ref::VecDotQ2_KQ8_K>},
    {DType::kQ3_K, DType::kQ8_K, kQ8_K, ToFloat<BlockQ3_K, ref::DequantizeRowQ3_K>,
     VecDot<BlockQ3_K, BlockQ8_K, ref::VecDotQ3_KQ8_K>},
    {DType::kQ4_K, DType::kQ8_K, kQ8_K, ToFloat<BlockQ4_K, ref::DequantizeRowQ4_K>,
     VecDot<BlockQ4_K, BlockQ8_K, ref::VecDotQ4_KQ8_K>},
    {DType::kQ5_K, DType::kQ8_K, kQ8_K, ToFloat<BlockQ5_K, ref::DequantizeRowQ5_K>,
     VecDot<BlockQ5_K, BlockQ8_K, ref::VecDotQ5_KQ8_K>},
    {DType::kQ6_K, DType::kQ8_K, kQ8_K, ToFloat<BlockQ6_K, ref::DequantizeRowQ6_K>,
     VecDot<BlockQ6_K, BlockQ8_K, ref::VecDotQ6_KQ8_K>},
    IQuant<BlockIQ2_XXS>(DType::kIQ2_XXS),
    IQuant<BlockIQ2_XS>(DType::kIQ2_XS),
    IQuant<BlockIQ2_S>(DType::kIQ2_S),
    IQuant<BlockIQ3_XXS>(DType::kIQ3_XXS),
    IQuant<BlockIQ3_S>(DType::kIQ3_S),
    IQuant<BlockIQ1_S>(DType::kIQ1_S),
    IQuant<BlockIQ1_M>(DType::kIQ1_M),
    IQuant<BlockIQ4_XS>(DType::kIQ4_XS),
    {DType::kIQ4_NL, DType::kQ8_0, kQ8_0, ToFloat<BlockIQ4_NL, ref::DequantizeRowIQ<BlockIQ4_NL>>,
     VecDot<BlockIQ4_NL, BlockQ8_0, ref::VecDotIQ4_NLQ8_0>},
};

const QuantKernels* ScalarTable(DType type) {
  for (const QuantKernels& k : kScalarTable) {
    if (k.type == type) return &k;
  }
  return nullptr;
}

}  // namespace

const QuantKernels* GetQuantKernels(Isa isa, DType type) {
  switch (isa) {
    case Isa::kScalar:
      return ScalarTable(type);
    case Isa::kAvx2:
#ifdef R1_HAVE_AVX2
      return avx2::QuantKernelTable(type);
#else
      return nullptr;
#endif
    case Isa::kAvx512:
#ifdef R1_HAVE_AVX512
      return avx512::QuantKernelTable(type);
#else
      return nullptr;
#endif
    case Isa::kAvx512Vnni:
#ifdef R1_HAVE_AVX512VNNI
      return avx512vnni::QuantKernelTable(type);
#else
      return nullptr;
#endif
    case Isa::kNeon:
#ifdef R1_HAVE_NEON
      return neon::QuantKernelTable(type);
#else
      return nullptr;
#endif
  }
  return nullptr;
}

const Int8GemmKernels* GetInt8GemmKernels(Isa isa) {
#ifdef R1_HAVE_AVX512VNNI
  if (isa == Isa::kAvx512Vnni) return avx512vnni::Int8GemmTable();
#endif
  (void)isa;
  return nullptr;
}

}  // namespace r1
