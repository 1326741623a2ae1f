// vulkan_ops.cc — the f32 layer operators: sizes checked, then one dispatch each.
#include "vulkan/vulkan_ops.h"

#include <algorithm>
#include <initializer_list>

#include "absl/strings/str_cat.h"

namespace r1::vk {
namespace {

// SPIR-V words compiled from shaders/*.comp at build time (glslc -mfmt=c).
constexpr uint32_t kRmsNorm[] =
#include "rms_norm.spv.inc"
    ;
constexpr uint32_t kAdd[] =
#include "add.spv.inc"
    ;
constexpr uint32_t kSiluMul[] =
#include "silu_mul.spv.inc"
    ;
constexpr uint32_t kRope[] =
#include "rope.spv.inc"
    ;
constexpr uint32_t kAttention[] =
#include "attention.spv.inc"
    ;

constexpr uint64_t kGroup = 64;  // invocations per workgroup, as the shaders declare
constexpr uint64_t kMaxIndex = uint64_t{1} << 31;  // the shaders index with 32-bit integers

// Whether each buffer holds at least its count of floats (counts below kMaxIndex).
bool Fits(std::initializer_list<std::pair<const Buffer*, int64_t>> buffers) {
  for (const auto& [buffer, floats] : buffers) {
    if (floats <= 0 || static_cast<uint64_t>(floats) >= kMaxIndex || static_cast<uint64_t>(floats) * 4 > buffer->bytes()) {
      return false;
    }
  }
  return true;
}

Status SizeError(const char* op) {
  return absl::InvalidArgumentError(absl::StrCat("Vulkan: ", op, ": sizes that are not positive or do not fit the buffers"));
}

// A grid of workgroups covering n invocations: {grid_x, grid_y}.
std::pair<uint32_t, uint32_t> Grid(uint64_t n) {
  const uint64_t groups = (n + kGroup - 1) / kGroup;
  const uint64_t x = std::min<uint64_t>(groups, kMaxGroupsPerDimension);
  return {static_cast<uint32_t>(x), static_cast<uint32_t>((groups + x - 1) / x)};
}

}  // namespace

StatusOr<std::unique_ptr<FloatOps>> FloatOps::Create(Device& device) {
  std::unique_ptr<FloatOps> ops(new FloatOps());
  R1_ASSIGN_OR_RETURN(ops->rms_norm_, Kernel::Create(device, kRmsNorm, 3, 8));
  R1_ASSIGN_OR_RETURN(ops->add_, Kernel::Create(device, kAdd, 3, 16));
  R1_ASSIGN_OR_RETURN(ops->silu_mul_, Kernel::Create(device, kSiluMul, 3, 16));
  R1_ASSIGN_OR_RETURN(ops->rope_, Kernel::Create(device, kRope, 2, 28));
  R1_ASSIGN_OR_RETURN(ops->attention_, Kernel::Create(device, kAttention, 5, 36));
  return ops;
}

Status FloatOps::RmsNorm(Buffer& x, Buffer& w, float eps, Buffer& out, int64_t n_rows, int64_t n) {
  if (n_rows <= 0 || n_rows > int64_t{kMaxGroupsPerDimension} || !Fits({{&x, n_rows * n}, {&w, n}, {&out, n_rows * n}})) {
    return SizeError("RmsNorm");
  }
  const struct {
    uint32_t n;
    float eps;
  } push{static_cast<uint32_t>(n), eps};
  Buffer* const buffers[] = {&x, &w, &out};
  return rms_norm_->Run(buffers, &push, static_cast<uint32_t>(n_rows));
}

Status FloatOps::Add(Buffer& a, Buffer& b, Buffer& out, int64_t n, float scale, int64_t b_period) {
  return Elementwise(*add_, "Add", a, b, out, n, scale, b_period);
}

Status FloatOps::SiluMul(Buffer& gate, Buffer& up, Buffer& out, int64_t n) {
  return Elementwise(*silu_mul_, "SiluMul", gate, up, out, n, 1.0f, 0);
}

Status FloatOps::Elementwise(Kernel& kernel, const char* op, Buffer& a, Buffer& b, Buffer& out, int64_t n, float scale,
                             int64_t b_period) {
  if (b_period < 0 || (b_period > 0 && n % b_period != 0) || !Fits({{&a, n}, {&b, b_period > 0 ? b_period : n}, {&out, n}})) {
    return SizeError(op);
  }
  const auto [gx, gy] = Grid(static_cast<uint64_t>(n));
  const struct {
    uint32_t count, grid_x;
    float scale;
    uint32_t b_period;
  } push{static_cast<uint32_t>(n), gx, scale, static_cast<uint32_t>(b_period)};
  Buffer* const buffers[] = {&a, &b, &out};
  return kernel.Run(buffers, &push, gx, gy);
}

Status FloatOps::Rope(Buffer& x, Buffer& cos_sin, int64_t n_rows, int64_t n_heads, int64_t head_dim, int64_t n_rot,
                      bool neox, int64_t offset) {
  if (n_rows <= 0 || n_heads <= 0 || n_rot <= 0 || n_rot % 2 != 0 || offset < 0 || offset + n_rot > head_dim ||
      !Fits({{&x, n_rows * n_heads * head_dim}, {&cos_sin, n_rows * n_rot}})) {
    return SizeError("Rope");
  }
  const auto [gx, gy] = Grid(static_cast<uint64_t>(n_rows * n_heads * (n_rot / 2)));
  const uint32_t push[] = {static_cast<uint32_t>(n_rows), static_cast<uint32_t>(n_heads), static_cast<uint32_t>(head_dim),
                           static_cast<uint32_t>(n_rot), neox ? 1u : 0u, gx, static_cast<uint32_t>(offset)};
  Buffer* const buffers[] = {&x, &cos_sin};
  return rope_->Run(buffers, push, gx, gy);
}

Status FloatOps::Attention(Buffer& q, Buffer& k, Buffer& v, Buffer& out, Buffer& scores, const AttentionShape& s) {
  const int64_t v_dim = s.v_dim != 0 ? s.v_dim : s.head_dim;
  const int64_t k_stride = s.k_stride != 0 ? s.k_stride : s.n_kv_heads * s.head_dim;
  const int64_t v_stride = s.v_stride != 0 ? s.v_stride : s.n_kv_heads * v_dim;
  // The last cached row ends at (n_kv - 1) · stride + n_kv_heads · dim.
  const auto cached = [&s](int64_t stride, int64_t dim) { return (s.n_kv - 1) * stride + s.n_kv_heads * dim; };
  if (s.n_tokens <= 0 || s.n_tokens > int64_t{kMaxGroupsPerDimension} || s.pos0 < 0 || s.n_heads <= 0 ||
      s.n_heads > int64_t{kMaxGroupsPerDimension} || s.n_kv_heads <= 0 || s.n_heads % s.n_kv_heads != 0 ||
      s.pos0 + s.n_tokens > s.n_kv || s.head_dim <= 0 || v_dim <= 0 || k_stride < s.n_kv_heads * s.head_dim ||
      v_stride < s.n_kv_heads * v_dim ||
      !Fits({{&q, s.n_tokens * s.n_heads * s.head_dim}, {&k, cached(k_stride, s.head_dim)}, {&v, cached(v_stride, v_dim)},
             {&out, s.n_tokens * s.n_heads * v_dim}, {&scores, s.n_tokens * s.n_heads * s.n_kv}})) {
    return SizeError("Attention");
  }
  const struct {
    uint32_t pos0, n_kv, n_heads, n_kv_heads, head_dim, v_dim, k_stride, v_stride;
    float scale;
  } push{static_cast<uint32_t>(s.pos0),     static_cast<uint32_t>(s.n_kv),     static_cast<uint32_t>(s.n_heads),
         static_cast<uint32_t>(s.n_kv_heads), static_cast<uint32_t>(s.head_dim), static_cast<uint32_t>(v_dim),
         static_cast<uint32_t>(k_stride),   static_cast<uint32_t>(v_stride),   s.scale};
  Buffer* const buffers[] = {&q, &k, &v, &out, &scores};
  return attention_->Run(buffers, &push, static_cast<uint32_t>(s.n_tokens), static_cast<uint32_t>(s.n_heads));
}

}  // namespace r1::vk
