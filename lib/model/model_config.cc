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

// MLA and mixture-of-experts hyper-parameters of "deepseek2" files. Files converted for MLA
// carry the per-head lengths in key_length_mla / value_length_mla (key_length then is the
// latent-plus-rope width); older files carry them in key_length / value_length.
Status ReadDeepseek2(const GgufFile& gguf, const KeyReader& k, ModelConfig& c) {
  R1_ASSIGN_OR_RETURN(c.q_lora_rank, k.IntOr("attention.q_lora_rank", 0, 0, kMaxDim));
  R1_ASSIGN_OR_RETURN(c.kv_lora_rank, k.Int("attention.kv_lora_rank", 1, kMaxDim));
  int64_t key_length = 0, value_length = 0;
  if (gguf.Has(k.Key("attention.key_length_mla"))) {
    R1_ASSIGN_OR_RETURN(key_length, k.Int("attention.key_length_mla", 2, kMaxDim));
  } else {
    R1_ASSIGN_OR_RETURN(key_length, k.Int("attention.key_length", 2, kMaxDim));
  }
  if (gguf.Has(k.Key("attention.value_length_mla"))) {
    R1_ASSIGN_OR_RETURN(value_length, k.Int("attention.value_length_mla", 1, kMaxDim));
  } else {
    R1_ASSIGN_OR_RETURN(value_length, k.Int("attention.value_length", 1, kMaxDim));
  }
  R1_ASSIGN_OR_RETURN(c.n_rot, k.Int("rope.dimension_count", 2, key_length - 1));
  c.head_dim = key_length;
  c.qk_nope_dim = key_length - c.n_rot;
  c.v_head_dim = value_length;
  // MLA keeps every head (the latent is shared, not the heads).
  c.n_kv_heads = c.n_heads;
  if (c.n_heads * (c.kv_lora_rank + c.n_rot) > kMaxDim || c.n_heads * c.head_dim > kMaxDim ||
      c.n_heads * c.v_head_dim > kMaxDim) {
    return Invalid("attention width is implausibly large");
  }

  R1_ASSIGN_OR_RETURN(c.n_dense_lead, k.IntOr("leading_dense_block_count", 0, 0, c.n_layers));
  R1_ASSIGN_OR_RETURN(c.n_experts, k.IntOr("expert_count", 0, 0, 65536));
  if (c.n_dense_lead < c.n_layers) {
    if (c.n_experts < 1) return Invalid("deepseek2 MoE layers need expert_count >= 1");
    R1_ASSIGN_OR_RETURN(c.n_experts_used, k.Int("expert_used_count", 1, c.n_experts));
    R1_ASSIGN_OR_RETURN(c.n_experts_shared, k.IntOr("expert_shared_count", 0, 0, 1024));
    R1_ASSIGN_OR_RETURN(c.d_ff_expert, k.Int("expert_feed_forward_length", 1, kMaxDim));
    if (c.n_experts_shared * c.d_ff_expert > kMaxDim) return Invalid("shared expert width is implausibly large");
    R1_ASSIGN_OR_RETURN(c.n_expert_groups, k.IntOr("expert_group_count", 0, 0, c.n_experts));
    if (c.n_expert_groups > 1) {
      if (c.n_experts % c.n_expert_groups != 0 || c.n_experts / c.n_expert_groups < 2) {
        return Invalid(absl::StrFormat("%d experts cannot form %d groups of two or more", c.n_experts,
                                       c.n_expert_groups));
      }
      R1_ASSIGN_OR_RETURN(c.n_expert_groups_used, k.Int("expert_group_used_count", 1, c.n_expert_groups));
      if (c.n_expert_groups_used * (c.n_experts / c.n_expert_groups) < c.n_experts_used) {
        return Invalid("the used expert groups hold fewer experts than are used per token");
      }
    }
    R1_ASSIGN_OR_RETURN(int64_t gating, k.IntOr("expert_gating_func", 0, 0, 3));
    c.expert_gating = gating == 0 ? ModelConfig::ExpertGating::kSoftmax : static_cast<ModelConfig::ExpertGating>(gating);
    if (gguf.Has(k.Key("expert_weights_norm"))) {
      R1_ASSIGN_OR_RETURN(c.expert_weights_norm, gguf.GetBool(k.Key("expert_weights_norm")));
    }
    R1_ASSIGN_OR_RETURN(double scale, k.FloatOr("expert_weights_scale", 1.0));
    // 0 means unset: the weights are not scaled.
    if (!(scale >= 0.0 && scale < 1e6)) return Invalid("expert_weights_scale out of range [0, 1e6)");
    c.expert_weights_scale = static_cast<float>(scale);
  }
  return absl::OkStatus();
}

// The YaRN and attention-magnitude terms, computed as llama.cpp does in f32: the rotary
// cos/sin carry attn_factor times (1 + 0.1 ln(1/freq_scale)) and the q·k scale carries the
// square of mscale = that product times (1 + 0.1 log_mul ln(1/freq_scale)).
Status ReadYarn(const KeyReader& k, ModelConfig& c) {
  R1_ASSIGN_OR_RETURN(double log_mul, k.FloatOr("rope.scaling.yarn_log_multiplier", 0.0));
  R1_ASSIGN_OR_RETURN(double beta_fast, k.FloatOr("rope.scaling.yarn_beta_fast", 32.0));
  R1_ASSIGN_OR_RETURN(double beta_slow, k.FloatOr("rope.scaling.yarn_beta_slow", 1.0));
  R1_ASSIGN_OR_RETURN(double rope_attn_factor, k.FloatOr("rope.scaling.attn_factor", 1.0));
  R1_ASSIGN_OR_RETURN(c.yarn_n_ctx_orig, k.IntOr("rope.scaling.original_context_length", c.n_ctx_train, 1,
                                                 int64_t{1} << 24));
  if (std::fabs(log_mul) > 1e3 || !(beta_fast > 0.0 && beta_fast < 1e6) || !(beta_slow > 0.0 && beta_slow < 1e6) ||
      !(rope_attn_factor > 0.0 && rope_attn_factor < 1e3)) {
    return Invalid("yarn parameters out of range");
  }
  // Converters store 0.1 * mscale_all_dim; the factor is taken back out.
  c.yarn_log_mul = static_cast<float>(log_mul) / 0.1f;
  c.yarn_beta_fast = static_cast<float>(beta_fast);
  c.yarn_beta_slow = static_cast<float>(beta_slow);
  float attn_factor = 1.0f;
  const float freq_scale = c.rope_freq_scale;
  if (c.yarn_ext_factor != 0.0f) {
    const auto get_mscale = [](float scale, float m) { return scale <= 1.0f ? 1.0f : 0.1f * m * std::log(scale) + 1.0f; };
    const float factor = 1.0f / freq_scale;
    if (c.yarn_log_mul != 0.0f) {
      float mscale = 1.0f;
      const float mscale_all_dims = c.yarn_log_mul;
      if (mscale_all_dims != 1.0f) mscale = mscale_all_dims;  // DeepSeek-V2's config
      attn_factor = get_mscale(factor, mscale) / get_mscale(factor, mscale_all_dims);
    } else {
      attn_factor = get_mscale(factor, 1.0f);
    }
    // The rope kernel multiplies by (1 + 0.1 ln(1/freq_scale)) again when YaRN is on.
    attn_factor *= 1.0f / (1.0f + 0.1f * std::log(factor));
  }
  attn_factor *= static_cast<float>(rope_attn_factor);
  c.yarn_attn_factor = attn_factor;
  const float attn_factor_org = attn_factor * (1.0f + 0.1f * std::log(1.0f / freq_scale));
  const float mscale = attn_factor_org * (1.0f + 0.1f * c.yarn_log_mul * std::log(1.0f / freq_scale));
  c.attn_scale = mscale * mscale / std::sqrt(static_cast<float>(c.head_dim));
  if (!std::isfinite(c.attn_scale) || !std::isfinite(c.yarn_attn_factor)) return Invalid("yarn scale is not finite");
  return absl::OkStatus();
}

}  // namespace

StatusOr<ModelConfig> ReadModelConfig(const GgufFile& gguf) {
  ModelConfig c;
  R1_ASSIGN_OR_RETURN(std::string_view arch, gguf.GetString("general.architecture"));
  c.architecture = std::string(arch);
  if (c.architecture == "llama") {
    c.rope_ordering = RopeOrdering::kNormal;
  } else if (c.architecture == "qwen2") {
    c.rope_ordering = RopeOrdering::kNeox;
  } else if (c.architecture == "qwen3") {  // Qwen2 with per-head query/key norms, no biases
    c.rope_ordering = RopeOrdering::kNeox;
    c.has_qk_norm = true;
  } else if (c.architecture == "deepseek2") {
    c.rope_ordering = RopeOrdering::kNormal;
  } else {
    return absl::UnimplementedError(absl::StrFormat(
        "architecture '%s' is not supported (r1 runs llama, qwen2, qwen3 and deepseek2)", c.architecture));
  }
  if (gguf.Has("general.name")) {
    R1_ASSIGN_OR_RETURN(std::string_view name, gguf.GetString("general.name"));
    c.name = std::string(name);
  }

  const KeyReader k(gguf, c.architecture);
  R1_ASSIGN_OR_RETURN(c.d_model, k.Int("embedding_length", 1, kMaxDim));
  R1_ASSIGN_OR_RETURN(c.n_layers, k.Int("block_count", 1, kMaxLayers));
  // block_count includes the trailing MTP blocks; the model's own layers come before them.
  R1_ASSIGN_OR_RETURN(c.n_nextn_layers, k.IntOr("nextn_predict_layers", 0, 0, c.n_layers - 1));
  c.n_layers -= c.n_nextn_layers;
  R1_ASSIGN_OR_RETURN(c.d_ff, k.Int("feed_forward_length", 1, kMaxDim));
  R1_ASSIGN_OR_RETURN(c.n_heads, k.Int("attention.head_count", 1, kMaxDim));
  R1_ASSIGN_OR_RETURN(c.n_kv_heads, k.IntOr("attention.head_count_kv", c.n_heads, 1, c.n_heads));
  R1_ASSIGN_OR_RETURN(c.n_ctx_train, k.IntOr("context_length", 2048, 1, int64_t{1} << 24));
  if (c.n_heads % c.n_kv_heads != 0) {
    return Invalid(absl::StrFormat("%d attention heads cannot be grouped over %d KV heads", c.n_heads,
                                   c.n_kv_heads));
  }
  const bool deepseek2 = c.architecture == "deepseek2";
  if (deepseek2) {
    R1_RETURN_IF_ERROR(ReadDeepseek2(gguf, k, c));
  } else {
    R1_ASSIGN_OR_RETURN(c.head_dim, k.IntOr("attention.key_length", c.d_model / c.n_heads, 1, kMaxDim));
    R1_ASSIGN_OR_RETURN(int64_t value_length, k.IntOr("attention.value_length", c.head_dim, 1, kMaxDim));
    if (value_length != c.head_dim) {
      return absl::UnimplementedError(absl::StrFormat(
          "key length %d differs from value length %d", c.head_dim, value_length));
    }
    if (c.head_dim * c.n_heads > kMaxDim) return Invalid("attention width is implausibly large");
    R1_ASSIGN_OR_RETURN(c.n_rot, k.IntOr("rope.dimension_count", c.head_dim, 0, c.head_dim));
  }
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
  } else if (scaling == "yarn" && deepseek2) {
    if (!(factor > 0.0 && factor < 1e6)) return Invalid("yarn rope scaling needs a rope.scaling.factor in (0, 1e6)");
    c.rope_freq_scale = 1.0f / static_cast<float>(factor);
    c.rope_yarn = true;
    c.yarn_ext_factor = 1.0f;
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
  if (deepseek2) R1_RETURN_IF_ERROR(ReadYarn(k, c));
  c.has_rope_freq_factors = gguf.FindTensor("rope_freqs.weight") != nullptr;
  c.tied_embeddings = gguf.FindTensor("output.weight") == nullptr;
  c.has_qkv_bias = gguf.FindTensor("blk.0.attn_q.bias") != nullptr;
  return c;
}

}  // namespace r1
