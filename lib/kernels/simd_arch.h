// simd_arch.h — the xsimd architecture of the translation unit being compiled.
//
// Sources listed as SIMD sources in lib/meson.build are compiled once per enabled ISA with
// exactly one of R1_SIMD_AVX2 / R1_SIMD_AVX512 (+ R1_SIMD_AVX512VNNI) / R1_SIMD_NEON defined and that ISA's compiler
// flags. Their functions live in namespace r1::R1_SIMD_NS so the copies do not collide.
#pragma once

#include <xsimd/xsimd.hpp>

#include "kernels/isa.h"

#if defined(R1_SIMD_AVX512VNNI)
// Built with R1_SIMD_AVX512 defined too: every AVX-512 path applies, VNNI adds to it.
#define R1_SIMD_NS avx512vnni
namespace r1::avx512vnni {
using Arch = xsimd::avx512bw;
inline constexpr Isa kIsa = Isa::kAvx512Vnni;
}  // namespace r1::avx512vnni
#elif defined(R1_SIMD_AVX512)
#define R1_SIMD_NS avx512
namespace r1::avx512 {
using Arch = xsimd::avx512bw;
inline constexpr Isa kIsa = Isa::kAvx512;
}  // namespace r1::avx512
#elif defined(R1_SIMD_AVX2)
#define R1_SIMD_NS avx2
namespace r1::avx2 {
using Arch = xsimd::fma3<xsimd::avx2>;
inline constexpr Isa kIsa = Isa::kAvx2;
}  // namespace r1::avx2
#elif defined(R1_SIMD_NEON)
#define R1_SIMD_NS neon
namespace r1::neon {
using Arch = xsimd::neon64;
inline constexpr Isa kIsa = Isa::kNeon;
}  // namespace r1::neon
#else
#error "simd_arch.h is only for sources compiled once per ISA (see lib/meson.build)"
#endif
