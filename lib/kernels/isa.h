// isa.h — the SIMD instruction sets r1's kernels are built for, and which one runs.
//
// Kernels are compiled once per ISA (see lib/meson.build) into separate static libraries;
// the ISA is chosen once at run time from what the CPU supports. kScalar is the plain C++
// reference and is always available.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace r1 {

// kAvx512Vnni is kAvx512 plus VNNI's 8-bit dot products (vpdpbusd) in the integer kernels.
enum class Isa { kScalar = 0, kAvx2 = 1, kAvx512 = 2, kNeon = 3, kAvx512Vnni = 4 };

std::string_view IsaName(Isa isa);  // "scalar", "avx2", "avx512", "avx512vnni", "neon"
std::optional<Isa> ParseIsa(std::string_view name);

bool IsaCompiled(Isa isa);   // kernels for it are in this build
bool IsaSupported(Isa isa);  // compiled and the CPU (and OS) can run it

// Every supported ISA, scalar first, each better than the one before.
std::vector<Isa> SupportedIsas();

// The ISA kernels use by default: the best supported one, or the one named by the
// R1_ISA environment variable (a developer override used by the test suite) when that one
// is supported.
Isa DefaultIsa();

}  // namespace r1
