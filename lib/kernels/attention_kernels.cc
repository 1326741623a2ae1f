// attention_kernels.cc — the scalar table and the per-ISA lookup.
#include "kernels/attention_kernels.h"

#include "r1/ops/reference.h"

namespace r1 {

#ifdef R1_HAVE_AVX2
namespace avx2 { const AttentionKernels& GetAttentionKernels(); }
#endif
#ifdef R1_HAVE_AVX512
namespace avx512 { const AttentionKernels& GetAttentionKernels(); }
#endif
#ifdef R1_HAVE_AVX512VNNI
namespace avx512vnni { const AttentionKernels& GetAttentionKernels(); }
#endif
#ifdef R1_HAVE_NEON
namespace neon { const AttentionKernels& GetAttentionKernels(); }
#endif

namespace {
const AttentionKernels kScalarKernels = {Isa::kScalar, ref::AttentionScores, ref::AttentionAccumulate, ref::Max, ref::ExpSum};
}  // namespace

const AttentionKernels& GetAttentionKernels(Isa isa) {
  switch (isa) {
#ifdef R1_HAVE_AVX2
    case Isa::kAvx2: return avx2::GetAttentionKernels();
#endif
#ifdef R1_HAVE_AVX512
    case Isa::kAvx512: return avx512::GetAttentionKernels();
#endif
#ifdef R1_HAVE_AVX512VNNI
    case Isa::kAvx512Vnni: return avx512vnni::GetAttentionKernels();
#endif
#ifdef R1_HAVE_NEON
    case Isa::kNeon: return neon::GetAttentionKernels();
#endif
    default: return kScalarKernels;
  }
}

}  // namespace r1
