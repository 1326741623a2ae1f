// model_tools.cc — quantizing GGUF models, synthetic models, and a read-bandwidth probe.
#include "tools/model_tools.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "gguf/gguf_reader.h"
#include "gguf/gguf_copy.h"
#include "gguf/gguf_split.h"
#include "gguf/gguf_writer.h"
#include "r1/quant/reference.h"
#include "runtime/resource_limits.h"
#include "runtime/thread_pool.h"
#include "tools/output_file.h"

namespace r1::tools {
namespace {

bool IsFloat(DType t) { return t == DType::kF32 || t == DType::kF16 || t == DType::kBF16; }

uint64_t SplitMix64(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Quantizes the rows of a tensor into `out` from f32 rows produced by `row_f32`. `importance`:
// null, or n_mat blocks of n_in column importances, block r / (n_rows / n_mat) for row r.
template <typename RowFn>
void QuantizeRows(ThreadPool& pool, int64_t n_rows, uint64_t n_in, DType type, uint64_t out_row_bytes,
                  uint8_t* out, const RowFn& row_f32, const std::vector<float>* importance = nullptr) {
  const int64_t n_mat = importance ? static_cast<int64_t>(importance->size() / n_in) : 1;
  const int64_t rows_per_mat = n_rows / n_mat;
  const int n_threads = pool.n_threads();
  std::vector<std::vector<float>> bufs(static_cast<size_t>(n_threads), std::vector<float>(n_in));
  pool.ParallelFor(static_cast<size_t>(n_rows), 16, [&](size_t b, size_t e, int t) {
    float* buf = bufs[static_cast<size_t>(t)].data();
    for (size_t r = b; r < e; ++r) {
      row_f32(static_cast<int64_t>(r), buf);
      const float* imp = importance ? importance->data() + static_cast<int64_t>(r) / rows_per_mat * n_in : nullptr;
      quant::ref::QuantizeRow(type, buf, out + r * out_row_bytes, static_cast<int64_t>(n_in), imp);
    }
  });
}

// The importances of tensor t's columns, checked against its shape; null when there are none.
StatusOr<const std::vector<float>*> ImportanceFor(const ImportanceMatrix* m, const GgufTensorInfo& t) {
  if (m == nullptr) return nullptr;
  const auto it = m->columns.find(t.name);
  if (it == m->columns.end()) return nullptr;
  const uint64_t n_in = t.ne[0], n_rows = t.n_elements / n_in, size = it->second.size();
  if (size % n_in != 0 || size / n_in == 0 || n_rows % (size / n_in) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "the importance matrix has %d values for '%s', which has rows of %d: made for another model?", size,
        t.name, n_in));
  }
  return &it->second;
}

}  // namespace

Status QuantizeModel(const std::string& in, const std::string& out, const QuantScheme& scheme,
                     const QuantizeOptions& options) {
  if (options.n_threads != 0) R1_RETURN_IF_ERROR(CheckThreadCount(options.n_threads, "n_threads"));
  R1_ASSIGN_OR_RETURN(GgufModelFiles files, OpenGgufModelFiles(in));
  R1_RETURN_IF_ERROR(CheckOutputPath(out, files.paths, options.overwrite));
  const GgufFile* src = &files.model();
  R1_ASSIGN_OR_RETURN(std::string_view arch, src->GetString("general.architecture"));
  int64_t n_layers = 0;
  const std::string block_key = absl::StrFormat("%s.block_count", arch);
  if (src->Has(block_key)) {
    R1_ASSIGN_OR_RETURN(n_layers, src->GetInt(block_key));
  }
  const bool has_output = src->FindTensor("output.weight") != nullptr;
  int64_t n_gqa = 1;
  const std::string heads_key = absl::StrFormat("%s.attention.head_count", arch);
  const std::string kv_heads_key = absl::StrFormat("%s.attention.head_count_kv", arch);
  if (src->Has(heads_key) && src->Has(kv_heads_key)) {
    R1_ASSIGN_OR_RETURN(const int64_t heads, src->GetInt(heads_key));
    R1_ASSIGN_OR_RETURN(const int64_t kv_heads, src->GetInt(kv_heads_key));
    if (kv_heads > 0) n_gqa = heads / kv_heads;
  }

  int64_t n_experts = 0;
  const std::string experts_key = absl::StrFormat("%s.expert_count", arch);
  if (src->Has(experts_key)) {
    R1_ASSIGN_OR_RETURN(n_experts, src->GetInt(experts_key));
  }

  // Every matrix gets the scheme's type, so general.file_type describes the whole file.
  std::vector<DType> wants;
  int64_t n_requantized = 0;
  size_t first_requantized = 0;
  for (const GgufTensorInfo& t : src->tensors()) {
    DType want = t.type;
    if (t.n_dims >= 2 && (IsFloat(t.type) || Traits(t.type).is_quantized)) {
      want = TypeForTensor(scheme, {t.name, t.n_dims, t.ne[0], n_layers, has_output, n_gqa,
                                    options.importance != nullptr, n_experts});
      if (const TensorTypeOverride* o = FindTensorTypeOverride(options.tensor_types, t.name)) {
        want = FitRow(o->type, t.ne[0]);
      }
      // Checked before any work: at 1-2 bits per weight, rounding blind to the activations
      // leaves a model that only babbles.
      if (want != t.type && RequiresImportance(t.name, want) &&
          (options.importance == nullptr || !options.importance->columns.contains(t.name))) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "'%s' would be %s, which needs an importance matrix%s: make one with r1 imatrix (or llama-imatrix) "
            "and pass it with --imatrix",
            t.name, DTypeName(want), options.importance == nullptr ? "" : " (the one given has no entry for it)"));
      }
    }
    if (want != t.type && Traits(t.type).is_quantized) {
      if (n_requantized++ == 0) first_requantized = wants.size();
    }
    wants.push_back(want);
  }
  if (n_requantized > 0) {
    const GgufTensorInfo& t = src->tensors()[first_requantized];
    const std::string what = absl::StrFormat(
        "'%s' is already quantized (%d tensors would be converted again, e.g. '%s' from %s to %s)", in,
        n_requantized, t.name, DTypeName(t.type), DTypeName(wants[first_requantized]));
    if (!options.allow_requantize) {
      return absl::FailedPreconditionError(
          what + ": requantizing loses quality; quantize the F32/F16/BF16 original instead");
    }
    if (options.on_warning) {
      options.on_warning(what + ": requantizing loses quality compared with quantizing the F32/F16/BF16 original");
    }
  }

  GgufWriter w;
  R1_RETURN_IF_ERROR(w.SetAlignment(static_cast<uint32_t>(src->alignment())));
  for (const GgufKeyValue& kv : src->metadata()) {
    // The output is one file, whatever the input's shards were.
    if (kv.key == "general.alignment" || kv.key.starts_with("split.")) continue;
    R1_RETURN_IF_ERROR(CopyKeyValue(*src, kv, w));
  }
  R1_RETURN_IF_ERROR(w.SetUint32("general.file_type", scheme.file_type));
  if (Traits(scheme.base).is_quantized) {
    R1_RETURN_IF_ERROR(w.SetUint32("general.quantization_version", 2));
  }

  auto pool = std::make_shared<ThreadPool>(options.n_threads > 0 ? options.n_threads
                                                                  : ThreadPool::DefaultThreadCount());
  for (size_t i = 0; i < src->tensors().size(); ++i) {
    const GgufTensorInfo& t = src->tensors()[i];
    const std::vector<uint64_t> ne(t.ne, t.ne + t.n_dims);
    const absl::Span<const uint8_t> bytes(t.data, t.n_bytes);
    const DType want = wants[i];
    if (options.verbose) {
      std::fprintf(stderr, "%-32s %-6s -> %s\n", std::string(t.name).c_str(),
                   std::string(DTypeName(t.type)).c_str(), std::string(DTypeName(want)).c_str());
    }
    if (want == t.type) {
      R1_RETURN_IF_ERROR(w.AddTensorView(t.name, t.type, ne, bytes));
      continue;
    }
    const uint64_t n_in = t.ne[0];
    const int64_t n_rows = static_cast<int64_t>(t.n_elements / n_in);
    const uint64_t in_row = *RowBytes(t.type, n_in);
    const std::optional<uint64_t> out_row = RowBytes(want, n_in);
    if (!out_row) {
      return absl::InvalidArgumentError(absl::StrFormat("tensor '%s': rows of %d elements do not fit %s",
                                                        t.name, n_in, DTypeName(want)));
    }
    const DType from = t.type;
    const uint8_t* data = t.data;
    R1_ASSIGN_OR_RETURN(const std::vector<float>* importance, ImportanceFor(options.importance, t));
    R1_RETURN_IF_ERROR(w.AddTensorFiller(
        t.name, want, ne, [pool, from, want, data, n_in, n_rows, in_row, out_row, importance](absl::Span<uint8_t> o) {
          QuantizeRows(
              *pool, n_rows, n_in, want, *out_row, o.data(),
              [&](int64_t r, float* buf) {
                quant::ref::DequantizeRow(from, data + static_cast<uint64_t>(r) * in_row, buf,
                                          static_cast<int64_t>(n_in));
              },
              importance);
          return absl::OkStatus();
        }));
  }
  return WriteGgufFile(w, out, options.overwrite);
}

namespace {

// The Llama 3 per-frequency rope factors (factor 8, low 1, high 4, original context 8192), as
// the converter writes them into rope_freqs.weight.
std::vector<float> Llama3RopeFactors(int64_t head_dim, float theta) {
  const double factor = 8.0, low_freq_factor = 1.0, high_freq_factor = 4.0, old_ctx = 8192.0;
  const double low_wavelen = old_ctx / low_freq_factor, high_wavelen = old_ctx / high_freq_factor;
  std::vector<float> out;
  for (int64_t i = 0; i < head_dim; i += 2) {
    const double freq = 1.0 / std::pow(static_cast<double>(theta), static_cast<double>(i) / head_dim);
    const double wavelen = 2.0 * M_PI / freq;
    double f;
    if (wavelen < high_wavelen) {
      f = 1.0;
    } else if (wavelen > low_wavelen) {
      f = factor;
    } else {
      const double smooth = (old_ctx / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor);
      f = 1.0 / ((1.0 - smooth) / factor + smooth);
    }
    out.push_back(static_cast<float>(f));
  }
  return out;
}

// GPT-2's byte-to-character map, UTF-8 encoded: the text of byte b's token.
std::string ByteLevelChar(int b) {
  int cp = b;
  const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  if (!printable) {
    int n = 0;
    for (int c = 0; c < b; ++c) {
      if (!((c >= 33 && c <= 126) || (c >= 161 && c <= 172) || (c >= 174 && c <= 255))) ++n;
    }
    cp = 256 + n;
  }
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else {
    s += static_cast<char>(0xc0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3f));
  }
  return s;
}

// One tensor of a synthetic model: a vector (n_out = 0), a matrix, or n_mat matrices (experts
// or heads) of n_out rows.
struct Spec {
  std::string name;
  uint64_t n_in, n_out;
  enum Fill { kOnes, kSmall, kNearOne, kRandom } fill;
  uint64_t n_mat = 1;
};

constexpr int64_t kRepeatedRows = 256;  // distinct rows per matrix of the deepseek2 presets

uint64_t TensorSeed(uint64_t model_seed, uint64_t index) {
  return model_seed * 0x100000001b3ull + index * 0x9e3779b97f4a7c15ull;
}

uint64_t RowSeed(uint64_t tensor_seed, uint64_t row) { return tensor_seed ^ (row * 0xd1b54a32d192ed03ull); }

// For MkModelOptions::successor_seed: source[j] is the ordinary token whose successor is j, so
// row j of the output matrix, the embedding of source[j], scores highest after that token.
std::vector<int32_t> SuccessorSources(int64_t n_normal, uint64_t map_seed, double change, uint64_t change_seed) {
  std::vector<int32_t> next(static_cast<size_t>(n_normal));
  for (int64_t x = 0; x < n_normal; ++x) next[static_cast<size_t>(x)] = static_cast<int32_t>(x);
  uint64_t st = map_seed;
  for (int64_t i = n_normal - 1; i > 0; --i) {
    std::swap(next[static_cast<size_t>(i)], next[SplitMix64(st) % static_cast<uint64_t>(i + 1)]);
  }
  // The changed tokens pass their successors on by one place, so each of them gets another
  // token's and the map stays a permutation.
  std::vector<size_t> changed;
  uint64_t cs = change_seed ^ 0x5851f42d4c957f2dull;
  for (int64_t x = 0; x < n_normal; ++x) {
    if (static_cast<double>(SplitMix64(cs) >> 11) * 0x1.0p-53 < change) changed.push_back(static_cast<size_t>(x));
  }
  if (changed.size() >= 2) {
    const int32_t first = next[changed[0]];
    for (size_t k = 0; k + 1 < changed.size(); ++k) next[changed[k]] = next[changed[k + 1]];
    next[changed.back()] = first;
  }
  std::vector<int32_t> source(static_cast<size_t>(n_normal));
  for (int64_t x = 0; x < n_normal; ++x) source[static_cast<size_t>(next[static_cast<size_t>(x)])] = static_cast<int32_t>(x);
  return source;
}


Status SetMlaMoeKeys(const ModelPreset& p, GgufWriter& w) {
  const MlaMoeShape& m = *p.mla_moe;
  auto u = [&](std::string_view k, int64_t v) { return w.SetUint32(absl::StrFormat("%s.%s", p.arch, k), static_cast<uint32_t>(v)); };
  auto f = [&](std::string_view k, float v) { return w.SetFloat32(absl::StrFormat("%s.%s", p.arch, k), v); };
  R1_RETURN_IF_ERROR(u("leading_dense_block_count", m.n_dense_lead));
  R1_RETURN_IF_ERROR(u("attention.q_lora_rank", m.q_lora_rank));
  R1_RETURN_IF_ERROR(u("attention.kv_lora_rank", m.kv_lora_rank));
  // Keys and values as the absorbed attention sees them (the latent plus the rotary part), and
  // per head as the checkpoint has them.
  R1_RETURN_IF_ERROR(u("attention.key_length", m.kv_lora_rank + m.qk_rope));
  R1_RETURN_IF_ERROR(u("attention.value_length", m.kv_lora_rank));
  R1_RETURN_IF_ERROR(u("attention.key_length_mla", m.qk_nope + m.qk_rope));
  R1_RETURN_IF_ERROR(u("attention.value_length_mla", m.v_head));
  R1_RETURN_IF_ERROR(u("expert_feed_forward_length", m.d_ff_expert));
  R1_RETURN_IF_ERROR(u("expert_count", m.n_experts));
  R1_RETURN_IF_ERROR(u("expert_used_count", m.n_experts_used));
  R1_RETURN_IF_ERROR(u("expert_shared_count", m.n_shared));
  R1_RETURN_IF_ERROR(u("expert_group_count", m.n_groups));
  R1_RETURN_IF_ERROR(u("expert_group_used_count", m.n_groups_used));
  R1_RETURN_IF_ERROR(u("expert_gating_func", 2));  // sigmoid
  R1_RETURN_IF_ERROR(f("expert_weights_scale", m.expert_weights_scale));
  R1_RETURN_IF_ERROR(w.SetBool(absl::StrFormat("%s.expert_weights_norm", p.arch), true));
  R1_RETURN_IF_ERROR(w.SetString(absl::StrFormat("%s.rope.scaling.type", p.arch), "yarn"));
  R1_RETURN_IF_ERROR(f("rope.scaling.factor", m.yarn_factor));
  R1_RETURN_IF_ERROR(u("rope.scaling.original_context_length", m.yarn_original_context));
  R1_RETURN_IF_ERROR(f("rope.scaling.yarn_beta_fast", 32.0f));
  R1_RETURN_IF_ERROR(f("rope.scaling.yarn_beta_slow", 1.0f));
  return f("rope.scaling.yarn_log_multiplier", m.yarn_log_multiplier);
}

// Layer l of a deepseek2 model: MLA attention, then a dense feed-forward (the lead layers) or
// the routed experts beside the shared one.
void AddMlaMoeLayer(const ModelPreset& p, int64_t l, std::vector<Spec>& specs) {
  const MlaMoeShape& m = *p.mla_moe;
  auto blk = [&](std::string_view s) { return absl::StrFormat("blk.%d.%s", l, s); };
  auto u = [](int64_t v) { return static_cast<uint64_t>(v); };
  const uint64_t d = u(p.d_model), h = u(p.n_heads);
  specs.push_back({blk("attn_norm.weight"), d, 0, Spec::kOnes});
  specs.push_back({blk("attn_q_a.weight"), d, u(m.q_lora_rank), Spec::kRandom});
  specs.push_back({blk("attn_q_a_norm.weight"), u(m.q_lora_rank), 0, Spec::kOnes});
  specs.push_back({blk("attn_q_b.weight"), u(m.q_lora_rank), h * u(m.qk_nope + m.qk_rope), Spec::kRandom});
  specs.push_back({blk("attn_kv_a_mqa.weight"), d, u(m.kv_lora_rank + m.qk_rope), Spec::kRandom});
  specs.push_back({blk("attn_kv_a_norm.weight"), u(m.kv_lora_rank), 0, Spec::kOnes});
  specs.push_back({blk("attn_k_b.weight"), u(m.qk_nope), u(m.kv_lora_rank), Spec::kRandom, h});
  specs.push_back({blk("attn_v_b.weight"), u(m.kv_lora_rank), u(m.v_head), Spec::kRandom, h});
  specs.push_back({blk("attn_output.weight"), h * u(m.v_head), d, Spec::kRandom});
  specs.push_back({blk("ffn_norm.weight"), d, 0, Spec::kOnes});
  if (l < m.n_dense_lead) {
    specs.push_back({blk("ffn_gate.weight"), d, u(p.d_ff), Spec::kRandom});
    specs.push_back({blk("ffn_up.weight"), d, u(p.d_ff), Spec::kRandom});
    specs.push_back({blk("ffn_down.weight"), u(p.d_ff), d, Spec::kRandom});
    return;
  }
  const uint64_t fe = u(m.d_ff_expert), ne = u(m.n_experts), fs = fe * u(m.n_shared);
  specs.push_back({blk("ffn_gate_inp.weight"), d, ne, Spec::kRandom});
  specs.push_back({blk("exp_probs_b.bias"), ne, 0, Spec::kSmall});
  specs.push_back({blk("ffn_gate_exps.weight"), d, fe, Spec::kRandom, ne});
  specs.push_back({blk("ffn_up_exps.weight"), d, fe, Spec::kRandom, ne});
  specs.push_back({blk("ffn_down_exps.weight"), fe, d, Spec::kRandom, ne});
  specs.push_back({blk("ffn_gate_shexp.weight"), d, fs, Spec::kRandom});
  specs.push_back({blk("ffn_up_shexp.weight"), d, fs, Spec::kRandom});
  specs.push_back({blk("ffn_down_shexp.weight"), fs, d, Spec::kRandom});
}

}  // namespace

std::optional<ModelPreset> FindPreset(std::string_view name) {
  static const ModelPreset kPresets[] = {
      {"r1-distill-qwen-1.5b", "qwen2", 151936, 1536, 28, 12, 2, 8960, 10000.0f, 1e-6f, true, false, "qwen2"},
      {"r1-distill-qwen-7b", "qwen2", 152064, 3584, 28, 28, 4, 18944, 10000.0f, 1e-6f, true, false, "qwen2"},
      {"r1-distill-llama-8b", "llama", 128256, 4096, 32, 32, 8, 14336, 500000.0f, 1e-5f, false, true,
       "llama-bpe"},
      {"r1-0528-qwen3-8b", "qwen3", 151936, 4096, 36, 32, 8, 12288, 1000000.0f, 1e-6f, false, false, "qwen2"},
      // DeepSeek-R1 / V3: 3 dense lead layers, then 256 routed experts (8 used) and 1 shared.
      {"deepseek-r1-671b", "deepseek2", 129280, 7168, 61, 128, 1, 18432, 10000.0f, 1e-6f, false, false,
       "deepseek-v3", MlaMoeShape{1536, 512, 128, 64, 128, 256, 8, 1, 2048, 3, 8, 4, 2.5f, 40.0f, 0.1f, 4096}},
  };
  for (const ModelPreset& p : kPresets) {
    if (p.name == name) return p;
  }
  return std::nullopt;
}

std::vector<std::string> PresetNames() {
  return {"r1-distill-qwen-1.5b", "r1-distill-qwen-7b", "r1-distill-llama-8b", "r1-0528-qwen3-8b",
          "deepseek-r1-671b"};
}

Status MakeSyntheticModel(const ModelPreset& preset, const QuantScheme& scheme, const std::string& out,
                          const MkModelOptions& options) {
  if (options.n_threads != 0) R1_RETURN_IF_ERROR(CheckThreadCount(options.n_threads, "n_threads"));
  ModelPreset p = preset;
  if (options.n_vocab != 0) {
    if (options.n_vocab < kMinSyntheticVocab || options.n_vocab > kMaxSyntheticVocab) {
      return absl::InvalidArgumentError(
          absl::StrFormat("n_vocab: expected %d to %d tokens, got %d", kMinSyntheticVocab, kMaxSyntheticVocab, options.n_vocab));
    }
    p.n_vocab = options.n_vocab;
  }
  if (options.successor_seed) {
    if (options.tied) return absl::InvalidArgumentError("a successor map needs an output matrix: not with tied embeddings");
    if (p.mla_moe) return absl::InvalidArgumentError("a successor map is for the dense presets, not " + p.name);
  }
  if (!(options.successor_change >= 0.0 && options.successor_change <= 1.0)) {
    return absl::InvalidArgumentError(absl::StrFormat("successor_change: expected 0 to 1, got %g", options.successor_change));
  }
  const int64_t n_layers = options.n_layers > 0 ? options.n_layers : p.n_layers;
  const int64_t head_dim = p.d_model / p.n_heads;
  const int64_t q_dim = p.n_heads * head_dim, kv_dim = p.n_kv_heads * head_dim;
  const std::string& a = p.arch;
  auto key = [&](std::string_view s) { return absl::StrFormat("%s.%s", a, s); };

  GgufWriter w;
  R1_RETURN_IF_ERROR(w.SetString("general.architecture", a));
  R1_RETURN_IF_ERROR(w.SetString("general.name", absl::StrFormat("%s synthetic", p.name)));
  R1_RETURN_IF_ERROR(w.SetUint32("general.file_type", scheme.file_type));
  if (Traits(scheme.base).is_quantized) R1_RETURN_IF_ERROR(w.SetUint32("general.quantization_version", 2));
  R1_RETURN_IF_ERROR(w.SetUint32(key("context_length"), 131072));
  R1_RETURN_IF_ERROR(w.SetUint32(key("embedding_length"), static_cast<uint32_t>(p.d_model)));
  R1_RETURN_IF_ERROR(w.SetUint32(key("block_count"), static_cast<uint32_t>(n_layers)));
  R1_RETURN_IF_ERROR(w.SetUint32(key("feed_forward_length"), static_cast<uint32_t>(p.d_ff)));
  R1_RETURN_IF_ERROR(w.SetUint32(key("attention.head_count"), static_cast<uint32_t>(p.n_heads)));
  R1_RETURN_IF_ERROR(w.SetUint32(key("attention.head_count_kv"), static_cast<uint32_t>(p.n_kv_heads)));
  R1_RETURN_IF_ERROR(w.SetUint32(key("rope.dimension_count"),
                                 static_cast<uint32_t>(p.mla_moe ? p.mla_moe->qk_rope : head_dim)));
  R1_RETURN_IF_ERROR(w.SetFloat32(key("rope.freq_base"), p.rope_theta));
  R1_RETURN_IF_ERROR(w.SetFloat32(key("attention.layer_norm_rms_epsilon"), p.norm_eps));
  R1_RETURN_IF_ERROR(w.SetUint32(key("vocab_size"), static_cast<uint32_t>(p.n_vocab)));
  if (p.mla_moe) R1_RETURN_IF_ERROR(SetMlaMoeKeys(p, w));

  // Vocabulary: the 256 byte tokens, filler tokens, then the R1 control tokens at the end.
  const std::vector<std::string> specials = {"<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>",
                                             "<｜User｜>", "<｜Assistant｜>", "<think>", "</think>"};
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  tokens.reserve(static_cast<size_t>(p.n_vocab));
  for (int b = 0; b < 256; ++b) tokens.push_back(ByteLevelChar(b));
  const int64_t n_normal = p.n_vocab - static_cast<int64_t>(specials.size());
  for (int64_t i = 256; i < n_normal; ++i) tokens.push_back(absl::StrFormat("<f%d>", i));
  types.assign(tokens.size(), 1);
  for (const std::string& s : specials) {
    tokens.push_back(s);
    types.push_back(3);
  }
  R1_RETURN_IF_ERROR(w.SetString("tokenizer.ggml.model", "gpt2"));
  R1_RETURN_IF_ERROR(w.SetString("tokenizer.ggml.pre", p.pre));
  R1_RETURN_IF_ERROR(w.SetStringArray("tokenizer.ggml.tokens", tokens));
  R1_RETURN_IF_ERROR(w.SetArray("tokenizer.ggml.token_type", absl::Span<const int32_t>(types)));
  // No merges (text encodes to byte tokens), but the key is there: llama.cpp refuses a gpt2
  // vocabulary without it, and the point of these files is running both engines on one file.
  R1_RETURN_IF_ERROR(w.SetStringArray("tokenizer.ggml.merges", absl::Span<const std::string>()));
  R1_RETURN_IF_ERROR(w.SetUint32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(n_normal)));
  R1_RETURN_IF_ERROR(w.SetUint32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(n_normal + 1)));
  R1_RETURN_IF_ERROR(w.SetBool("tokenizer.ggml.add_bos_token", true));

  auto pool = std::make_shared<ThreadPool>(options.n_threads > 0 ? options.n_threads
                                                                  : ThreadPool::DefaultThreadCount());
  std::vector<Spec> specs;
  specs.push_back({"token_embd.weight", static_cast<uint64_t>(p.d_model), static_cast<uint64_t>(p.n_vocab), Spec::kRandom});
  for (int64_t l = 0; l < n_layers && p.mla_moe; ++l) AddMlaMoeLayer(p, l, specs);
  for (int64_t l = 0; l < n_layers && !p.mla_moe; ++l) {
    auto blk = [&](std::string_view s) { return absl::StrFormat("blk.%d.%s", l, s); };
    const uint64_t d = static_cast<uint64_t>(p.d_model), f = static_cast<uint64_t>(p.d_ff);
    const uint64_t qd = static_cast<uint64_t>(q_dim), kvd = static_cast<uint64_t>(kv_dim);
    specs.push_back({blk("attn_norm.weight"), d, 0, Spec::kOnes});
    specs.push_back({blk("attn_q.weight"), d, qd, Spec::kRandom});
    specs.push_back({blk("attn_k.weight"), d, kvd, Spec::kRandom});
    specs.push_back({blk("attn_v.weight"), d, kvd, Spec::kRandom});
    if (p.qkv_bias) {
      specs.push_back({blk("attn_q.bias"), qd, 0, Spec::kSmall});
      specs.push_back({blk("attn_k.bias"), kvd, 0, Spec::kSmall});
      specs.push_back({blk("attn_v.bias"), kvd, 0, Spec::kSmall});
    }
    if (a == "qwen3") {  // per-head query and key norms
      specs.push_back({blk("attn_q_norm.weight"), static_cast<uint64_t>(head_dim), 0, Spec::kNearOne});
      specs.push_back({blk("attn_k_norm.weight"), static_cast<uint64_t>(head_dim), 0, Spec::kNearOne});
    }
    specs.push_back({blk("attn_output.weight"), qd, d, Spec::kRandom});
    specs.push_back({blk("ffn_norm.weight"), d, 0, Spec::kOnes});
    specs.push_back({blk("ffn_gate.weight"), d, f, Spec::kRandom});
    specs.push_back({blk("ffn_up.weight"), d, f, Spec::kRandom});
    specs.push_back({blk("ffn_down.weight"), f, d, Spec::kRandom});
  }
  specs.push_back({"output_norm.weight", static_cast<uint64_t>(p.d_model), 0, Spec::kOnes});
  if (!options.tied) {
    specs.push_back({"output.weight", static_cast<uint64_t>(p.d_model), static_cast<uint64_t>(p.n_vocab), Spec::kRandom});
  }

  if (p.llama3_rope) {
    const std::vector<float> factors = Llama3RopeFactors(head_dim, p.rope_theta);
    std::vector<uint8_t> bytes(factors.size() * sizeof(float));
    std::memcpy(bytes.data(), factors.data(), bytes.size());
    const uint64_t ne[1] = {factors.size()};
    R1_RETURN_IF_ERROR(w.AddTensor("rope_freqs.weight", DType::kF32, ne, bytes));
  }

  // The embeddings are the first tensor; a successor map's output rows repeat them.
  const uint64_t embedding_seed = TensorSeed(options.seed, 1);
  std::shared_ptr<const std::vector<int32_t>> successor_sources;
  if (options.successor_seed) {
    successor_sources = std::make_shared<const std::vector<int32_t>>(SuccessorSources(
        n_normal, *options.successor_seed, options.successor_change, options.seed));
  }
  uint64_t index = 0;
  for (const Spec& s : specs) {
    ++index;
    const uint64_t seed = TensorSeed(options.seed, index);
    if (s.n_out == 0) {
      std::vector<uint8_t> bytes(s.n_in * sizeof(float));
      uint64_t st = seed;
      for (uint64_t i = 0; i < s.n_in; ++i) {
        const float noise = 0.1f * (static_cast<float>(SplitMix64(st) >> 40) / 16777216.0f * 2.0f - 1.0f);
        const float v = s.fill == Spec::kOnes ? 1.0f : s.fill == Spec::kNearOne ? 1.0f + 5.0f * noise : noise;
        std::memcpy(bytes.data() + i * sizeof(float), &v, sizeof(float));
      }
      const uint64_t ne[1] = {s.n_in};
      R1_RETURN_IF_ERROR(w.AddTensor(s.name, DType::kF32, ne, bytes));
      continue;
    }
    const int64_t n_gqa = p.n_heads / p.n_kv_heads;
    const int64_t n_experts = p.mla_moe ? p.mla_moe->n_experts : 0;
    const DType type = TypeForTensor(scheme, {s.name, 2, s.n_in, n_layers, !options.tied, n_gqa, false, n_experts});
    const uint64_t row_bytes = *RowBytes(type, s.n_in);
    const std::vector<uint64_t> ne = s.n_mat > 1 ? std::vector<uint64_t>{s.n_in, s.n_out, s.n_mat}
                                                 : std::vector<uint64_t>{s.n_in, s.n_out};
    // Uniform in ±sqrt(3 / n_in): unit-variance outputs for unit-variance inputs.
    float amp = s.name == "token_embd.weight" ? 1.0f : std::sqrt(3.0f / static_cast<float>(s.n_in));
    const bool whisper = absl::EndsWith(s.name, "attn_output.weight") || absl::EndsWith(s.name, "ffn_down.weight");
    if (successor_sources && whisper) amp /= 8.0f;
    std::shared_ptr<const std::vector<int32_t>> sources;
    if (s.name == "output.weight") sources = successor_sources;
    const uint64_t n_in = s.n_in;
    const int64_t n_rows = static_cast<int64_t>(s.n_out * s.n_mat);
    const int64_t n_distinct = p.mla_moe ? std::min<int64_t>(n_rows, kRepeatedRows) : n_rows;
    R1_RETURN_IF_ERROR(w.AddTensorFiller(s.name, type, ne, [pool, type, row_bytes, amp, n_in, n_rows, n_distinct, seed, sources, embedding_seed](absl::Span<uint8_t> o) {
      QuantizeRows(*pool, n_distinct, n_in, type, row_bytes, o.data(), [&](int64_t r, float* buf) {
        const bool from_embedding = sources && r < static_cast<int64_t>(sources->size());
        uint64_t st = from_embedding ? RowSeed(embedding_seed, static_cast<uint64_t>((*sources)[static_cast<size_t>(r)]))
                                     : RowSeed(seed, static_cast<uint64_t>(r));
        for (uint64_t i = 0; i < n_in; ++i) {
          buf[i] = amp * (static_cast<float>(SplitMix64(st) >> 40) / 8388608.0f - 1.0f);
        }
      });
      for (int64_t r = n_distinct; r < n_rows; ++r) {
        std::memcpy(o.data() + r * row_bytes, o.data() + (r % n_distinct) * row_bytes, row_bytes);
      }
      return absl::OkStatus();
    }));
  }
  // mkmodel has always replaced its output; the temporary file keeps a failure from leaving half
  // a model under that name.
  return WriteGgufFile(w, out, /*overwrite=*/true);
}

double MeasureReadBandwidth(int n_threads, uint64_t bytes, int reps) {
  const size_t n = static_cast<size_t>(bytes / sizeof(uint64_t));
  std::unique_ptr<uint64_t[]> buf(new (std::nothrow) uint64_t[n]);
  if (!buf) return 0.0;
  ThreadPool pool(std::max(1, n_threads));
  pool.ParallelFor(n, 4096, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) buf[i] = i * 0x9e3779b97f4a7c15ull;
  });
  std::vector<uint64_t> sinks(static_cast<size_t>(pool.n_threads()), 0);
  double best = 0.0;
  for (int rep = 0; rep < reps; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    pool.ParallelFor(n, 4096, [&](size_t b, size_t e, int t) {
      // Four independent sums so the loads, not the adds, set the pace.
      uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      size_t i = b;
      for (; i + 8 <= e; i += 8) {
        s0 += buf[i] ^ buf[i + 4];
        s1 += buf[i + 1] ^ buf[i + 5];
        s2 += buf[i + 2] ^ buf[i + 6];
        s3 += buf[i + 3] ^ buf[i + 7];
      }
      for (; i < e; ++i) s0 += buf[i];
      sinks[static_cast<size_t>(t)] += s0 + s1 + s2 + s3;
    });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s > 0) best = std::max(best, static_cast<double>(n * sizeof(uint64_t)) / s);
  }
  uint64_t sink = 0;
  for (uint64_t v : sinks) sink += v;
  // Keeps the reads from being optimized away.
  if (sink == 42) std::fprintf(stderr, " ");
  return best;
}

}  // namespace r1::tools
