// quant_simd.cc — the quant kernels of one ISA (compiled once per ISA, see lib/meson.build).
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 warns about the deliberately undefined registers inside its own AVX-512 intrinsics
// once they are inlined (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include "quant/quant_simd.h"

#include "kernels/simd_arch.h"
#include "quant/dot_iquants_impl.h"
#if defined(R1_SIMD_AVX512VNNI)
#include "quant/dot_interleaved_impl.h"
#endif
#include "quant/dot_kquants_impl.h"
#include "quant/dot_legacy_impl.h"
#include "quant/dot_vnni_impl.h"
#include "quant/float16_impl.h"
#include "quant/from_float_impl.h"
#include "quant/int8_gemm_vnni_impl.h"
#include "quant/to_float_impl.h"

namespace r1::R1_SIMD_NS {
namespace {

using namespace qk;
using namespace quant;


constexpr QuantKernels kTable[] = {
    {DType::kF32, DType::kF32, CopyF32, CopyF32Out, VecDotF32},
    {DType::kF16, DType::kF16, FromFloatF16, ToFloatF16, VecDotF16},
    {DType::kBF16, DType::kBF16, FromFloatBf16, ToFloatBf16, VecDotBf16},
#if defined(R1_SIMD_AVX512VNNI)
    {DType::kQ4_0, DType::kQ8_0, FromFloatQ8_0, ToFloatQ4_0, VecDotQ4_0Vnni, VecDotRowsQ4_0Vnni},
#else
    {DType::kQ4_0, DType::kQ8_0, FromFloatQ8_0, ToFloatQ4_0, VecDotQ4_0},
#endif
    {DType::kQ4_1, DType::kQ8_1, FromFloatQ8_1, ToFloatQ4_1, VecDotQ4_1},
    {DType::kQ5_0, DType::kQ8_0, FromFloatQ8_0, ToFloatQ5_0, VecDotQ5_0},
    {DType::kQ5_1, DType::kQ8_1, FromFloatQ8_1, ToFloatQ5_1, VecDotQ5_1},
    {DType::kQ8_0, DType::kQ8_0, FromFloatQ8_0, ToFloatQ8_0, VecDotQ8_0},
    {DType::kQ2_K, DType::kQ8_K, FromFloatQ8_K, ToFloatQ2_K, VecDotQ2_K},
    {DType::kQ3_K, DType::kQ8_K, FromFloatQ8_K, ToFloatQ3_K, VecDotQ3_K},
#if defined(R1_SIMD_AVX512VNNI)
    {DType::kQ4_K, DType::kQ8_K, FromFloatQ8_K, ToFloatQ4_K, VecDotQ4_K, nullptr, VecDotTokensQ4_K,
     VecDotInterleavedQ4_K},
#elif defined(R1_QUANT_X86)
    {DType::kQ4_K, DType::kQ8_K, FromFloatQ8_K, ToFloatQ4_K, VecDotQ4_K, nullptr, VecDotTokensQ4_K},
#else
    {DType::kQ4_K, DType::kQ8_K, FromFloatQ8_K, ToFloatQ4_K, VecDotQ4_K},
#endif
#if defined(R1_SIMD_AVX512)
    {DType::kQ5_K, DType::kQ8_K, FromFloatQ8_K, ToFloatQ5_K, VecDotQ5_K, nullptr, VecDotTokensQ5_K},
#else
    {DType::kQ5_K, DType::kQ8_K, FromFloatQ8_K, ToFloatQ5_K, VecDotQ5_K},
#endif
#if defined(R1_SIMD_AVX512VNNI)
    {DType::kQ6_K, DType::kQ8_K, FromFloatQ8_K, ToFloatQ6_K, VecDotQ6_K, nullptr, VecDotTokensQ6_K,
     VecDotInterleavedQ6_K},
#elif defined(R1_QUANT_X86)
    {DType::kQ6_K, DType::kQ8_K, FromFloatQ8_K, ToFloatQ6_K, VecDotQ6_K, nullptr, VecDotTokensQ6_K},
#else
    {DType::kQ6_K, DType::kQ8_K, FromFloatQ8_K, ToFloatQ6_K, VecDotQ6_K},
#endif
    {DType::kIQ2_XXS, DType::kQ8_K, FromFloatQ8_K, ToFloatIQ<BlockIQ2_XXS>, VecDotIQ2_XXS},
    {DType::kIQ2_XS, DType::kQ8_K, FromFloatQ8_K, ToFloatIQ<BlockIQ2_XS>, VecDotIQ2_XS},
    {DType::kIQ2_S, DType::kQ8_K, FromFloatQ8_K, ToFloatIQ<BlockIQ2_S>, VecDotIQ2_S},
    {DType::kIQ3_XXS, DType::kQ8_K, FromFloatQ8_K, ToFloatIQ<BlockIQ3_XXS>, VecDotIQ3_XXS},
    {DType::kIQ3_S, DType::kQ8_K, FromFloatQ8_K, ToFloatIQ<BlockIQ3_S>, VecDotIQ3_S},
    {DType::kIQ1_S, DType::kQ8_K, FromFloatQ8_K, ToFloatIQ<BlockIQ1_S>, VecDotIQ1_S},
    {DType::kIQ1_M, DType::kQ8_K, FromFloatQ8_K, ToFloatIQ<BlockIQ1_M>, VecDotIQ1_M},
    {DType::kIQ4_XS, DType::kQ8_K, FromFloatQ8_K, ToFloatIQ<BlockIQ4_XS>, VecDotIQ4_XS},
    {DType::kIQ4_NL, DType::kQ8_0, FromFloatQ8_0, ToFloatIQ<BlockIQ4_NL>, VecDotIQ4_NL},
};

}  // namespace

const QuantKernels* QuantKernelTable(DType type) {
  for (const QuantKernels& k : kTable) {
    if (k.type == type) return &k;
  }
  return nullptr;
}

const Int8GemmKernels* Int8GemmTable() {
#if defined(R1_SIMD_AVX512VNNI)
  static constexpr Int8GemmKernels kInt8Gemm = {QuantizeInt8ActivationsAvx512, Int8PanelGemmVnni};
  return &kInt8Gemm;
#else
  return nullptr;
#endif
}

}  // namespace r1::R1_SIMD_NS
