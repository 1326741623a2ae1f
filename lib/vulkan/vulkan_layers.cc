// vulkan_layers.cc — uploads, the pass checks and the SwiGLU feed-forward shared by every
// architecture's layers on a Vulkan device.
#include "vulkan/vulkan_layers.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "model/forward.h"
#include "r1/quant/reference.h"

namespace r1::vk {
namespace {

Status NoKernel(DType type, int64_t layer, const char* name) {
  return absl::UnimplementedError(absl::StrCat("gpu_layers: blk.", layer, ".", name, " is ",
                                               std::string(DTypeName(type)), ", which has no Vulkan kernel"));
}

}  // namespace

VulkanLayers::VulkanLayers(std::unique_ptr<Device> device, int64_t n_layers, int64_t n_ctx, DType cache_type)
    : device_(std::move(device)), n_layers_(n_layers), n_ctx_(n_ctx), cache_type_(cache_type) {}

VulkanLayers::~VulkanLayers() = default;

Status VulkanLayers::Init() {
  R1_ASSIGN_OR_RETURN(matvec_, MatVec::Create(*device_));
  R1_ASSIGN_OR_RETURN(ops_, FloatOps::Create(*device_));
  return absl::OkStatus();
}

Status VulkanLayers::Layer(const ModelConfig& c, int64_t layer, absl::Span<const SequenceRows> sequences,
                           int64_t n_tokens, Activations& a) {
  if (sequences.size() != 1) {
    return absl::FailedPreconditionError("gpu_layers: a pass over several sequences runs on the CPU only");
  }
  const SequenceRows& s = sequences[0];
  if (s.pos0 + n_tokens > n_ctx_) return absl::OutOfRangeError("gpu_layers: rows past the device's cache");
  for (int64_t t = 0; t < n_tokens; t += kMaxRows) {
    const int64_t n = std::min(kMaxRows, n_tokens - t);
    R1_RETURN_IF_ERROR(Rows(c, layer, s.pos0 + t, n, a.cos_sin.data() + t * c.n_rot, a.x.data() + t * c.d_model));
  }
  return absl::OkStatus();
}

StatusOr<VulkanLayers::Matrix> VulkanLayers::Upload(const WeightMatrix& w, int64_t layer, const char* name) {
  if (!MatVec::Supports(w.type)) return NoKernel(w.type, layer, name);
  R1_ASSIGN_OR_RETURN(std::unique_ptr<Buffer> rows, MatVec::Upload(*device_, w));
  return Matrix{std::move(rows), w.type, w.n_in, w.n_out};
}

StatusOr<VulkanLayers::Matrix> VulkanLayers::UploadStacked(absl::Span<const WeightMatrix> ws, int64_t layer,
                                                          const char* name) {
  if (ws.empty()) return absl::InvalidArgumentError(absl::StrCat("gpu_layers: blk.", layer, ".", name, " has no heads"));
  const WeightMatrix& first = ws.front();
  if (!MatVec::Supports(first.type)) return NoKernel(first.type, layer, name);
  const uint64_t bytes = first.row_bytes * static_cast<uint64_t>(first.n_out);
  std::vector<uint8_t> stacked;
  stacked.reserve(bytes * ws.size());
  for (const WeightMatrix& w : ws) {
    if (w.type != first.type || w.n_in != first.n_in || w.n_out != first.n_out || w.row_bytes != first.row_bytes) {
      return absl::InvalidArgumentError(absl::StrCat("gpu_layers: blk.", layer, ".", name, ": heads of different shapes"));
    }
    stacked.insert(stacked.end(), w.data, w.data + bytes);
  }
  R1_ASSIGN_OR_RETURN(std::unique_ptr<Buffer> rows, Buffer::CreateFrom(*device_, stacked.data(), stacked.size()));
  return Matrix{std::move(rows), first.type, first.n_in, first.n_out, static_cast<int64_t>(ws.size())};
}

StatusOr<VulkanLayers::Matrix> VulkanLayers::UploadExperts(const ExpertMatrices& e, int64_t layer, const char* name) {
  const WeightMatrix& first = e.first;  // experts back to back from here
  if (!MatVec::Supports(first.type)) return NoKernel(first.type, layer, name);
  if (e.n_experts <= 0 || e.expert_bytes != first.row_bytes * static_cast<uint64_t>(first.n_out)) {
    return absl::InvalidArgumentError(absl::StrCat("gpu_layers: blk.", layer, ".", name, ": experts not back to back"));
  }
  R1_ASSIGN_OR_RETURN(std::unique_ptr<Buffer> rows,
                      Buffer::CreateFrom(*device_, first.data, e.expert_bytes * static_cast<uint64_t>(e.n_experts)));
  return Matrix{std::move(rows), first.type, first.n_in, first.n_out, e.n_experts};
}

StatusOr<std::unique_ptr<Buffer>> VulkanLayers::Floats(const float* values, int64_t n) {
  return Buffer::CreateFrom(*device_, values, static_cast<uint64_t>(n) * sizeof(float));
}

StatusOr<std::unique_ptr<Buffer>> VulkanLayers::Floats(int64_t n) {
  return Buffer::Create(*device_, static_cast<uint64_t>(n) * sizeof(float));
}

StatusOr<VulkanLayers::SwiGluMatrices> VulkanLayers::UploadSwiGlu(const WeightMatrix& gate, const WeightMatrix& up,
                                                                 const WeightMatrix& down, int64_t layer,
                                                                 const char* suffix) {
  SwiGluMatrices m;
  R1_ASSIGN_OR_RETURN(m.gate, Upload(gate, layer, absl::StrCat("ffn_gate", suffix).c_str()));
  R1_ASSIGN_OR_RETURN(m.up, Upload(up, layer, absl::StrCat("ffn_up", suffix).c_str()));
  R1_ASSIGN_OR_RETURN(m.down, Upload(down, layer, absl::StrCat("ffn_down", suffix).c_str()));
  return m;
}

Status VulkanLayers::Product(const Matrix& m, Buffer& x, Buffer& y, int64_t n_cols) {
  ProductLayout layout;
  layout.n_cols = n_cols;
  return matvec_->Run(m.type, m.n_in, m.n_out, *m.rows, x, y, layout);
}

Status VulkanLayers::HeadProducts(const Matrix& m, Buffer& x, int64_t x_stride, Buffer& y, int64_t y_stride) {
  return matvec_->Run(m.type, m.n_in, m.n_out * m.n_stacked, *m.rows, x, y, {0, m.n_out, x_stride, y_stride});
}

Status VulkanLayers::ExpertProduct(const Matrix& m, int64_t e, Buffer& x, Buffer& y) {
  if (e < 0 || e >= m.n_stacked) return absl::OutOfRangeError(absl::StrCat("gpu_layers: no expert ", e));
  return matvec_->Run(m.type, m.n_in, m.n_out, *m.rows, x, y, {e * m.n_out});
}

Status VulkanLayers::StoreCacheRow(const Buffer& row, int64_t n, Buffer& cache, int64_t at) {
  if (n <= 0 || at < 0 || static_cast<uint64_t>(n) * 4 > row.bytes() || static_cast<uint64_t>(at + n) * 4 > cache.bytes()) {
    return absl::OutOfRangeError("gpu_layers: a cache row past its buffer");
  }
  const float* from = static_cast<const float*>(row.data());
  float* to = static_cast<float*>(cache.data()) + at;
  if (cache_type_ == DType::kF32) {
    std::memcpy(to, from, static_cast<size_t>(n) * sizeof(float));
    return absl::OkStatus();
  }
  const std::optional<uint64_t> bytes = RowBytes(cache_type_, static_cast<uint64_t>(n));
  if (!bytes) return absl::InvalidArgumentError("gpu_layers: a cache row that is not whole blocks of its type");
  if (packed_.size() < *bytes) packed_.resize(*bytes);
  if (!quant::ref::QuantizeRow(cache_type_, from, packed_.data(), n) ||
      !quant::ref::DequantizeRow(cache_type_, packed_.data(), to, n)) {
    return absl::UnimplementedError(absl::StrCat("gpu_layers: no ", std::string(DTypeName(cache_type_)), " cache"));
  }
  return absl::OkStatus();
}

Status VulkanLayers::SwiGlu(const SwiGluMatrices& m, Buffer& h, Buffer& gate, Buffer& up, Buffer& out,
                            int64_t n_rows) {
  R1_RETURN_IF_ERROR(Product(m.gate, h, gate, n_rows));
  R1_RETURN_IF_ERROR(Product(m.up, h, up, n_rows));
  R1_RETURN_IF_ERROR(ops_->SiluMul(gate, up, gate, n_rows * m.gate.n_out));
  return Product(m.down, gate, out, n_rows);
}

}  // namespace r1::vk
