#include "tiny_moe_model.h"
#include "tiny_model.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <numeric>
#include <cstring>
#include <filesystem>
#include <vector>

#include "doctest/doctest.h"
#include "gguf/gguf_reader.h"
#include "gguf/gguf_writer.h"
#include "quant/quant_kernels.h"
#include "r1/quant/reference.h"
#include "support/test_util.h"

namespace r1::test {
namespace {

std::vector<float> Random(std::vector<uint64_t> ne, uint64_t seed, float scale = 0.1f, float offset = 0.0f) {
  uint64_t n = 1;
  for (uint64_t d : ne) n *= d;
  return RandomFloats(n, seed, offset - scale, offset + scale);
}

}  // namespace

std::string WriteTinyMoeModel(const TinyMoeSpec& s) {
  GgufWriter w;
  const std::string a = "deepseek2";
  auto U = [&](const std::string& k, int64_t v) { REQUIRE(w.SetUint32(a + "." + k, uint32_t(v)).ok()); };
  auto F = [&](const std::string& k, float v) { REQUIRE(w.SetFloat32(a + "." + k, v).ok()); };
  REQUIRE(w.SetString("general.architecture", a).ok());
  U("context_length", 1024);
  U("embedding_length", s.d_model);
  U("block_count", s.n_layers + s.n_nextn);
  if (s.n_nextn > 0) U("nextn_predict_layers", s.n_nextn);
  U("feed_forward_length", s.d_ff);
  U("attention.head_count", s.n_heads);
  U("attention.head_count_kv", 1);
  U("leading_dense_block_count", s.n_dense_lead);
  if (s.q_lora_rank > 0) U("attention.q_lora_rank", s.q_lora_rank);
  U("attention.kv_lora_rank", s.kv_lora_rank);
  if (s.legacy_kv_b) {
    U("attention.key_length", s.qk_nope + s.n_rot);
    U("attention.value_length", s.v_head);
  } else {
    U("attention.key_length", s.kv_lora_rank + s.n_rot);
    U("attention.value_length", s.kv_lora_rank);
    U("attention.key_length_mla", s.qk_nope + s.n_rot);
    U("attention.value_length_mla", s.v_head);
  }
  U("rope.dimension_count", s.n_rot);
  F("rope.freq_base", 10000.0f);
  F("attention.layer_norm_rms_epsilon", 1e-6f);
  U("expert_feed_forward_length", s.d_ff_expert);
  U("expert_count", s.n_experts);
  U("expert_used_count", s.n_experts_used);
  U("expert_shared_count", s.n_shared);
  if (s.n_groups > 0) {
    U("expert_group_count", s.n_groups);
    U("expert_group_used_count", s.n_groups_used);
  }
  U("expert_gating_func", s.gating);
  F("expert_weights_scale", s.weights_scale);
  REQUIRE(w.SetBool(a + ".expert_weights_norm", s.weights_norm).ok());
  if (s.yarn_factor > 0) {
    REQUIRE(w.SetString(a + ".rope.scaling.type", "yarn").ok());
    F("rope.scaling.factor", s.yarn_factor);
    U("rope.scaling.original_context_length", s.yarn_orig_ctx);
    F("rope.scaling.yarn_beta_fast", 32.0f);
    F("rope.scaling.yarn_beta_slow", 1.0f);
    F("rope.scaling.yarn_log_multiplier", s.yarn_log_mul);
  }

  const uint64_t d = uint64_t(s.d_model), H = uint64_t(s.n_heads), lat = uint64_t(s.kv_lora_rank);
  const uint64_t nope = uint64_t(s.qk_nope), rope = uint64_t(s.n_rot), vd = uint64_t(s.v_head);
  const uint64_t q_dim = H * (nope + rope), ne = uint64_t(s.n_experts), fe = uint64_t(s.d_ff_expert);
  const DType m = s.matrix_type;
  if (s.tokenizer) {  // ids are the printable ASCII characters from '!' on, no merges
    REQUIRE(s.n_vocab <= 94);
    std::vector<std::string> tokens;
    for (int64_t i = 0; i < s.n_vocab; ++i) tokens.push_back(std::string(1, char('!' + i)));
    REQUIRE(w.SetString("tokenizer.ggml.model", "gpt2").ok());
    REQUIRE(w.SetString("tokenizer.ggml.pre", "qwen2").ok());
    REQUIRE(w.SetStringArray("tokenizer.ggml.tokens", tokens).ok());
    REQUIRE(w.SetArray("tokenizer.ggml.token_type", absl::Span<const int32_t>(std::vector<int32_t>(tokens.size(), 1))).ok());
  }
  uint64_t seed = s.seed * 1000;
  AddRandomTensor(w, "token_embd.weight", {d, uint64_t(s.n_vocab)}, m, ++seed, 1.0f);
  AddRandomTensor(w, "output_norm.weight", {d}, DType::kF32, ++seed, 0.2f, 1.0f);
  AddRandomTensor(w, "output.weight", {d, uint64_t(s.n_vocab)}, m, ++seed);
  for (int64_t l = 0; l < s.n_layers + s.n_nextn; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    if (l >= s.n_layers) {  // an MTP block: its own projections, then an ordinary block
      AddRandomTensor(w, p + "nextn.eh_proj.weight", {2 * d, d}, m, ++seed);
      AddRandomTensor(w, p + "nextn.enorm.weight", {d}, DType::kF32, ++seed, 0.2f, 1.0f);
      AddRandomTensor(w, p + "nextn.hnorm.weight", {d}, DType::kF32, ++seed, 0.2f, 1.0f);
      AddRandomTensor(w, p + "nextn.shared_head_norm.weight", {d}, DType::kF32, ++seed, 0.2f, 1.0f);
    }
    AddRandomTensor(w, p + "attn_norm.weight", {d}, DType::kF32, ++seed, 0.2f, 1.0f);
    if (s.q_lora_rank > 0) {
      const uint64_t qr = uint64_t(s.q_lora_rank);
      AddRandomTensor(w, p + "attn_q_a.weight", {d, qr}, m, ++seed, 0.3f);
      AddRandomTensor(w, p + "attn_q_a_norm.weight", {qr}, DType::kF32, ++seed, 0.2f, 1.0f);
      AddRandomTensor(w, p + "attn_q_b.weight", {qr, q_dim}, m, ++seed, 0.3f);
    } else {
      AddRandomTensor(w, p + "attn_q.weight", {d, q_dim}, m, ++seed, 0.3f);
    }
    AddRandomTensor(w, p + "attn_kv_a_mqa.weight", {d, lat + rope}, m, ++seed, 0.3f);
    AddRandomTensor(w, p + "attn_kv_a_norm.weight", {lat}, DType::kF32, ++seed, 0.2f, 1.0f);
    // k_b[h][r][i] (ne {nope, lat, H}) and v_b[h][j][r] (ne {lat, vd, H}).
    const auto k_b = Random({nope, lat, H}, ++seed, 0.3f);
    const auto v_b = Random({lat, vd, H}, ++seed, 0.3f);
    if (s.legacy_kv_b) {
      // kv_b rows, per head: nope key rows (row i = column i of k_b[h]), then vd value rows.
      std::vector<float> kv_b(H * (nope + vd) * lat);
      for (uint64_t h = 0; h < H; ++h) {
        for (uint64_t i = 0; i < nope; ++i) {
          for (uint64_t r = 0; r < lat; ++r) kv_b[(h * (nope + vd) + i) * lat + r] = k_b[(h * lat + r) * nope + i];
        }
        for (uint64_t j = 0; j < vd; ++j) {
          for (uint64_t r = 0; r < lat; ++r) kv_b[(h * (nope + vd) + nope + j) * lat + r] = v_b[(h * vd + j) * lat + r];
        }
      }
      AddTensorValues(w, p + "attn_kv_b.weight", {lat, H * (nope + vd)}, m, kv_b);
    } else {
      AddTensorValues(w, p + "attn_k_b.weight", {nope, lat, H}, m, k_b);
      AddTensorValues(w, p + "attn_v_b.weight", {lat, vd, H}, m, v_b);
    }
    AddRandomTensor(w, p + "attn_output.weight", {H * vd, d}, m, ++seed);
    AddRandomTensor(w, p + "ffn_norm.weight", {d}, DType::kF32, ++seed, 0.2f, 1.0f);
    if (l < s.n_dense_lead) {
      AddRandomTensor(w, p + "ffn_gate.weight", {d, uint64_t(s.d_ff)}, m, ++seed);
      AddRandomTensor(w, p + "ffn_up.weight", {d, uint64_t(s.d_ff)}, m, ++seed);
      AddRandomTensor(w, p + "ffn_down.weight", {uint64_t(s.d_ff), d}, m, ++seed);
      continue;
    }
    AddRandomTensor(w, p + "ffn_gate_inp.weight", {d, ne}, DType::kF32, ++seed, 0.5f);
    if (s.probs_bias) AddRandomTensor(w, p + "exp_probs_b.bias", {ne}, DType::kF32, ++seed, 0.05f);
    AddRandomTensor(w, p + "ffn_gate_exps.weight", {d, fe, ne}, m, ++seed);
    AddRandomTensor(w, p + "ffn_up_exps.weight", {d, fe, ne}, m, ++seed);
    AddRandomTensor(w, p + "ffn_down_exps.weight", {fe, d, ne}, m, ++seed);
    if (s.n_shared > 0) {
      const uint64_t fs = fe * uint64_t(s.n_shared);
      AddRandomTensor(w, p + "ffn_gate_shexp.weight", {d, fs}, m, ++seed);
      AddRandomTensor(w, p + "ffn_up_shexp.weight", {d, fs}, m, ++seed);
      AddRandomTensor(w, p + "ffn_down_shexp.weight", {fs, d}, m, ++seed);
    }
  }
  static std::atomic<int> counter{0};
  const auto path = std::filesystem::temp_directory_path() /
                    ("r1-tiny-moe-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".gguf");
  REQUIRE(w.WriteToFile(path.string()).ok());
  return path.string();
}

namespace {

using Vec = std::vector<double>;

// A tensor of the (f32) file as doubles, row-major as stored.
Vec Tensor(const GgufFile& f, const std::string& name) {
  const GgufTensorInfo* t = f.FindTensor(name);
  if (t == nullptr) return {};
  REQUIRE(t->type == DType::kF32);
  Vec out(t->n_elements);
  const float* p = reinterpret_cast<const float*>(t->data);
  for (size_t i = 0; i < out.size(); ++i) out[i] = p[i];
  return out;
}

// y = W x for W stored [n_out][n_in].
Vec MatVec(const Vec& W, const double* x, size_t n_in, size_t n_out, size_t w_offset = 0) {
  Vec y(n_out, 0.0);
  for (size_t o = 0; o < n_out; ++o) {
    for (size_t i = 0; i < n_in; ++i) y[o] += W[w_offset + o * n_in + i] * x[i];
  }
  return y;
}

Vec Norm(const double* x, const Vec& w, size_t n, double eps) {
  double ss = 0;
  for (size_t i = 0; i < n; ++i) ss += x[i] * x[i];
  const double s = 1.0 / std::sqrt(ss / double(n) + eps);
  Vec out(n);
  for (size_t i = 0; i < n; ++i) out[i] = x[i] * s * w[i];
  return out;
}

double Silu(double v) { return v / (1.0 + std::exp(-v)); }

Vec SwiGlu(const GgufFile& f, const std::string& p, const std::string& suffix, const Vec& x, size_t d, size_t ff) {
  const Vec g = MatVec(Tensor(f, p + "ffn_gate" + suffix + ".weight"), x.data(), d, ff);
  const Vec u = MatVec(Tensor(f, p + "ffn_up" + suffix + ".weight"), x.data(), d, ff);
  Vec a(ff);
  for (size_t i = 0; i < ff; ++i) a[i] = Silu(g[i]) * u[i];
  return MatVec(Tensor(f, p + "ffn_down" + suffix + ".weight"), a.data(), ff, d);
}

}  // namespace

namespace {

// The logits of every row: the model's own (nextn false), or its MTP block's over rows
// (hidden state at i, token at i + 1) for i < T - 1 (nextn true).
std::vector<float> ReferencePass(const std::string& path, const std::vector<int32_t>& tokens, bool nextn) {
  auto file = GgufFile::Open(path);
  REQUIRE(file.ok());
  const GgufFile& f = **file;
  const std::string a = "deepseek2.";
  auto I = [&](const std::string& k, int64_t fallback = -1) {
    return f.Has(a + k) ? size_t(*f.GetInt(a + k)) : size_t(fallback);
  };
  auto D = [&](const std::string& k, double fallback) { return f.Has(a + k) ? *f.GetFloat(a + k) : fallback; };
  const size_t d = I("embedding_length"), n_layers = I("block_count") - I("nextn_predict_layers", 0),
               H = I("attention.head_count");
  const size_t lead = I("leading_dense_block_count", 0), q_rank = I("attention.q_lora_rank", 0);
  const size_t lat = I("attention.kv_lora_rank"), rope = I("rope.dimension_count");
  const size_t hd = f.Has(a + "attention.key_length_mla") ? I("attention.key_length_mla") : I("attention.key_length");
  const size_t vd = f.Has(a + "attention.value_length_mla") ? I("attention.value_length_mla") : I("attention.value_length");
  const size_t nope = hd - rope, d_ff = I("feed_forward_length"), ff_e = I("expert_feed_forward_length");
  const size_t n_exp = I("expert_count"), k_used = I("expert_used_count"), n_shared = I("expert_shared_count", 0);
  const size_t groups = I("expert_group_count", 0), groups_used = I("expert_group_used_count", 0);
  const int gating = int(I("expert_gating_func", 1));
  const bool norm_w = f.Has(a + "expert_weights_norm") && *f.GetBool(a + "expert_weights_norm");
  const double w_scale = D("expert_weights_scale", 1.0), eps = D("attention.layer_norm_rms_epsilon", 1e-6);
  const double base = D("rope.freq_base", 10000.0);
  const bool yarn = f.Has(a + "rope.scaling.type");
  const double factor = yarn ? D("rope.scaling.factor", 1.0) : 1.0;
  const double mscale_all = D("rope.scaling.yarn_log_multiplier", 0.0) / 0.1;
  const double n_orig = double(I("rope.scaling.original_context_length", 1024));
  // YaRN: the ramp between extrapolated and interpolated angles, and the magnitudes. cos/sin
  // are scaled by 1 and q.k by (1 + 0.1 mscale_all ln factor)^2 / sqrt(hd) (DeepSeek's
  // softmax_scale * mscale^2), as llama.cpp's net effect when mscale_all_dim is 1 or absent.
  auto corr = [&](double turns) { return double(rope) * std::log(n_orig / (turns * 2 * M_PI)) / (2 * std::log(base)); };
  const double lo = std::max(0.0, std::floor(corr(32.0))), hi = std::min(double(rope - 1), std::ceil(corr(1.0)));
  const double m = yarn ? 1.0 + 0.1 * mscale_all * std::log(factor) : 1.0;
  const double cs_scale = yarn && mscale_all == 0.0 ? 1.0 + 0.1 * std::log(factor) : 1.0;
  const double kq_scale = (yarn && mscale_all == 0.0 ? cs_scale * cs_scale : m * m) / std::sqrt(double(hd));
  auto rotate = [&](double* x, size_t pos) {
    for (size_t i = 0; i < rope / 2; ++i) {
      const double theta = double(pos) * std::pow(base, -2.0 * double(i) / double(rope));
      double angle = theta;
      if (yarn) {
        const double y = (double(i) - lo) / std::max(0.001, hi - lo);
        const double mix = 1.0 - std::min(1.0, std::max(0.0, y));
        angle = theta / factor * (1 - mix) + theta * mix;
      }
      const double c = std::cos(angle) * cs_scale, s = std::sin(angle) * cs_scale;
      const double x0 = x[2 * i], x1 = x[2 * i + 1];
      x[2 * i] = x0 * c - x1 * s;
      x[2 * i + 1] = x0 * s + x1 * c;
    }
  };

  const Vec embd = Tensor(f, "token_embd.weight"), out_w = Tensor(f, "output.weight");
  const size_t n_vocab = embd.size() / d;
  const auto embedding = [&](int32_t token) {
    return Vec(embd.begin() + long(size_t(token) * d), embd.begin() + long((size_t(token) + 1) * d));
  };
  // Block l over rows x, row t at position t.
  const auto block = [&](size_t l, std::vector<Vec>& x) {
    const size_t T = x.size();
    const std::string p = "blk." + std::to_string(l) + ".";
    const Vec attn_norm = Tensor(f, p + "attn_norm.weight"), kv_a = Tensor(f, p + "attn_kv_a_mqa.weight");
    const Vec kv_norm = Tensor(f, p + "attn_kv_a_norm.weight"), wo = Tensor(f, p + "attn_output.weight");
    Vec k_b = Tensor(f, p + "attn_k_b.weight"), v_b = Tensor(f, p + "attn_v_b.weight");
    if (k_b.empty()) {  // older layout: attn_kv_b [lat, H * (nope + vd)]
      const Vec kv_b = Tensor(f, p + "attn_kv_b.weight");
      k_b.assign(H * lat * nope, 0.0);
      v_b.assign(H * vd * lat, 0.0);
      for (size_t h = 0; h < H; ++h) {
        for (size_t r = 0; r < lat; ++r) {
          for (size_t i = 0; i < nope; ++i) k_b[(h * lat + r) * nope + i] = kv_b[(h * (nope + vd) + i) * lat + r];
          for (size_t j = 0; j < vd; ++j) v_b[(h * vd + j) * lat + r] = kv_b[(h * (nope + vd) + nope + j) * lat + r];
        }
      }
    }
    // Per token: q [H][hd], decompressed k [H][hd], v [H][vd].
    std::vector<Vec> q(T), k(T), v(T);
    for (size_t t = 0; t < T; ++t) {
      const Vec h = Norm(x[t].data(), attn_norm, d, eps);
      if (q_rank > 0) {
        const Vec qa = MatVec(Tensor(f, p + "attn_q_a.weight"), h.data(), d, q_rank);
        const Vec qn = Norm(qa.data(), Tensor(f, p + "attn_q_a_norm.weight"), q_rank, eps);
        q[t] = MatVec(Tensor(f, p + "attn_q_b.weight"), qn.data(), q_rank, H * hd);
      } else {
        q[t] = MatVec(Tensor(f, p + "attn_q.weight"), h.data(), d, H * hd);
      }
      for (size_t hh = 0; hh < H; ++hh) rotate(&q[t][hh * hd + nope], t);
      Vec ckv = MatVec(kv_a, h.data(), d, lat + rope);
      const Vec latent = Norm(ckv.data(), kv_norm, lat, eps);
      rotate(&ckv[lat], t);
      k[t].assign(H * hd, 0.0);
      v[t].assign(H * vd, 0.0);
      for (size_t hh = 0; hh < H; ++hh) {
        for (size_t r = 0; r < lat; ++r) {
          for (size_t i = 0; i < nope; ++i) k[t][hh * hd + i] += k_b[(hh * lat + r) * nope + i] * latent[r];
          for (size_t j = 0; j < vd; ++j) v[t][hh * vd + j] += v_b[(hh * vd + j) * lat + r] * latent[r];
        }
        for (size_t i = 0; i < rope; ++i) k[t][hh * hd + nope + i] = ckv[lat + i];
      }
    }
    for (size_t t = 0; t < T; ++t) {
      Vec att(H * vd, 0.0);
      for (size_t hh = 0; hh < H; ++hh) {
        Vec s(t + 1);
        double mx = -1e300;
        for (size_t j = 0; j <= t; ++j) {
          double dot = 0;
          for (size_t i = 0; i < hd; ++i) dot += q[t][hh * hd + i] * k[j][hh * hd + i];
          s[j] = dot * kq_scale;
          mx = std::max(mx, s[j]);
        }
        double sum = 0;
        for (double& e : s) sum += (e = std::exp(e - mx));
        for (size_t j = 0; j <= t; ++j) {
          for (size_t i = 0; i < vd; ++i) att[hh * vd + i] += s[j] / sum * v[j][hh * vd + i];
        }
      }
      const Vec o = MatVec(wo, att.data(), H * vd, d);
      for (size_t i = 0; i < d; ++i) x[t][i] += o[i];
    }
    const Vec ffn_norm = Tensor(f, p + "ffn_norm.weight");
    for (size_t t = 0; t < T; ++t) {
      const Vec h = Norm(x[t].data(), ffn_norm, d, eps);
      Vec y;
      if (l < lead) {
        y = SwiGlu(f, p, "", h, d, d_ff);
      } else {
        const Vec logits = MatVec(Tensor(f, p + "ffn_gate_inp.weight"), h.data(), d, n_exp);
        const Vec bias = Tensor(f, p + "exp_probs_b.bias");
        Vec probs(n_exp);
        const double mx = *std::max_element(logits.begin(), logits.end());
        double sum = 0;
        for (size_t e = 0; e < n_exp; ++e) sum += std::exp(logits[e] - mx);
        for (size_t e = 0; e < n_exp; ++e) {
          probs[e] = gating == 2 ? 1.0 / (1.0 + std::exp(-logits[e])) : gating == 3 ? logits[e] : std::exp(logits[e] - mx) / sum;
        }
        Vec sel(n_exp);
        for (size_t e = 0; e < n_exp; ++e) sel[e] = probs[e] + (bias.empty() ? 0.0 : bias[e]);
        std::vector<size_t> order(n_exp);
        if (groups > 1) {
          const size_t per = n_exp / groups;
          Vec score(groups);
          for (size_t g = 0; g < groups; ++g) {
            Vec part(sel.begin() + long(g * per), sel.begin() + long((g + 1) * per));
            std::sort(part.rbegin(), part.rend());
            score[g] = part[0] + part[1];
          }
          std::vector<size_t> gi(groups);
          std::iota(gi.begin(), gi.end(), 0);
          std::stable_sort(gi.begin(), gi.end(), [&](size_t x1, size_t x2) { return score[x1] > score[x2]; });
          for (size_t r = groups_used; r < groups; ++r) {
            for (size_t e = gi[r] * per; e < (gi[r] + 1) * per; ++e) sel[e] = -1e300;
          }
        }
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](size_t x1, size_t x2) { return sel[x1] > sel[x2]; });
        Vec w(k_used);
        for (size_t i = 0; i < k_used; ++i) w[i] = probs[order[i]];
        if (gating == 3) {
          const double wm = *std::max_element(w.begin(), w.end());
          double ws = 0;
          for (double& e : w) ws += (e = std::exp(e - wm));
          for (double& e : w) e /= ws;
        }
        if (norm_w) {
          const double ws = std::max(std::accumulate(w.begin(), w.end(), 0.0), 6.103515625e-5);
          for (double& e : w) e /= ws;
        }
        if (w_scale != 0.0) for (double& e : w) e *= w_scale;
        y.assign(d, 0.0);
        const Vec ge = Tensor(f, p + "ffn_gate_exps.weight"), ue = Tensor(f, p + "ffn_up_exps.weight");
        const Vec de = Tensor(f, p + "ffn_down_exps.weight");
        for (size_t i = 0; i < k_used; ++i) {
          const size_t e = order[i];
          const Vec g = MatVec(ge, h.data(), d, ff_e, e * ff_e * d), u = MatVec(ue, h.data(), d, ff_e, e * ff_e * d);
          Vec act(ff_e);
          for (size_t j = 0; j < ff_e; ++j) act[j] = Silu(g[j]) * u[j];
          const Vec dn = MatVec(de, act.data(), ff_e, d, e * d * ff_e);
          for (size_t j = 0; j < d; ++j) y[j] += w[i] * dn[j];
        }
        if (n_shared > 0) {
          const Vec sh = SwiGlu(f, p, "_shexp", h, d, ff_e * n_shared);
          for (size_t j = 0; j < d; ++j) y[j] += sh[j];
        }
      }
      for (size_t i = 0; i < d; ++i) x[t][i] += y[i];
    }
  };

  std::vector<Vec> x(tokens.size());
  for (size_t t = 0; t < tokens.size(); ++t) x[t] = embedding(tokens[t]);
  for (size_t l = 0; l < n_layers; ++l) block(l, x);
  Vec out_norm = Tensor(f, "output_norm.weight");
  if (nextn) {
    // Row i: eh_proj [enorm(embedding of token i + 1), hnorm(hidden state i)], then the block.
    const std::string p = "blk." + std::to_string(n_layers) + ".nextn.";
    const Vec eh = Tensor(f, p + "eh_proj.weight"), enorm = Tensor(f, p + "enorm.weight");
    const Vec hnorm = Tensor(f, p + "hnorm.weight"), head_norm = Tensor(f, p + "shared_head_norm.weight");
    std::vector<Vec> rows(x.size() - 1);
    for (size_t i = 0; i + 1 < x.size(); ++i) {
      Vec in = Norm(embedding(tokens[i + 1]).data(), enorm, d, eps);
      const Vec h = Norm(x[i].data(), hnorm, d, eps);
      in.insert(in.end(), h.begin(), h.end());
      rows[i] = MatVec(eh, in.data(), 2 * d, d);
    }
    block(n_layers, rows);
    x = std::move(rows);
    if (!head_norm.empty()) out_norm = head_norm;
  }
  std::vector<float> logits(x.size() * n_vocab);
  for (size_t t = 0; t < x.size(); ++t) {
    const Vec h = Norm(x[t].data(), out_norm, d, eps);
    const Vec o = MatVec(out_w, h.data(), d, n_vocab);
    for (size_t i = 0; i < n_vocab; ++i) logits[t * n_vocab + i] = float(o[i]);
  }
  return logits;
}

}  // namespace

std::vector<float> ReferenceMoeForward(const std::string& path, const std::vector<int32_t>& tokens) {
  return ReferencePass(path, tokens, false);
}

std::vector<float> ReferenceNextnForward(const std::string& path, const std::vector<int32_t>& tokens) {
  return ReferencePass(path, tokens, true);
}

}  // namespace r1::test
