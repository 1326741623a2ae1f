#include "tiny_model.h"

#include <atomic>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>

#include "doctest/doctest.h"
#include "gguf/gguf_reader.h"
#include "gguf/gguf_writer.h"
#include "quant/quant_kernels.h"
#include "r1/ops/reference.h"
#include "r1/quant/reference.h"
#include "support/test_util.h"

namespace r1::test {

std::string WriteTinyModel(const TinyModelSpec& s) {
  GgufWriter w;
  const std::string a = s.arch;
  const int64_t n_rot = s.n_rot ? s.n_rot : s.head_dim;
  REQUIRE(w.SetString("general.architecture", a).ok());
  REQUIRE(w.SetUint32(a + ".context_length", 1024).ok());
  REQUIRE(w.SetUint32(a + ".embedding_length", uint32_t(s.d_model)).ok());
  REQUIRE(w.SetUint32(a + ".block_count", uint32_t(s.n_layers)).ok());
  REQUIRE(w.SetUint32(a + ".feed_forward_length", uint32_t(s.d_ff)).ok());
  REQUIRE(w.SetUint32(a + ".attention.head_count", uint32_t(s.n_heads)).ok());
  REQUIRE(w.SetUint32(a + ".attention.head_count_kv", uint32_t(s.n_kv_heads)).ok());
  REQUIRE(w.SetUint32(a + ".attention.key_length", uint32_t(s.head_dim)).ok());
  REQUIRE(w.SetUint32(a + ".attention.value_length", uint32_t(s.head_dim)).ok());
  REQUIRE(w.SetUint32(a + ".rope.dimension_count", uint32_t(n_rot)).ok());
  REQUIRE(w.SetFloat32(a + ".rope.freq_base", s.rope_base).ok());
  REQUIRE(w.SetFloat32(a + ".attention.layer_norm_rms_epsilon", 1e-6f).ok());
  if (s.rope_linear_factor > 0) {
    REQUIRE(w.SetString(a + ".rope.scaling.type", "linear").ok());
    REQUIRE(w.SetFloat32(a + ".rope.scaling.factor", s.rope_linear_factor).ok());
  }
  const uint64_t d = uint64_t(s.d_model), q = uint64_t(s.n_heads * s.head_dim), kv = uint64_t(s.n_kv_heads * s.head_dim);
  const DType m = s.matrix_type;
  uint64_t seed = s.seed * 1000;
  AddRandomTensor(w, "token_embd.weight", {d, uint64_t(s.n_vocab)}, m, ++seed, 1.0f);
  AddRandomTensor(w, "output_norm.weight", {d}, DType::kF32, ++seed, 0.2f, 1.0f);
  if (!s.tied) AddRandomTensor(w, "output.weight", {d, uint64_t(s.n_vocab)}, m, ++seed);
  if (s.rope_freq_factors) AddRandomTensor(w, "rope_freqs.weight", {uint64_t(n_rot / 2)}, DType::kF32, ++seed, 3.0f, 4.0f);
  for (int64_t l = 0; l < s.n_layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    AddRandomTensor(w, p + "attn_norm.weight", {d}, DType::kF32, ++seed, 0.2f, 1.0f);
    AddRandomTensor(w, p + "attn_q.weight", {d, q}, m, ++seed, 0.3f);
    AddRandomTensor(w, p + "attn_k.weight", {d, kv}, m, ++seed, 0.3f);
    AddRandomTensor(w, p + "attn_v.weight", {d, kv}, m, ++seed);
    if (s.qkv_bias) {
      AddRandomTensor(w, p + "attn_q.bias", {q}, DType::kF32, ++seed);
      AddRandomTensor(w, p + "attn_k.bias", {kv}, DType::kF32, ++seed);
      AddRandomTensor(w, p + "attn_v.bias", {kv}, DType::kF32, ++seed);
    }
    if (a == "qwen3") {
      AddRandomTensor(w, p + "attn_q_norm.weight", {uint64_t(s.head_dim)}, DType::kF32, ++seed, 0.5f, 1.0f);
      AddRandomTensor(w, p + "attn_k_norm.weight", {uint64_t(s.head_dim)}, DType::kF32, ++seed, 0.5f, 1.0f);
    }
    AddRandomTensor(w, p + "attn_output.weight", {q, d}, m, ++seed);
    AddRandomTensor(w, p + "ffn_norm.weight", {d}, DType::kF32, ++seed, 0.2f, 1.0f);
    AddRandomTensor(w, p + "ffn_gate.weight", {d, uint64_t(s.d_ff)}, m, ++seed);
    AddRandomTensor(w, p + "ffn_up.weight", {d, uint64_t(s.d_ff)}, m, ++seed);
    AddRandomTensor(w, p + "ffn_down.weight", {uint64_t(s.d_ff), d}, m, ++seed);
  }
  static std::atomic<int> counter{0};
  const auto path = std::filesystem::temp_directory_path() /
                    ("r1-tiny-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".gguf");
  REQUIRE(w.WriteToFile(path.string()).ok());
  return path.string();
}

namespace {

// A tensor of the file as f32, row-major as stored.
std::vector<float> Load(const GgufFile& f, const std::string& name) {
  const GgufTensorInfo* t = f.FindTensor(name);
  if (t == nullptr) return {};
  const QuantKernels* k = GetQuantKernels(Isa::kScalar, t->type);
  std::vector<float> out(t->n_elements);
  const uint64_t rows = t->n_elements / t->ne[0], row_bytes = t->n_bytes / rows;
  for (uint64_t r = 0; r < rows; ++r) k->to_float(t->data + r * row_bytes, out.data() + r * t->ne[0], t->ne[0]);
  return out;
}

// Rounds activations the way a product with a weight of `type` sees them: converted to the
// type's vec_dot_type (8-bit blocks, f16, bf16) and back.
std::vector<float> AsSeenBy(DType type, const std::vector<float>& x, size_t n_in) {
  const DType vt = *quant::ref::VecDotType(type);
  if (vt == DType::kF32) return x;
  std::vector<float> out(x.size());
  std::vector<uint8_t> row(*RowBytes(vt, n_in));
  for (size_t r = 0; r < x.size() / n_in; ++r) {
    REQUIRE(quant::ref::QuantizeRow(vt, &x[r * n_in], row.data(), int64_t(n_in)));
    REQUIRE(quant::ref::DequantizeRow(vt, row.data(), &out[r * n_in], int64_t(n_in)));
  }
  return out;
}

// y[t] = W x[t] (+ b): W stored [n_out][n_in] as `type`.
std::vector<float> Linear(const GgufFile& f, const std::string& name, const std::vector<float>& b,
                          const std::vector<float>& x_f32, size_t n_tokens, size_t n_in, size_t n_out) {
  const std::vector<float> W = Load(f, name);
  const std::vector<float> x = AsSeenBy(f.FindTensor(name)->type, x_f32, n_in);
  std::vector<float> y(n_tokens * n_out);
  for (size_t t = 0; t < n_tokens; ++t) {
    for (size_t o = 0; o < n_out; ++o) {
      y[t * n_out + o] = ref::Dot(&W[o * n_in], &x[t * n_in], n_in) + (b.empty() ? 0.0f : b[o]);
    }
  }
  return y;
}

}  // namespace

std::vector<float> ReferenceForward(const std::string& path, const std::vector<int32_t>& tokens) {
  auto file = GgufFile::Open(path);
  REQUIRE(file.ok());
  const GgufFile& f = **file;
  const std::string a = std::string(*f.GetString("general.architecture"));
  auto I = [&](const std::string& k) { return size_t(*f.GetInt(a + "." + k)); };
  const size_t d = I("embedding_length"), n_layers = I("block_count"), d_ff = I("feed_forward_length");
  const size_t n_heads = I("attention.head_count"), n_kv = I("attention.head_count_kv");
  const size_t hd = I("attention.key_length"), n_rot = I("rope.dimension_count");
  const float base = float(*f.GetFloat(a + ".rope.freq_base"));
  const float eps = float(*f.GetFloat(a + ".attention.layer_norm_rms_epsilon"));
  const float freq_scale = f.Has(a + ".rope.scaling.factor") ? float(1.0 / *f.GetFloat(a + ".rope.scaling.factor")) : 1.0f;
  const bool neox = a == "qwen2" || a == "qwen3";
  const auto embd = Load(f, "token_embd.weight");
  const std::string out_name = f.FindTensor("output.weight") ? "output.weight" : "token_embd.weight";
  const size_t n_vocab = embd.size() / d, T = tokens.size(), q_dim = n_heads * hd, kv_dim = n_kv * hd;
  const auto factors = Load(f, "rope_freqs.weight");

  std::vector<float> x(T * d), h(T * d);
  for (size_t t = 0; t < T; ++t) std::copy_n(&embd[size_t(tokens[t]) * d], d, &x[t * d]);
  auto rope = [&](std::vector<float>& rows, size_t n_h) {
    std::vector<float> cs(n_rot);
    for (size_t t = 0; t < T; ++t) {
      for (size_t i = 0; i < n_rot / 2; ++i) {
        const double freq = std::pow(double(base), -2.0 * double(i) / double(n_rot)) / (factors.empty() ? 1.0 : factors[i]);
        const double angle = double(t) * freq * freq_scale;
        cs[2 * i] = float(std::cos(angle));
        cs[2 * i + 1] = float(std::sin(angle));
      }
      for (size_t hh = 0; hh < n_h; ++hh) ref::Rope(&rows[(t * n_h + hh) * hd], cs.data(), n_rot, neox);
    }
  };
  for (size_t l = 0; l < n_layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    const auto attn_norm = Load(f, p + "attn_norm.weight");
    for (size_t t = 0; t < T; ++t) ref::RmsNorm(&x[t * d], attn_norm.data(), eps, &h[t * d], d);
    auto q = Linear(f, p + "attn_q.weight", Load(f, p + "attn_q.bias"), h, T, d, q_dim);
    auto k = Linear(f, p + "attn_k.weight", Load(f, p + "attn_k.bias"), h, T, d, kv_dim);
    auto v = Linear(f, p + "attn_v.weight", Load(f, p + "attn_v.bias"), h, T, d, kv_dim);
    const auto q_norm = Load(f, p + "attn_q_norm.weight"), k_norm = Load(f, p + "attn_k_norm.weight");
    if (!q_norm.empty()) {  // qwen3: every head normalized before RoPE
      for (size_t r = 0; r < T * n_heads; ++r) ref::RmsNorm(&q[r * hd], q_norm.data(), eps, &q[r * hd], hd);
      for (size_t r = 0; r < T * n_kv; ++r) ref::RmsNorm(&k[r * hd], k_norm.data(), eps, &k[r * hd], hd);
    }
    rope(q, n_heads);
    rope(k, n_kv);
    std::vector<float> att(T * q_dim);
    ref::Attention(q.data(), k.data(), v.data(), att.data(), T, 0, T, n_heads, n_kv, hd, 1.0f / std::sqrt(float(hd)));
    const auto o = Linear(f, p + "attn_output.weight", {}, att, T, q_dim, d);
    ref::Add(x.data(), o.data(), x.data(), x.size());
    const auto ffn_norm = Load(f, p + "ffn_norm.weight");
    for (size_t t = 0; t < T; ++t) ref::RmsNorm(&x[t * d], ffn_norm.data(), eps, &h[t * d], d);
    auto g = Linear(f, p + "ffn_gate.weight", {}, h, T, d, d_ff);
    const auto u = Linear(f, p + "ffn_up.weight", {}, h, T, d, d_ff);
    ref::SiluMul(g.data(), u.data(), g.data(), g.size());
    const auto down = Linear(f, p + "ffn_down.weight", {}, g, T, d_ff, d);
    ref::Add(x.data(), down.data(), x.data(), x.size());
  }
  const auto out_norm = Load(f, "output_norm.weight");
  for (size_t t = 0; t < T; ++t) ref::RmsNorm(&x[t * d], out_norm.data(), eps, &h[t * d], d);
  return Linear(f, out_name, {}, h, T, d, n_vocab);
}

void AddTensorValues(GgufWriter& w, const std::string& name, std::vector<uint64_t> ne, DType type,
                     const std::vector<float>& values) {
  std::vector<uint8_t> bytes(*RowBytes(type, values.size()));
  REQUIRE(quant::ref::QuantizeRow(type, values.data(), bytes.data(), static_cast<int64_t>(values.size())));
  REQUIRE(w.AddTensor(name, type, ne, bytes).ok());
}

void AddRandomTensor(GgufWriter& w, const std::string& name, std::vector<uint64_t> ne, DType type, uint64_t seed,
                     float scale, float offset) {
  uint64_t n = 1;
  for (uint64_t d : ne) n *= d;
  AddTensorValues(w, name, ne, type, RandomFloats(n, seed, offset - scale, offset + scale));
}

}  // namespace r1::test
