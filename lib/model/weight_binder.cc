// weight_binder.cc — name → tensor binding with shape and type checks.
#include "model/weight_binder.h"

#include <cstring>
#include <memory>

#include "absl/strings/str_format.h"
#include "quant/quant_kernels.h"

namespace r1 {
namespace {

std::string ShapeString(const GgufTensorInfo& t) {
  std::string s = "[";
  for (uint32_t i = 0; i < t.n_dims; ++i) absl::StrAppendFormat(&s, "%s%d", i ? ", " : "", t.ne[i]);
  return s + "]";
}

}  // namespace

StatusOr<const GgufTensorInfo*> WeightBinder::Find(const std::string& name, bool required) const {
  const GgufTensorInfo* t = gguf_.FindTensor(name);
  if (t == nullptr && required) {
    return absl::NotFoundError(absl::StrFormat("model is missing tensor '%s'", name));
  }
  return t;
}

Status WeightBinder::CheckShape(const GgufTensorInfo& t, std::initializer_list<int64_t> want) {
  bool ok = t.n_dims == want.size();
  size_t i = 0;
  for (int64_t d : want) ok = ok && static_cast<int64_t>(t.ne[i++]) == d;
  if (!ok) {
    std::string w = "[";
    i = 0;
    for (int64_t d : want) absl::StrAppendFormat(&w, "%s%d", i++ ? ", " : "", d);
    return absl::InvalidArgumentError(absl::StrFormat("tensor '%s' has shape %s, expected %s]", t.name,
                                                      ShapeString(t), w));
  }
  return absl::OkStatus();
}

StatusOr<WeightMatrix> WeightBinder::Matrix(const std::string& name, int64_t n_in, int64_t n_out) const {
  R1_ASSIGN_OR_RETURN(const GgufTensorInfo* t, Find(name, true));
  return MatrixOf(*t, n_in, n_out);
}

StatusOr<WeightMatrix> WeightBinder::MatrixOf(const GgufTensorInfo& t, int64_t n_in, int64_t n_out) {
  R1_RETURN_IF_ERROR(CheckShape(t, {n_in, n_out}));
  if (GetQuantKernels(Isa::kScalar, t.type) == nullptr) {
    return absl::UnimplementedError(absl::StrFormat("tensor '%s' has type %s, which r1 cannot use as a weight",
                                                    t.name, DTypeName(t.type)));
  }
  WeightMatrix m;
  m.type = t.type;
  m.n_in = n_in;
  m.n_out = n_out;
  m.row_bytes = *RowBytes(t.type, static_cast<uint64_t>(n_in));
  m.data = t.data;
  return m;
}

StatusOr<ExpertMatrices> WeightBinder::Experts(const std::string& name, int64_t n_in, int64_t n_out, int64_t n_experts) const {
  R1_ASSIGN_OR_RETURN(const GgufTensorInfo* t, Find(name, true));
  return ExpertsOf(*t, n_in, n_out, n_experts);
}

StatusOr<std::vector<WeightMatrix>> WeightBinder::PerHead(const GgufTensorInfo& t, int64_t n_in, int64_t n_out,
                                            int64_t n_heads) const {
  R1_ASSIGN_OR_RETURN(ExpertMatrices stack, ExpertsOf(t, n_in, n_out, n_heads));
  std::vector<WeightMatrix> heads;
  for (int64_t h = 0; h < n_heads; ++h) heads.push_back(stack.Expert(h));
  return heads;
}

StatusOr<ExpertMatrices> WeightBinder::ExpertsOf(const GgufTensorInfo& t, int64_t n_in, int64_t n_out, int64_t n) const {
  R1_RETURN_IF_ERROR(CheckShape(t, {n_in, n_out, n}));
  GgufTensorInfo first = t;
  first.n_dims = 2;
  ExpertMatrices m;
  R1_ASSIGN_OR_RETURN(m.first, MatrixOf(first, n_in, n_out));
  m.expert_bytes = m.first.row_bytes * static_cast<uint64_t>(n_out);
  m.n_experts = n;
  return m;
}

Status WeightBinder::SplitKvB(const GgufTensorInfo& t, const ModelConfig& c, LayerWeights& L) {
  const int64_t per_head = c.qk_nope_dim + c.v_head_dim;
  R1_ASSIGN_OR_RETURN(WeightMatrix kv_b, MatrixOf(t, c.kv_lora_rank, c.n_heads * per_head));
  const QuantKernels* k = GetQuantKernels(Isa::kScalar, kv_b.type);
  std::vector<float> row(static_cast<size_t>(c.kv_lora_rank));
  for (int64_t h = 0; h < c.n_heads; ++h) {
    auto kt = std::make_unique<float[]>(static_cast<size_t>(c.qk_nope_dim * c.kv_lora_rank));
    for (int64_t i = 0; i < c.qk_nope_dim; ++i) {
      k->to_float(kv_b.Row(h * per_head + i), row.data(), c.kv_lora_rank);
      for (int64_t r = 0; r < c.kv_lora_rank; ++r) kt[static_cast<size_t>(r * c.qk_nope_dim + i)] = row[static_cast<size_t>(r)];
    }
    WeightMatrix m;
    m.type = DType::kF32;
    m.n_in = c.qk_nope_dim;
    m.n_out = c.kv_lora_rank;
    m.row_bytes = static_cast<uint64_t>(c.qk_nope_dim) * sizeof(float);
    m.data = reinterpret_cast<const uint8_t*>(kt.get());
    out_.owned.push_back(std::move(kt));
    L.wk_b.push_back(m);
    WeightMatrix v = kv_b;
    v.n_out = c.v_head_dim;
    v.data = kv_b.Row(h * per_head + c.qk_nope_dim);
    L.wv_b.push_back(v);
  }
  return absl::OkStatus();
}

StatusOr<const float*> WeightBinder::Vector(const std::string& name, int64_t n, bool required) {
  R1_ASSIGN_OR_RETURN(const GgufTensorInfo* t, Find(name, required));
  if (t == nullptr) return static_cast<const float*>(nullptr);
  R1_RETURN_IF_ERROR(CheckShape(*t, {n}));
  if (t->type == DType::kF32 && reinterpret_cast<uintptr_t>(t->data) % alignof(float) == 0) {
    return reinterpret_cast<const float*>(t->data);
  }
  const QuantKernels* k = GetQuantKernels(Isa::kScalar, t->type);
  if (k == nullptr) {
    return absl::UnimplementedError(absl::StrFormat("tensor '%s' has unsupported type %s", name, DTypeName(t->type)));
  }
  auto copy = std::make_unique<float[]>(static_cast<size_t>(n));
  k->to_float(t->data, copy.get(), n);
  out_.owned.push_back(std::move(copy));
  return static_cast<const float*>(out_.owned.back().get());
}

std::string BlockTensor(int64_t layer, std::string_view what) { return absl::StrFormat("blk.%d.%s", layer, what); }

}  // namespace r1
