// isa.cc — CPU feature detection and the default ISA.
#include "kernels/isa.h"

#include <cstdlib>

namespace r1 {

std::string_view IsaName(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return "scalar";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
    case Isa::kAvx512Vnni: return "avx512vnni";
    case Isa::kNeon: return "neon";
  }
  return "unknown";
}

std::optional<Isa> ParseIsa(std::string_view name) {
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kAvx512Vnni, Isa::kNeon}) {
    if (IsaName(isa) == name) return isa;
  }
  return std::nullopt;
}

bool IsaCompiled(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return true;
    case Isa::kAvx2:
#ifdef R1_HAVE_AVX2
      return true;
#else
      return false;
#endif
    case Isa::kAvx512:
#ifdef R1_HAVE_AVX512
      return true;
#else
      return false;
#endif
    case Isa::kAvx512Vnni:
#ifdef R1_HAVE_AVX512VNNI
      return true;
#else
      return false;
#endif
    case Isa::kNeon:
#ifdef R1_HAVE_NEON
      return true;
#else
      return false;
#endif
  }
  return false;
}

namespace {

bool CpuHas(Isa isa) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  switch (isa) {
    case Isa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             __builtin_cpu_supports("f16c");
    case Isa::kAvx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    case Isa::kAvx512Vnni:
      return CpuHas(Isa::kAvx512) && __builtin_cpu_supports("avx512vnni");
    default:
      return isa == Isa::kScalar;
  }
#elif defined(__aarch64__)
  return isa == Isa::kScalar || isa == Isa::kNeon;  // Advanced SIMD is mandatory on AArch64
#else
  return isa == Isa::kScalar;
#endif
}

}  // namespace

bool IsaSupported(Isa isa) { return IsaCompiled(isa) && CpuHas(isa); }

std::vector<Isa> SupportedIsas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kAvx512Vnni, Isa::kNeon}) {
    if (IsaSupported(isa)) out.push_back(isa);
  }
  return out;
}

Isa DefaultIsa() {
  static const Isa chosen = [] {
    if (const char* env = std::getenv("R1_ISA")) {
      if (auto isa = ParseIsa(env); isa && IsaSupported(*isa)) return *isa;
    }
    return SupportedIsas().back();
  }();
  return chosen;
}

}  // namespace r1
