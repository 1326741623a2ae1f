// model_config.cc — metadata keys → ModelConfig.
#include "model/model_config.h"

#include <cmath>

#include "absl/strings/str_format.h"

namespace r1 {
namespace {

// Upper bounds far above any real model; they keep products of dimensions inside int64.
constexpr int64_t kMaxDim = int64_t{1} << 20;
constexpr int64_t kMaxLayers = 4096;
constexpr int64_t kMaxVocab = int64_t{1} << 24;

class KeyReader {
 public:
  KeyReader(const GgufFile& gguf, std::string arch) : gguf_(gguf), arch_(std::move(arch)) {}

  std::string Key(std::string_view suffix) const { return absl::StrFormat("%s.%s", arch_, suffix); }

  StatusOr<int64_t> Int(std::string_view suffix, int64_t lo, int64_t hi) const {
    R1_ASSIGN_OR_RETURN(int64_t v, gguf_.GetInt(Key(suffix)));
    return Checked(suffix, v, lo, hi);
  }
  StatusOr<int64_t> IntOr(std::string_view suffix, int64_t fallback, int64_t lo, int64_t hi) const {
    if (!gguf_.Has(Key(suffix))) return fallback;
    return Int(suffix, lo, hi);
  }
  StatusOr<double> FloatOr(std::string_view suffix, double fallback) const {
    if (!gguf_.Has(Key(suffix))) return fallback;
    R1_ASSIGN_OR_RETURN(double v, gguf_.GetFloat(Key(suffix)));
    if (!std::isfinite(v)) {
      return absl::InvalidArgumentError(absl::StrFormat("metadata '%s' is not finite", Key(suffix)));
    }
    return v;
  }
  StatusOr<int64_t> Checked(std::string_view suffix, int64_t v, int64_t lo, int64_t hi) const {
    if (v < lo || v > hi) {
      return absl::InvalidArgumentError(
          absl::StrFormat("metadata '%s' = %d is out of range [%d, %d]", Key(suffix), v, lo, hi));
    }
    return v;
  }

 private:
  const GgufFile& gguf_;
  std::string arch_;
};

Status Invalid(const std::string& msg) { return absl::InvalidArgumentError(msg); }

}  // namespace

StatusOr<ModelConfig> ReadModelConfig(const GgufFile& gguf) {
  ModelConfig c;
  R1_ASSIGN_OR_RETURN(std::string_view arch, gguf.GetString("general.architecture"));
  c.architecture = std::string(arch);
  if (c.architecture == "llama") {
    c.rope_ordering = RopeOrdering::kNormal;
  } else if (c.architecture == "qwen2") {
    c.rope_ordering = RopeOrdering::kNeox;
  } else {
    return absl::UnimplementedError(
        absl::StrFormat("architecture '%s' is not supported (r1 runs llama and qwen2)", c.architecture));
  }
  if (gguf.Has("general.name")) {
    R1_ASSIGN_OR_RETURN(std::string_view name, gguf.GetString("general.name"));
    c.name = std::string(name);
  }

  const KeyReader k(gguf, c.architecture);
  R1_ASSIGN_OR_RETURN(c.d_model, k.Int("embedding_length", 1, kMaxDim));
  R1_ASSIGN_OR_RETURN(c.n_layers, k.Int("block_count", 1, kMaxLayers));
  R1_ASSIGN_OR_RETURN(c.d_ff, k.Int("feed_forward_length", 1, kMaxDim));
  R1_ASSIGN_OR_RETURN(c.n_heads, k.Int("attention.head_count", 1, kMaxDim));
  R1_ASSIGN_OR_RETURN(c.n_kv_heads, k.IntOr("attention.head_count_kv", c.n_heads, 1, c.n_heads));
  R1_ASSIGN_OR_RETURN(c.n_ctx_train, k.IntOr("context_length", 2048, 1, int64_t{1} << 24));
  if (c.n_heads % c.n_kv_heads != 0) {
    return Invalid(absl::StrFormat("%d attention heads cannot be grouped over %d KV heads", c.n_heads,
                                   c.n_kv_heads));
  }
  R1_ASSIGN_OR_RETURN(c.head_dim, k.IntOr("attention.key_length", c.d_model / c.n_heads, 1, kMaxDim));
  R1_ASSIGN_OR_RETURN(int64_t value_length, k.IntOr("attention.value_length", c.head_dim, 1, kMaxDim));
  if (value_length != c.head_dim) {
    return absl::UnimplementedError(absl::StrFormat(
        "key length %d differs from value length %d", c.head_dim, value_length));
  }
  if (c.head_dim * c.n_heads > kMaxDim) return Invalid("attention width is implausibly large");
  R1_ASSIGN_OR_RETURN(c.n_rot, k.IntOr("rope.dimension_count", c.head_dim, 0, c.head_dim));
  if (c.n_rot % 2 != 0) return Invalid(absl::StrFormat("rope dimension count %d is odd", c.n_rot));

  R1_ASSIGN_OR_RETURN(double eps, k.FloatOr("attention.layer_norm_rms_epsilon", 1e-5));
  if (!(eps > 0.0 && eps < 1.0)) return Invalid("RMSNorm epsilon out of range (0, 1)");
  c.norm_eps = static_cast<float>(eps);

  R1_ASSIGN_OR_RETURN(double base, k.FloatOr("rope.freq_base", 10000.0));
  if (!(base > 1.0)) return Invalid("rope.freq_base must be > 1");
  c.rope_freq_base = static_cast<float>(base);

  std::string scaling = "none";
  if (gguf.Has(k.Key("rope.scaling.type"))) {
    R1_ASSIGN_OR_RETURN(std::string_view s, gguf.GetString(k.Key("rope.scaling.type")));
    scaling = std::string(s);
  }
  R1_ASSIGN_OR_RETURN(double factor, k.FloatOr("rope.scaling.factor", 0.0));
  if (factor == 0.0) {
    R1_ASSIGN_OR_RETURN(factor, k.FloatOr("rope.scale_linear", 0.0));  // older files
    if (factor != 0.0 && scaling == "none") scaling = "linear";
  }
  if (scaling == "linear") {
    if (!(factor > 0.0)) return Invalid("linear rope scaling needs a positive rope.scaling.factor");
    c.rope_freq_scale = static_cast<float>(1.0 / factor);
  } else if (scaling != "none") {
    return absl::UnimplementedError(
        absl::StrFormat("rope scaling '%s' is not supported for %s", scaling, c.architecture));
  }

  if (gguf.Has(k.Key("vocab_size"))) {
    R1_ASSIGN_OR_RETURN(c.n_vocab, k.Int("vocab_size", 1, kMaxVocab));
  } else if (const GgufTensorInfo* embd = gguf.FindTensor("token_embd.weight")) {
    R1_ASSIGN_OR_RETURN(c.n_vocab, k.Checked("vocab_size", static_cast<int64_t>(embd->ne[1]), 1, kMaxVocab));
  } else {
    return absl::NotFoundError("model has no token_embd.weight tensor");
  }
  c.has_rope_freq_factors = gguf.FindTensor("rope_freqs.weight") != nullptr;
  c.tied_embeddings = gguf.FindTensor("output.weight") == nullptr;
  c.has_qkv_bias = gguf.FindTensor("blk.0.attn_q.bias") != nullptr;
  return c;
}

}  // namespace r1
