// weights.cc — name → tensor binding with shape and type checks.
#include "model/weights.h"

#include <cstring>

#include "absl/strings/str_format.h"
#include "quant/quant_kernels.h"

namespace r1 {
namespace {

std::string ShapeString(const GgufTensorInfo& t) {
  std::string s = "[";
  for (uint32_t i = 0; i < t.n_dims; ++i) absl::StrAppendFormat(&s, "%s%d", i ? ", " : "", t.ne[i]);
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
      for (int64_t d : want) absl::StrAppendFormat(&w, "%s%d", i++ ? ", " : "", d);
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

  // A 3-D stack [n_in, n_out, n_experts] of expert matrices.
  StatusOr<ExpertMatrices> Experts(const std::string& name, int64_t n_in, int64_t n_out, int64_t n_experts) const {
    R1_ASSIGN_OR_RETURN(const GgufTensorInfo* t, Find(name, true));
    return ExpertsOf(*t, n_in, n_out, n_experts);
  }

  // Per-head matrices [n_in, n_out] of a 3-D tensor [n_in, n_out, n_heads].
  StatusOr<std::vector<WeightMatrix>> PerHead(const GgufTensorInfo& t, int64_t n_in, int64_t n_out,
                                              int64_t n_heads) const {
    R1_ASSIGN_OR_RETURN(ExpertMatrices stack, ExpertsOf(t, n_in, n_out, n_heads));
    std::vector<WeightMatrix> heads;
    for (int64_t h = 0; h < n_heads; ++h) heads.push_back(stack.Expert(h));
    return heads;
  }

  StatusOr<ExpertMatrices> ExpertsOf(const GgufTensorInfo& t, int64_t n_in, int64_t n_out, int64_t n) const {
    R1_RETURN_IF_ERROR(CheckShape(t, {n_in, n_out, n}));
    GgufTensorInfo first = t;
    first.n_dims = 2;
    ExpertMatrices m;
    R1_ASSIGN_OR_RETURN(m.first, MatrixOf(first, n_in, n_out));
    m.expert_bytes = m.first.row_bytes * static_cast<uint64_t>(n_out);
    m.n_experts = n;
    return m;
  }

  // Older files store attn_kv_b [kv_lora_rank, n_heads * (qk_nope + v)]. The value rows of each
  // head are used in place; the key rows are needed transposed (latent-space query), so they
  // are converted once into an owned f32 copy [qk_nope -> kv_lora_rank] per head.
  Status SplitKvB(const GgufTensorInfo& t, const ModelConfig& c, LayerWeights& L) {
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

Status BindDeepseek2Layers(const GgufFile& gguf, Binder& b, const ModelConfig& c, ModelWeights& w) {
  const int64_t q_dim = c.n_heads * c.head_dim, latent = c.kv_lora_rank;
  w.layers.resize(static_cast<size_t>(c.n_layers));
  for (int64_t l = 0; l < c.n_layers; ++l) {
    LayerWeights& L = w.layers[static_cast<size_t>(l)];
    R1_ASSIGN_OR_RETURN(L.attn_norm, b.Vector(Blk(l, "attn_norm.weight"), c.d_model, true));
    if (c.q_lora_rank > 0) {
      R1_ASSIGN_OR_RETURN(L.wq_a, b.Matrix(Blk(l, "attn_q_a.weight"), c.d_model, c.q_lora_rank));
      R1_ASSIGN_OR_RETURN(L.q_a_norm, b.Vector(Blk(l, "attn_q_a_norm.weight"), c.q_lora_rank, true));
      R1_ASSIGN_OR_RETURN(L.wq_b, b.Matrix(Blk(l, "attn_q_b.weight"), c.q_lora_rank, q_dim));
    } else {
      R1_ASSIGN_OR_RETURN(L.wq_b, b.Matrix(Blk(l, "attn_q.weight"), c.d_model, q_dim));
    }
    R1_ASSIGN_OR_RETURN(L.wkv_a, b.Matrix(Blk(l, "attn_kv_a_mqa.weight"), c.d_model, latent + c.n_rot));
    R1_ASSIGN_OR_RETURN(L.kv_a_norm, b.Vector(Blk(l, "attn_kv_a_norm.weight"), latent, true));
    R1_ASSIGN_OR_RETURN(const GgufTensorInfo* k_b, b.Find(Blk(l, "attn_k_b.weight"), false));
    if (k_b != nullptr) {
      R1_ASSIGN_OR_RETURN(const GgufTensorInfo* v_b, b.Find(Blk(l, "attn_v_b.weight"), true));
      R1_ASSIGN_OR_RETURN(L.wk_b, b.PerHead(*k_b, c.qk_nope_dim, latent, c.n_heads));
      R1_ASSIGN_OR_RETURN(L.wv_b, b.PerHead(*v_b, latent, c.v_head_dim, c.n_heads));
    } else {
      R1_ASSIGN_OR_RETURN(const GgufTensorInfo* kv_b, b.Find(Blk(l, "attn_kv_b.weight"), true));
      R1_RETURN_IF_ERROR(b.SplitKvB(*kv_b, c, L));
    }
    R1_ASSIGN_OR_RETURN(L.wo, b.Matrix(Blk(l, "attn_output.weight"), c.n_heads * c.v_head_dim, c.d_model));
    R1_ASSIGN_OR_RETURN(L.ffn_norm, b.Vector(Blk(l, "ffn_norm.weight"), c.d_model, true));
    if (l < c.n_dense_lead) {
      R1_ASSIGN_OR_RETURN(L.w_gate, b.Matrix(Blk(l, "ffn_gate.weight"), c.d_model, c.d_ff));
      R1_ASSIGN_OR_RETURN(L.w_up, b.Matrix(Blk(l, "ffn_up.weight"), c.d_model, c.d_ff));
      R1_ASSIGN_OR_RETURN(L.w_down, b.Matrix(Blk(l, "ffn_down.weight"), c.d_ff, c.d_model));
      continue;
    }
    R1_ASSIGN_OR_RETURN(L.gate_inp, b.Matrix(Blk(l, "ffn_gate_inp.weight"), c.d_model, c.n_experts));
    R1_ASSIGN_OR_RETURN(L.exp_probs_b, b.Vector(Blk(l, "exp_probs_b.bias"), c.n_experts, false));
    R1_ASSIGN_OR_RETURN(L.gate_exps, b.Experts(Blk(l, "ffn_gate_exps.weight"), c.d_model, c.d_ff_expert, c.n_experts));
    R1_ASSIGN_OR_RETURN(L.up_exps, b.Experts(Blk(l, "ffn_up_exps.weight"), c.d_model, c.d_ff_expert, c.n_experts));
    R1_ASSIGN_OR_RETURN(L.down_exps, b.Experts(Blk(l, "ffn_down_exps.weight"), c.d_ff_expert, c.d_model, c.n_experts));
    if (c.n_experts_shared > 0) {
      const int64_t d_sh = c.n_experts_shared * c.d_ff_expert;
      L.has_shexp = true;
      R1_ASSIGN_OR_RETURN(L.gate_shexp, b.Matrix(Blk(l, "ffn_gate_shexp.weight"), c.d_model, d_sh));
      R1_ASSIGN_OR_RETURN(L.up_shexp, b.Matrix(Blk(l, "ffn_up_shexp.weight"), c.d_model, d_sh));
      R1_ASSIGN_OR_RETURN(L.down_shexp, b.Matrix(Blk(l, "ffn_down_shexp.weight"), d_sh, c.d_model));
    }
  }
  (void)gguf;
  return absl::OkStatus();
}

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

  if (c.architecture == "deepseek2") {
    R1_RETURN_IF_ERROR(BindDeepseek2Layers(gguf, b, c, *w));
    return w;
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
    if (c.has_qk_norm) {
      R1_ASSIGN_OR_RETURN(L.q_norm, b.Vector(Blk(l, "attn_q_norm.weight"), c.head_dim, true));
      R1_ASSIGN_OR_RETURN(L.k_norm, b.Vector(Blk(l, "attn_k_norm.weight"), c.head_dim, true));
    }
    R1_ASSIGN_OR_RETURN(L.ffn_norm, b.Vector(Blk(l, "ffn_norm.weight"), c.d_model, true));
    R1_ASSIGN_OR_RETURN(L.w_gate, b.Matrix(Blk(l, "ffn_gate.weight"), c.d_model, c.d_ff));
    R1_ASSIGN_OR_RETURN(L.w_up, b.Matrix(Blk(l, "ffn_up.weight"), c.d_model, c.d_ff));
    R1_ASSIGN_OR_RETURN(L.w_down, b.Matrix(Blk(l, "ffn_down.weight"), c.d_ff, c.d_model));
  }
  return w;
}

}  // namespace r1
