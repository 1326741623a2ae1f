// float_kernels.cc — the scalar table and the per-ISA lookup.
#include "kernels/float_kernels.h"

#include "r1/ops/reference.h"

namespace r1 {

#ifdef R1_HAVE_AVX2
namespace avx2 { const FloatKernels& GetFloatKernels(); }
#endif
#ifdef R1_HAVE_AVX512
namespace avx512 { const FloatKernels& GetFloatKernels(); }
#endif
#ifdef R1_HAVE_AVX512VNNI
namespace avx512vnni { const FloatKernels& GetFloatKernels(); }
#endif
#ifdef R1_HAVE_NEON
namespace neon { const FloatKernels& GetFloatKernels(); }
#endif

namespace {

const FloatKernels kScalarKernels = {
    Isa::kScalar, ref::RmsNorm, ref::Softmax, ref::SiluMul, ref::Add,
    ref::Dot,     ref::Axpy,    ref::Scale,   ref::Rope,
};

}  // namespace

const FloatKernels& GetFloatKernels(Isa isa) {
  switch (isa) {
#ifdef R1_HAVE_AVX2
    case Isa::kAvx2: return avx2::GetFloatKernels();
#endif
#ifdef R1_HAVE_AVX512
    case Isa::kAvx512: return avx512::GetFloatKernels();
#endif
#ifdef R1_HAVE_AVX512VNNI
    case Isa::kAvx512Vnni: return avx512vnni::GetFloatKernels();
#endif
#ifdef R1_HAVE_NEON
    case Isa::kNeon: return neon::GetFloatKernels();
#endif
    default: return kScalarKernels;
  }
}

}  // namespace r1
