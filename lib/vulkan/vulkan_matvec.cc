// vulkan_matvec.cc — the matrix-vector kernels: one SPIR-V module per weight type, and the
// rounding of the activations, one per vec_dot_type.
#include "vulkan/vulkan_matvec.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "r1/quant/reference.h"

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

constexpr uint32_t kRoundQ8_0[] =
#include "round_q8_0.spv.inc"
    ;
constexpr uint32_t kRoundQ8_K[] =
#include "round_q8_k.spv.inc"
    ;
constexpr uint32_t kRoundF16[] =
#include "round_f16.spv.inc"
    ;
constexpr uint32_t kRoundBF16[] =
#include "round_bf16.spv.inc"
    ;

// Q8_1 holds the values Q8_0 does (its extra sum only serves the dot product).
struct RoundingKernel {
  DType vec_dot_type;
  absl::Span<const uint32_t> spirv;
  int64_t block;  // values per workgroup, as the shader's kBlock (64: value by value, any n_in)
};
constexpr RoundingKernel kRoundingKernels[] = {
    {DType::kQ8_0, kRoundQ8_0, 32}, {DType::kQ8_1, kRoundQ8_0, 32}, {DType::kQ8_K, kRoundQ8_K, 256},
    {DType::kF16, kRoundF16, 64},   {DType::kBF16, kRoundBF16, 64},
};

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
  uint32_t n_in, n_out, row_bytes, grid_x, first_row, group_rows, x_stride, y_stride, n_cols, x_col_stride, y_col_stride;
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
  m->device_ = &device;
  for (const TypeKernel& k : kTypeKernels) {
    R1_ASSIGN_OR_RETURN(std::unique_ptr<Kernel> kernel, Kernel::Create(device, k.spirv, 3, sizeof(Shape)));
    m->kernels_.push_back(std::move(kernel));
  }
  for (const RoundingKernel& k : kRoundingKernels) {
    R1_ASSIGN_OR_RETURN(std::unique_ptr<Kernel> kernel, Kernel::Create(device, k.spirv, 2, 2 * sizeof(uint32_t)));
    m->rounding_.push_back(std::move(kernel));
  }
  return m;
}

Status MatVec::Run(DType type, int64_t n_in, int64_t n_out, Buffer& w, Buffer& x, Buffer& y, const ProductLayout& layout) {
  const size_t which = KernelIndex(type);
  if (which == kernels_.size()) {
    return absl::UnimplementedError(absl::StrCat("Vulkan: no matrix-vector kernel for ", std::string(DTypeName(type))));
  }
  // 0: n_in is not a whole number of the type's blocks.
  const uint64_t row_bytes = n_in > 0 ? RowBytes(type, static_cast<uint64_t>(n_in)).value_or(0) : 0;
  const int64_t group_rows = layout.group_rows != 0 ? layout.group_rows : n_out;
  const int64_t last_group = group_rows > 0 ? n_out / group_rows - 1 : -1;
  const int64_t x_col_stride = layout.x_col_stride != 0 ? layout.x_col_stride : n_in;
  const int64_t y_col_stride = layout.y_col_stride != 0 ? layout.y_col_stride : n_out;
  const int64_t last_col = layout.n_cols - 1;
  // The shader addresses the weights with 32-bit offsets, the floats with 32-bit indices.
  constexpr uint64_t kMaxAddressed = std::numeric_limits<uint32_t>::max();
  const auto floats_fit = [](int64_t floats, const Buffer& b) {
    return floats > 0 && static_cast<uint64_t>(floats) <= kMaxAddressed / 4 && static_cast<uint64_t>(floats) * 4 <= b.bytes();
  };
  const uint64_t rows_read = static_cast<uint64_t>(layout.first_row) + static_cast<uint64_t>(n_out);
  if (row_bytes == 0 || n_out <= 0 || layout.first_row < 0 || group_rows <= 0 || n_out % group_rows != 0 ||
      layout.x_stride < 0 || layout.y_stride < 0 || layout.n_cols <= 0 || (layout.n_cols > 1 && last_group > 0) ||
      x_col_stride < n_in || y_col_stride < n_out || rows_read > kMaxAddressed / row_bytes ||
      (row_bytes * rows_read + 3) / 4 * 4 > w.bytes() ||
      !floats_fit(last_col * x_col_stride + last_group * layout.x_stride + n_in, x) ||
      !floats_fit(last_col * y_col_stride + last_group * layout.y_stride + group_rows, y)) {
    return absl::InvalidArgumentError(absl::StrCat("Vulkan: a ", std::string(DTypeName(type)), " product of ", n_out, " x ", n_in,
                                                   " does not fit its buffers (", w.bytes(), ", ", x.bytes(), ", ",
                                                   y.bytes(), " bytes), its layout or its block size"));
  }
  // x rounded as the CPU rounds it, into a scratch buffer grown to fit: each head's slice, or
  // each column.
  const bool by_column = layout.n_cols > 1;
  const int64_t x_floats = last_col * x_col_stride + last_group * layout.x_stride + n_in;
  Buffer* input = &x;
  if (quant::ref::VecDotType(type).value_or(DType::kF32) != DType::kF32) {
    if (rounded_ == nullptr || rounded_->bytes() < static_cast<uint64_t>(x_floats) * 4) {
      rounded_.reset();
      R1_ASSIGN_OR_RETURN(rounded_, Buffer::Create(*device_, static_cast<uint64_t>(x_floats) * 4));
    }
    R1_RETURN_IF_ERROR(RoundActivations(type, n_in, by_column ? layout.n_cols : last_group + 1,
                                        by_column ? x_col_stride : layout.x_stride, x, *rounded_));
    input = rounded_.get();
  }
  // One workgroup per row, in rows of kMaxGroupsPerDimension workgroups, per kCols columns.
  constexpr int64_t kCols = 8;  // as the shader's
  const uint32_t rows = static_cast<uint32_t>(n_out), grid_x = std::min(rows, kMaxGroupsPerDimension);
  const int64_t col_groups = (layout.n_cols + kCols - 1) / kCols;
  if (col_groups > int64_t{kMaxGroupsPerDimension}) return absl::InvalidArgumentError("Vulkan: too many columns");
  const Shape shape{static_cast<uint32_t>(n_in),
                    rows,
                    static_cast<uint32_t>(row_bytes),
                    grid_x,
                    static_cast<uint32_t>(layout.first_row),
                    static_cast<uint32_t>(group_rows),
                    static_cast<uint32_t>(layout.x_stride),
                    static_cast<uint32_t>(layout.y_stride),
                    static_cast<uint32_t>(layout.n_cols),
                    static_cast<uint32_t>(x_col_stride),
                    static_cast<uint32_t>(y_col_stride)};
  Buffer* const buffers[] = {&w, input, &y};
  return kernels_[which]->Run(buffers, &shape, grid_x, (rows + grid_x - 1) / grid_x, static_cast<uint32_t>(col_groups));
}

Status MatVec::RoundActivations(DType type, int64_t n_in, int64_t n_groups, int64_t x_stride, Buffer& x, Buffer& out) {
  const DType dot = quant::ref::VecDotType(type).value_or(DType::kF32);
  const RoundingKernel* which = nullptr;
  for (const RoundingKernel& k : kRoundingKernels) which = k.vec_dot_type == dot ? &k : which;
  const uint64_t floats = n_in > 0 && n_groups > 0 ? static_cast<uint64_t>((n_groups - 1) * x_stride + n_in) : 0;
  if (n_in <= 0 || n_groups <= 0 || n_groups > int64_t{kMaxGroupsPerDimension} || (n_groups > 1 && x_stride < n_in) ||
      (which != nullptr && which->block != 64 && n_in % which->block != 0) || floats > std::numeric_limits<uint32_t>::max() / 4 ||
      floats * 4 > x.bytes() || floats * 4 > out.bytes()) {
    return absl::InvalidArgumentError(absl::StrCat("Vulkan: activations of ", n_groups, " x ", n_in, " (stride ", x_stride,
                                                   ") do not fit their buffers or the ", std::string(DTypeName(dot)),
                                                   " block"));
  }
  if (which == nullptr) {  // F32: the values as they are
    std::memcpy(out.data(), x.data(), floats * 4);
    return absl::OkStatus();
  }
  const int64_t blocks = (n_in + which->block - 1) / which->block;
  if (blocks > int64_t{kMaxGroupsPerDimension}) return absl::InvalidArgumentError("Vulkan: activation row too long");
  const uint32_t push[] = {static_cast<uint32_t>(n_in), static_cast<uint32_t>(x_stride)};
  Buffer* const buffers[] = {&x, &out};
  return rounding_[static_cast<size_t>(which - kRoundingKernels)]->Run(buffers, push, static_cast<uint32_t>(blocks),
                                                                      static_cast<uint32_t>(n_groups));
}

}  // namespace r1::vk
