// vulkan_matvec.cc — the matrix-vector kernels: one SPIR-V module per weight type.
#include "vulkan/vulkan_matvec.h"

#include <algorithm>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"

namespace r1::vk {
namespace {

// SPIR-V words compiled from shaders/matvec.comp at build time (glslc -mfmt=c), one module per
// weight type.
constexpr uint32_t kMatVecF32[] =
#include "matvec_f32.spv.inc"
    ;
constexpr uint32_t kMatVecF16[] =
#include "matvec_f16.spv.inc"
    ;
constexpr uint32_t kMatVecBF16[] =
#include "matvec_bf16.spv.inc"
    ;
constexpr uint32_t kMatVecQ8_0[] =
#include "matvec_q8_0.spv.inc"
    ;
constexpr uint32_t kMatVecQ4_0[] =
#include "matvec_q4_0.spv.inc"
    ;
constexpr uint32_t kMatVecQ4_1[] =
#include "matvec_q4_1.spv.inc"
    ;
constexpr uint32_t kMatVecQ5_0[] =
#include "matvec_q5_0.spv.inc"
    ;
constexpr uint32_t kMatVecQ5_1[] =
#include "matvec_q5_1.spv.inc"
    ;
constexpr uint32_t kMatVecQ2_K[] =
#include "matvec_q2_k.spv.inc"
    ;
constexpr uint32_t kMatVecQ3_K[] =
#include "matvec_q3_k.spv.inc"
    ;
constexpr uint32_t kMatVecQ4_K[] =
#include "matvec_q4_k.spv.inc"
    ;
constexpr uint32_t kMatVecQ5_K[] =
#include "matvec_q5_k.spv.inc"
    ;
constexpr uint32_t kMatVecQ6_K[] =
#include "matvec_q6_k.spv.inc"
    ;

struct TypeKernel {
  DType type;
  absl::Span<const uint32_t> spirv;
};
constexpr TypeKernel kTypeKernels[] = {
    {DType::kF32, kMatVecF32},
    {DType::kF16, kMatVecF16},
    {DType::kBF16, kMatVecBF16},
    {DType::kQ8_0, kMatVecQ8_0},
    {DType::kQ4_0, kMatVecQ4_0},
    {DType::kQ4_1, kMatVecQ4_1},
    {DType::kQ5_0, kMatVecQ5_0},
    {DType::kQ5_1, kMatVecQ5_1},
    {DType::kQ2_K, kMatVecQ2_K},
    {DType::kQ3_K, kMatVecQ3_K},
    {DType::kQ4_K, kMatVecQ4_K},
    {DType::kQ5_K, kMatVecQ5_K},
    {DType::kQ6_K, kMatVecQ6_K},
};

struct Shape {
  uint32_t n_in, n_out, row_bytes, grid_x;
};

// The index of type's kernel in kTypeKernels, or its size.
size_t KernelIndex(DType type) {
  size_t i = 0;
  while (i < std::size(kTypeKernels) && kTypeKernels[i].type != type) ++i;
  return i;
}

}  // namespace

bool MatVec::Supports(DType type) { return KernelIndex(type) < std::size(kTypeKernels); }

StatusOr<std::unique_ptr<Buffer>> MatVec::Upload(Device& device, const WeightMatrix& w) {
  if (!Supports(w.type) || w.data == nullptr || w.n_out <= 0 || w.row_bytes == 0) {
    return absl::InvalidArgumentError(absl::StrCat("Vulkan: no upload of a ", std::string(DTypeName(w.type)),
                                                   " matrix of ", w.n_out, " rows"));
  }
  return Buffer::CreateFrom(device, w.data, w.row_bytes * static_cast<uint64_t>(w.n_out));  // rows back to back
}

StatusOr<std::unique_ptr<MatVec>> MatVec::Create(Device& device) {
  std::unique_ptr<MatVec> m(new MatVec());
  for (const TypeKernel& k : kTypeKernels) {
    R1_ASSIGN_OR_RETURN(std::unique_ptr<Kernel> kernel, Kernel::Create(device, k.spirv, 3, sizeof(Shape)));
    m->kernels_.push_back(std::move(kernel));
  }
  return m;
}

Status MatVec::Run(DType type, int64_t n_in, int64_t n_out, Buffer& w, Buffer& x, Buffer& y) {
  const size_t which = KernelIndex(type);
  if (which == kernels_.size()) {
    return absl::UnimplementedError(absl::StrCat("Vulkan: no matrix-vector kernel for ", std::string(DTypeName(type))));
  }
  const std::optional<uint64_t> row_bytes = n_in > 0 ? RowBytes(type, static_cast<uint64_t>(n_in)) : std::nullopt;
  // The shader addresses the weights with 32-bit offsets.
  constexpr uint64_t kMaxAddressed = std::numeric_limits<uint32_t>::max();
  if (!row_bytes || n_out <= 0 || static_cast<uint64_t>(n_out) > kMaxAddressed / *row_bytes ||
      (*row_bytes * static_cast<uint64_t>(n_out) + 3) / 4 * 4 > w.bytes() || static_cast<uint64_t>(n_in) * 4 > x.bytes() ||
      static_cast<uint64_t>(n_out) * 4 > y.bytes()) {
    return absl::InvalidArgumentError(absl::StrCat("Vulkan: a ", std::string(DTypeName(type)), " product of ", n_out, " x ", n_in,
                                                   " does not fit its buffers (", w.bytes(), ", ", x.bytes(), ", ",
                                                   y.bytes(), " bytes) or its block size"));
  }
  // One workgroup per row, in rows of kMaxGroupsPerDimension workgroups.
  const uint32_t rows = static_cast<uint32_t>(n_out), grid_x = std::min(rows, kMaxGroupsPerDimension);
  const Shape shape{static_cast<uint32_t>(n_in), rows, static_cast<uint32_t>(*row_bytes), grid_x};
  Buffer* const buffers[] = {&w, &x, &y};
  return kernels_[which]->Run(buffers, &shape, grid_x, (rows + grid_x - 1) / grid_x);
}

}  // namespace r1::vk
