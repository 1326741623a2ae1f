// weights.cc — name → tensor binding with shape and type checks.
#include "model/weights.h"

#include <cstring>

#include "absl/strings/str_format.h"
#include "quant/quant_kernels.h"

namespace r1 {
namespace {

std::string ShapeString(const GgufTensorInfo& t) {
  std::string s = "[";
  for (uint32_t i = 0; i < t.n_dims; ++i) s += absl::StrFormat(i ? ", %d" : "%d", t.ne[i]);
  return s + "]";
}

class Binder {
 public:
  Binder(const GgufFile& gguf, ModelWeights& out) : gguf_(gguf), out_(out) {}

  StatusOr<const GgufTensorInfo*> Find(const std::string& name, bool required) const {
    const GgufTensorInfo* t = gguf_.FindTensor(name);
    if (t == nullptr && required) {
      return absl::NotFoundError(absl::StrFormat("model is missing tensor '%s'", name));
    }
    return t;
  }

  static Status CheckShape(const GgufTensorInfo& t, std::initializer_list<int64_t> want) {
    bool ok = t.n_dims == want.size();
    size_t i = 0;
    for (int64_t d : want) ok = ok && static_cast<int64_t>(t.ne[i++]) == d;
    if (!ok) {
      std::string w = "[";
      i = 0;
      for (int64_t d : want) w += absl::StrFormat(i++ ? ", %d" : "%d", d);
      return absl::InvalidArgumentError(absl::StrFormat("tensor '%s' has shape %s, expected %s]", t.name,
                                                        ShapeString(t), w));
    }
    return absl::OkStatus();
  }

  // A matrix [n_in, n_out] of a type r1 can multiply.
  StatusOr<WeightMatrix> Matrix(const std::string& name, int64_t n_in, int64_t n_out) const {
    R1_ASSIGN_OR_RETURN(const GgufTensorInfo* t, Find(name, true));
    return MatrixOf(*t, n_in, n_out);
  }

  static StatusOr<WeightMatrix> MatrixOf(const GgufTensorInfo& t, int64_t n_in, int64_t n_out) {
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

  // An f32 vector of n values; converted into an owned copy when stored in another type.
  StatusOr<const float*> Vector(const std::string& name, int64_t n, bool required) {
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

 private:
  const GgufFile& gguf_;
  ModelWeights& out_;
};

std::string Blk(int64_t layer, std::string_view what) { return absl::StrFormat("blk.%d.%s", layer, what); }

}  // namespace

StatusOr<std::unique_ptr<ModelWeights>> BindWeights(const GgufFile& gguf, const ModelConfig& c) {
  auto w = std::make_unique<ModelWeights>();
  Binder b(gguf, *w);
  const int64_t q_dim = c.n_heads * c.head_dim, kv_dim = c.n_kv_heads * c.head_dim;

  R1_ASSIGN_OR_RETURN(w->token_embd, b.Matrix("token_embd.weight", c.d_model, c.n_vocab));
  R1_ASSIGN_OR_RETURN(w->output_norm, b.Vector("output_norm.weight", c.d_model, true));
  if (c.tied_embeddings) {
    w->output = w->token_embd;
  } else {
    R1_ASSIGN_OR_RETURN(w->output, b.Matrix("output.weight", c.d_model, c.n_vocab));
  }
  if (c.has_rope_freq_factors) {
    R1_ASSIGN_OR_RETURN(w->rope_freq_factors, b.Vector("rope_freqs.weight", c.n_rot / 2, true));
  }

  w->layers.resize(static_cast<size_t>(c.n_layers));
  for (int64_t l = 0; l < c.n_layers; ++l) {
    LayerWeights& L = w->layers[static_cast<size_t>(l)];
    R1_ASSIGN_OR_RETURN(L.attn_norm, b.Vector(Blk(l, "attn_norm.weight"), c.d_model, true));
    R1_ASSIGN_OR_RETURN(L.wq, b.Matrix(Blk(l, "attn_q.weight"), c.d_model, q_dim));
    R1_ASSIGN_OR_RETURN(L.wk, b.Matrix(Blk(l, "attn_k.weight"), c.d_model, kv_dim));
    R1_ASSIGN_OR_RETURN(L.wv, b.Matrix(Blk(l, "attn_v.weight"), c.d_model, kv_dim));
    R1_ASSIGN_OR_RETURN(L.wo, b.Matrix(Blk(l, "attn_output.weight"), q_dim, c.d_model));
    R1_ASSIGN_OR_RETURN(L.bq, b.Vector(Blk(l, "attn_q.bias"), q_dim, false));
    R1_ASSIGN_OR_RETURN(L.bk, b.Vector(Blk(l, "attn_k.bias"), kv_dim, false));
    R1_ASSIGN_OR_RETURN(L.bv, b.Vector(Blk(l, "attn_v.bias"), kv_dim, false));
    R1_ASSIGN_OR_RETURN(L.bo, b.Vector(Blk(l, "attn_output.bias"), c.d_model, false));
    R1_ASSIGN_OR_RETURN(L.ffn_norm, b.Vector(Blk(l, "ffn_norm.weight"), c.d_model, true));
    R1_ASSIGN_OR_RETURN(L.w_gate, b.Matrix(Blk(l, "ffn_gate.weight"), c.d_model, c.d_ff));
    R1_ASSIGN_OR_RETURN(L.w_up, b.Matrix(Blk(l, "ffn_up.weight"), c.d_model, c.d_ff));
    R1_ASSIGN_OR_RETURN(L.w_down, b.Matrix(Blk(l, "ffn_down.weight"), c.d_ff, c.d_model));
  }
  return w;
}

}  // namespace r1
