// quant_simd.h — the per-ISA kernel tables defined by quant_simd.cc.
//
// quant_simd.cc is compiled once per enabled ISA into namespace r1::<isa>; each copy exports
// its lookup functions. Only those whose R1_HAVE_<ISA> is defined exist in a given build.
#pragma once

#include "quant/quant_kernels.h"
#include "r1/dtype.h"

namespace r1 {
namespace avx2 {
const QuantKernels* QuantKernelTable(DType type);
const Int8GemmKernels* Int8GemmTable();  // nullptr without one
}
namespace avx512 {
const QuantKernels* QuantKernelTable(DType type);
const Int8GemmKernels* Int8GemmTable();  // nullptr without one
}
namespace avx512vnni {
const QuantKernels* QuantKernelTable(DType type);
const Int8GemmKernels* Int8GemmTable();  // nullptr without one
}
namespace neon {
const QuantKernels* QuantKernelTable(DType type);
const Int8GemmKernels* Int8GemmTable();  // nullptr without one
}
}  // namespace r1
