// r1 info MODEL — architecture, hyper-parameters, tensors by type, sizes.
#include <cstdio>
#include <map>
#include <string>

#include "cli_args.h"
#include "command_table.h"
#include "commands.h"
#include "r1/model.h"

namespace r1::cli {

int RunInfo(int argc, char** argv) {
  const Args args(argc, argv, *FindCommand("info"));
  if (!args.error().empty()) return Usage("info", args.error());
  if (args.positional().size() != 1) return Usage("info", "expected one MODEL path");
  auto model = Model::Load(args.positional()[0]);
  if (!model.ok()) return Fail("info", model.status());
  const ModelConfig& c = (*model)->config();

  const std::vector<std::string>& files = (*model)->file_paths();
  if (files.size() == 1) {
    std::printf("file: %s\n", files[0].c_str());
  } else {
    std::printf("files: %zu shards, %.1f MiB\n", files.size(), static_cast<double>((*model)->file_bytes()) / (1 << 20));
    for (const std::string& f : files) std::printf("  %s\n", f.c_str());
  }
  std::printf("architecture: %s\n", c.architecture.c_str());
  if (!c.name.empty()) std::printf("name: %s\n", c.name.c_str());
  std::printf("vocabulary: %lld\n", static_cast<long long>(c.n_vocab));
  std::printf("context length (trained): %lld\n", static_cast<long long>(c.n_ctx_train));
  std::printf("embedding length: %lld\n", static_cast<long long>(c.d_model));
  std::printf("layers: %lld\n", static_cast<long long>(c.n_layers));
  if (c.n_nextn_layers > 0) {
    const Status usable = (*model)->NextnDraftStatus();
    std::printf("multi-token prediction (nextn) blocks: %lld, %s\n", static_cast<long long>(c.n_nextn_layers),
                usable.ok() ? "the first drafts with --draft-nextn" : std::string(usable.message()).c_str());
  }
  std::printf("attention heads: %lld (KV heads: %lld, head dim: %lld)\n", static_cast<long long>(c.n_heads),
              static_cast<long long>(c.n_kv_heads), static_cast<long long>(c.head_dim));
  std::printf("feed-forward length: %lld\n", static_cast<long long>(c.d_ff));
  std::printf("RMSNorm epsilon: %g\n", c.norm_eps);
  std::printf("rope: %s, %lld dims, base %g, scale %g%s\n", c.rope_ordering == RopeOrdering::kNeox ? "neox" : "normal",
              static_cast<long long>(c.n_rot), c.rope_freq_base, c.rope_freq_scale,
              c.has_rope_freq_factors ? ", per-frequency factors" : "");
  if (c.rope_yarn) {
    std::printf("rope scaling: yarn, factor %g, original context %lld, beta fast %g / slow %g, mscale_all_dim %g\n",
                1.0 / c.rope_freq_scale, static_cast<long long>(c.yarn_n_ctx_orig), c.yarn_beta_fast,
                c.yarn_beta_slow, c.yarn_log_mul);
  }
  if (c.kv_lora_rank > 0) {
    std::printf("attention: multi-head latent (MLA), q rank %s, kv rank %lld\n",
                c.q_lora_rank > 0 ? std::to_string(c.q_lora_rank).c_str() : "none (plain attn_q)",
                static_cast<long long>(c.kv_lora_rank));
    std::printf("  per head: key %lld (no-rope %lld + rope %lld), value %lld; q.k scale %g\n",
                static_cast<long long>(c.head_dim), static_cast<long long>(c.qk_nope_dim),
                static_cast<long long>(c.n_rot), static_cast<long long>(c.v_head_dim), c.attn_scale);
    std::printf("  KV cache per token and layer: %lld values (latent %lld + rope %lld)\n",
                static_cast<long long>(c.kv_lora_rank + c.n_rot), static_cast<long long>(c.kv_lora_rank),
                static_cast<long long>(c.n_rot));
  }
  if (c.n_experts > 0) {
    static const char* const kGating[] = {"softmax", "softmax", "sigmoid", "softmax over the selected"};
    std::printf("mixture of experts: %lld experts, %lld used per token, %lld shared, expert length %lld\n",
                static_cast<long long>(c.n_experts), static_cast<long long>(c.n_experts_used),
                static_cast<long long>(c.n_experts_shared), static_cast<long long>(c.d_ff_expert));
    std::printf("  leading dense layers: %lld; gating: %s; weights %s, scale %g\n",
                static_cast<long long>(c.n_dense_lead), kGating[static_cast<int>(c.expert_gating) & 3],
                c.expert_weights_norm ? "normalized" : "not normalized", c.expert_weights_scale);
    if (c.n_expert_groups > 1) {
      std::printf("  expert groups: %lld, %lld used per token\n", static_cast<long long>(c.n_expert_groups),
                  static_cast<long long>(c.n_expert_groups_used));
    }
  }
  std::printf("output: %s\n", c.tied_embeddings ? "tied to token embeddings" : "separate");
  std::printf("q/k/v biases: %s\n", c.has_qkv_bias ? "yes" : "no");

  const auto tensors = (*model)->Tensors();
  std::map<std::string_view, std::pair<int, uint64_t>> by_type;
  for (const TensorSummary& t : tensors) {
    auto& [count, bytes] = by_type[DTypeName(t.type)];
    ++count;
    bytes += t.n_bytes;
  }
  std::printf("tensors: %zu\n", tensors.size());
  for (const auto& [type, cb] : by_type) {
    std::printf("  %-5.*s %4d tensors, %.2f MiB\n", static_cast<int>(type.size()), type.data(), cb.first,
                static_cast<double>(cb.second) / (1 << 20));
  }
  std::printf("file size: %.2f MiB\n", static_cast<double>((*model)->file_bytes()) / (1 << 20));
  std::printf("weight size: %.2f MiB\n", static_cast<double>((*model)->weight_bytes()) / (1 << 20));
  return 0;
}

}  // namespace r1::cli
