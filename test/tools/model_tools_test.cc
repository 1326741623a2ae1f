// Quantization tools: the type each tensor gets, and files that load and compute like the
// original within each type's error.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <unistd.h>

#include "absl/strings/str_format.h"
#include "gguf/gguf_reader.h"
#include "r1/model.h"
#include "r1/session.h"
#include "support/test_util.h"
#include "r1/quant/reference.h"
#include "tools/model_tools.h"

namespace r1::tools {
namespace {

R1_TEST_NEEDS_SHARED_DIR();

std::string TempPath(const std::string& name) {
  return absl::StrFormat("/tmp/r1_tools_test_%d_%s", static_cast<int>(getpid()), name);
}

TEST_SUITE("tools") {
  TEST_CASE("schemes parse, case-insensitively, with llama.cpp's file types") {
    REQUIRE(ParseQuantScheme("q4_k_m").has_value());
    CHECK(ParseQuantScheme("Q4_K_M")->file_type == 15);
    CHECK(ParseQuantScheme("Q4_K_M")->base == DType::kQ4_K);
    CHECK(ParseQuantScheme("Q6_K")->file_type == 18);
    CHECK(ParseQuantScheme("Q8_0")->file_type == 7);
    CHECK(ParseQuantScheme("F16")->file_type == 1);
    CHECK_FALSE(ParseQuantScheme("Q7_0").has_value());
    for (const std::string& name : QuantSchemeNames()) CHECK(ParseQuantScheme(name).has_value());
  }

  TEST_CASE("llama.cpp's rules: output Q6_K, use_more_bits layers Q6_K in _M, fallbacks") {
    const QuantScheme m = *ParseQuantScheme("Q4_K_M");
    const int64_t n = 28;
    CHECK(TypeForTensor(m, {"output.weight", 2, 1536, n, true}) == DType::kQ6_K);
    CHECK(TypeForTensor(m, {"token_embd.weight", 2, 1536, n, true}) == DType::kQ4_K);
    CHECK(TypeForTensor(m, {"token_embd.weight", 2, 1536, n, false}) == DType::kQ6_K);  // tied
    CHECK(TypeForTensor(m, {"blk.0.attn_norm.weight", 1, 1536, n, true}) == DType::kF32);
    // use_more_bits(i, 28): i < 3, i >= 24, or (i - 3) % 3 == 2.
    int n_q6 = 0;
    for (int64_t l = 0; l < n; ++l) {
      const std::string v = absl::StrFormat("blk.%d.attn_v.weight", l);
      const std::string d = absl::StrFormat("blk.%d.ffn_down.weight", l);
      const bool more = l < 3 || l >= 24 || (l - 3) % 3 == 2;
      CHECK(TypeForTensor(m, {v, 2, 1536, n, true}) == (more ? DType::kQ6_K : DType::kQ4_K));
      CHECK(TypeForTensor(m, {d, 2, 8960, n, true}) == (more ? DType::kQ6_K : DType::kQ4_K));
      CHECK(TypeForTensor(m, {absl::StrFormat("blk.%d.attn_q.weight", l), 2, 1536, n, true}) == DType::kQ4_K);
      n_q6 += more;
    }
    CHECK(n_q6 == 14);
    const QuantScheme q40 = *ParseQuantScheme("Q4_0");
    CHECK(TypeForTensor(q40, {"output.weight", 2, 1536, n, true}) == DType::kQ6_K);
    CHECK(TypeForTensor(q40, {"blk.3.ffn_down.weight", 2, 8960, n, true}) == DType::kQ4_0);
    const QuantScheme q80 = *ParseQuantScheme("Q8_0");
    CHECK(TypeForTensor(q80, {"output.weight", 2, 1536, n, true}) == DType::kQ8_0);
    // Rows that are not whole K super-blocks fall back as llama.cpp does.
    CHECK(TypeForTensor(m, {"blk.1.attn_q.weight", 2, 96, n, true}) == DType::kQ5_0);
    CHECK(TypeForTensor(*ParseQuantScheme("Q6_K"), {"blk.1.attn_q.weight", 2, 96, n, true}) == DType::kQ8_0);
    CHECK(TypeForTensor(*ParseQuantScheme("F16"), {"blk.1.attn_q.weight", 2, 96, n, true}) == DType::kF16);
  }

  TEST_CASE("an importance matrix steers IQ4_NL and is checked against the model's shapes") {
    const std::string dir = *test::SharedDir() + "/reference/";
    auto src = GgufFile::Open(dir + "qwen2-dev.F32.gguf");
    REQUIRE(src.ok());
    const GgufTensorInfo* q = (*src)->FindTensor("blk.0.attn_q.weight");
    REQUIRE(q != nullptr);
    QuantizeOptions o;
    o.n_threads = 2;
    const std::string plain = TempPath("plain.gguf"), weighted = TempPath("weighted.gguf");
    REQUIRE(QuantizeModel(dir + "qwen2-dev.F32.gguf", plain, *ParseQuantScheme("IQ4_NL"), o).ok());
    ImportanceMatrix m;
    std::vector<float>& cols = m.columns["blk.0.attn_q.weight"];
    for (uint64_t i = 0; i < q->ne[0]; ++i) cols.push_back(i % 2 ? 100.0f : 0.01f);  // odd columns matter
    o.importance = &m;
    REQUIRE(QuantizeModel(dir + "qwen2-dev.F32.gguf", weighted, *ParseQuantScheme("IQ4_NL"), o).ok());
    auto a = GgufFile::Open(plain), b = GgufFile::Open(weighted);
    REQUIRE((a.ok() && b.ok()));
    const GgufTensorInfo* qa = (*a)->FindTensor("blk.0.attn_q.weight");
    const GgufTensorInfo* qb = (*b)->FindTensor("blk.0.attn_q.weight");
    CHECK(std::memcmp(qa->data, qb->data, qa->n_bytes) != 0);
    // The weighted file reproduces the important columns better.
    std::vector<float> orig(q->ne[0]), fa(q->ne[0]), fb(q->ne[0]);
    double err_a = 0, err_b = 0;
    for (uint64_t r = 0; r < q->ne[1]; ++r) {
      std::memcpy(orig.data(), q->data + r * q->ne[0] * 4, q->ne[0] * 4);
      quant::ref::DequantizeRow(DType::kIQ4_NL, qa->data + r * (qa->n_bytes / q->ne[1]), fa.data(), q->ne[0]);
      quant::ref::DequantizeRow(DType::kIQ4_NL, qb->data + r * (qb->n_bytes / q->ne[1]), fb.data(), q->ne[0]);
      for (uint64_t i = 1; i < q->ne[0]; i += 2) {
        err_a += (fa[i] - orig[i]) * (fa[i] - orig[i]);
        err_b += (fb[i] - orig[i]) * (fb[i] - orig[i]);
      }
    }
    CHECK(err_b < 0.95 * err_a);
    cols.pop_back();  // one value short: made for another model
    const Status s = QuantizeModel(dir + "qwen2-dev.F32.gguf", weighted, *ParseQuantScheme("IQ4_NL"), [&] {
      QuantizeOptions o2 = o;
      o2.overwrite = true;
      return o2;
    }());
    CHECK(s.message().find("made for another model") != std::string::npos);
    std::remove(plain.c_str());
    std::remove(weighted.c_str());
  }

  TEST_CASE("IQ4_NL and IQ4_XS: llama.cpp's rules for attn_v, the first ffn_down layers, fallbacks") {
    const int64_t n = 28;
    for (const char* name : {"IQ4_NL", "IQ4_XS"}) {
      const QuantScheme s = *ParseQuantScheme(name);
      INFO(name);
      CHECK(s.file_type == (s.base == DType::kIQ4_NL ? 25u : 30u));
      CHECK(TypeForTensor(s, {"output.weight", 2, 1536, n, true, 6}) == DType::kQ6_K);
      CHECK(TypeForTensor(s, {"token_embd.weight", 2, 1536, n, true, 6}) == s.base);
      // Six query heads per KV head: attn_v gets Q5_K; with two it keeps the scheme's type.
      CHECK(TypeForTensor(s, {"blk.5.attn_v.weight", 2, 1536, n, true, 6}) == DType::kQ5_K);
      CHECK(TypeForTensor(s, {"blk.5.attn_v.weight", 2, 1536, n, true, 2}) == s.base);
      // ffn_down of the first eighth of the layers (28 / 8 = 3): Q5_K.
      CHECK(TypeForTensor(s, {"blk.2.ffn_down.weight", 2, 8960, n, true, 6}) == DType::kQ5_K);
      CHECK(TypeForTensor(s, {"blk.3.ffn_down.weight", 2, 8960, n, true, 6}) == s.base);
      CHECK(TypeForTensor(s, {"blk.3.attn_q.weight", 2, 96, n, true, 6}) == DType::kIQ4_NL);
    }
  }

  TEST_CASE("Q4_K_M of the qwen2 reference model has llama-quantize's tensor types") {
    const std::string dir = *test::SharedDir() + "/reference/";
    std::ifstream in(dir + "qwen2-dev.Q4_K_M.ref.json");
    REQUIRE(in.good());
    const nlohmann::json ref = nlohmann::json::parse(in);
    const std::string out = TempPath("q4km.gguf");
    QuantizeOptions o;
    o.n_threads = 2;
    const Status s = QuantizeModel(dir + "qwen2-dev.F32.gguf", out, *ParseQuantScheme("Q4_K_M"), o);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    auto f = GgufFile::Open(out);
    REQUIRE(f.ok());
    int checked = 0;
    for (const auto& [type, names] : ref["tensor_types"].items()) {
      for (const auto& name : names) {
        const GgufTensorInfo* t = (*f)->FindTensor(name.get<std::string>());
        REQUIRE(t != nullptr);
        INFO(name.get<std::string>());
        CHECK(std::string(DTypeName(t->type)) == type);
        ++checked;
      }
    }
    CHECK(checked == static_cast<int>((*f)->tensors().size()));
    CHECK(*(*f)->GetInt("general.file_type") == 15);
    std::remove(out.c_str());
  }

  TEST_CASE("successor maps: models of different shapes made with one seed agree but for the changed share") {
    // The greedy choice after each of `tokens`, all in one pass.
    const int64_t n_vocab = 1024, n_ordinary = n_vocab - 6;
    std::vector<int32_t> tokens;
    uint64_t st = 12345;
    for (int i = 0; i < 400; ++i) {
      st = st * 6364136223846793005ull + 1442695040888963407ull;
      tokens.push_back(static_cast<int32_t>((st >> 33) % static_cast<uint64_t>(n_ordinary)));
    }
    auto choices = [&](const std::string& preset, int64_t layers, uint64_t seed, double change) {
      MkModelOptions o;
      o.n_threads = 2;
      o.n_layers = layers;
      o.n_vocab = n_vocab;
      o.seed = seed;
      o.successor_seed = 7;
      o.successor_change = change;
      const std::string out = TempPath("successor.gguf");
      const Status made = MakeSyntheticModel(*FindPreset(preset), *ParseQuantScheme("Q4_K_M"), out, o);
      REQUIRE_MESSAGE(made.ok(), made.ToString());
      auto model = Model::Load(out);
      REQUIRE_MESSAGE(model.ok(), model.status().ToString());
      auto session = Session::Create(*model);
      REQUIRE(session.ok());
      REQUIRE((*session)->Evaluate(tokens, /*all_logits=*/true).ok());
      std::vector<int32_t> chosen;
      for (size_t i = 0; i < tokens.size(); ++i) {
        const auto l = (*session)->Logits(static_cast<int64_t>(i));
        chosen.push_back(static_cast<int32_t>(std::max_element(l.begin(), l.end()) - l.begin()));
      }
      std::remove(out.c_str());
      return chosen;
    };
    const std::vector<int32_t> draft = choices("r1-distill-qwen-1.5b", 1, 1, 0.0);
    const std::vector<int32_t> same = choices("r1-distill-qwen-1.5b", 3, 2, 0.0);
    const std::vector<int32_t> half = choices("r1-distill-qwen-1.5b", 2, 3, 0.5);
    int differ_same = 0, differ_half = 0;
    std::map<int32_t, int32_t> successor;  // the draft's choices are a function of the last token
    for (size_t i = 0; i < tokens.size(); ++i) {
      CHECK(draft[i] < n_ordinary);
      const auto [it, inserted] = successor.emplace(tokens[i], draft[i]);
      CHECK(it->second == draft[i]);
      differ_same += draft[i] != same[i];
      differ_half += draft[i] != half[i];
    }
    CHECK(differ_same == 0);
    // 400 draws of a coin of 0.5: 0.4 to 0.6 is more than 4 standard deviations either side.
    CHECK(differ_half > 160);
    CHECK(differ_half < 240);

    MkModelOptions bad;
    bad.successor_seed = 7;
    bad.tied = true;
    const std::string out = TempPath("successor-bad.gguf");
    const QuantScheme q8 = *ParseQuantScheme("Q8_0");
    CHECK(MakeSyntheticModel(*FindPreset("r1-distill-qwen-1.5b"), q8, out, bad).code() == absl::StatusCode::kInvalidArgument);
    bad.tied = false;
    CHECK(MakeSyntheticModel(*FindPreset("deepseek-r1-671b"), q8, out, bad).code() == absl::StatusCode::kInvalidArgument);
    bad.successor_change = 1.5;
    CHECK(MakeSyntheticModel(*FindPreset("r1-distill-qwen-1.5b"), q8, out, bad).code() == absl::StatusCode::kInvalidArgument);
    MkModelOptions small_vocab;
    small_vocab.n_vocab = 100;
    CHECK(MakeSyntheticModel(*FindPreset("r1-distill-qwen-1.5b"), q8, out, small_vocab).code() ==
          absl::StatusCode::kInvalidArgument);
    CHECK(access(out.c_str(), F_OK) != 0);
  }

  TEST_CASE("the 671B preset has DeepSeek-R1's shapes") {
    const auto p = FindPreset("deepseek-r1-671b");
    REQUIRE(p.has_value());
    REQUIRE(p->mla_moe.has_value());
    CHECK(p->arch == "deepseek2");
    CHECK(p->d_model == 7168);
    CHECK(p->n_layers == 61);
    CHECK(p->n_vocab == 129280);
    CHECK(p->mla_moe->n_experts == 256);
    CHECK(p->mla_moe->n_experts_used == 8);
    CHECK(p->mla_moe->n_shared == 1);
    CHECK(p->mla_moe->n_dense_lead == 3);
    CHECK(p->mla_moe->kv_lora_rank + p->mla_moe->qk_rope == 576);  // cache values per token and layer
  }

  TEST_CASE("--tensor-type: the first matching pattern sets a matrix's type, with the row fallbacks") {
    CHECK(!ParseTensorTypeOverride("ffn_down").ok());            // no '='
    CHECK(!ParseTensorTypeOverride("=Q8_0").ok());               // no pattern
    CHECK(!ParseTensorTypeOverride("ffn_down=").ok());           // no type
    CHECK(!ParseTensorTypeOverride("ffn_down=Q4_K_M").ok());     // a mixture is not a type
    CHECK(!ParseTensorTypeOverride("ffn_down=Q9_0").ok());
    CHECK(!ParseTensorTypeOverride("ffn_(down=Q8_0").ok());      // malformed expression
    auto lower = ParseTensorTypeOverride("attn_v=q8_0");
    REQUIRE(lower.ok());
    CHECK(lower->type == DType::kQ8_0);

    const std::string dir = *test::SharedDir() + "/reference/";
    const std::string out = TempPath("overrides.gguf");
    QuantizeOptions o;
    o.n_threads = 2;
    for (const char* spec : {"blk\\.1\\.ffn_down=Q8_0", "ffn_down=Q5_K", "attn_(q|k)\\.weight=IQ4_XS", "attn_=Q2_K"}) {
      auto parsed = ParseTensorTypeOverride(spec);
      REQUIRE_MESSAGE(parsed.ok(), parsed.status().ToString());
      o.tensor_types.push_back(*std::move(parsed));
    }
    const Status s = QuantizeModel(dir + "qwen2-dev.F32.gguf", out, *ParseQuantScheme("Q4_K_M"), o);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    auto f = GgufFile::Open(out);
    REQUIRE(f.ok());
    int overridden = 0;
    for (const GgufTensorInfo& t : (*f)->tensors()) {
      INFO(std::string(t.name));
      const std::string name(t.name);
      if (t.n_dims < 2) {
        CHECK(t.type == DType::kF32);  // vectors are never quantized
        continue;
      }
      const bool fits_k = t.ne[0] % 256 == 0;
      if (name.starts_with("blk.1.ffn_down")) {
        CHECK(t.type == DType::kQ8_0);
        ++overridden;
      } else if (name.find("ffn_down") != std::string::npos) {
        CHECK(t.type == (fits_k ? DType::kQ5_K : DType::kQ5_1));
        ++overridden;
      } else if (name.find("attn_q.weight") != std::string::npos || name.find("attn_k.weight") != std::string::npos) {
        CHECK(t.type == (fits_k ? DType::kIQ4_XS : DType::kIQ4_NL));
        ++overridden;
      } else if (name.find("attn_") != std::string::npos) {
        CHECK(t.type == (fits_k ? DType::kQ2_K : DType::kQ4_0));
        ++overridden;
      }
    }
    CHECK(overridden >= 4 * 2);
    CHECK(*(*f)->GetInt("general.file_type") == 15);  // the scheme's, as llama-quantize writes
    auto model = Model::Load(out);
    CHECK_MESSAGE(model.ok(), model.status().ToString());
    std::remove(out.c_str());
  }

  TEST_CASE("quantized models load and their logits stay close to F32's") {
    const std::string dir = *test::SharedDir() + "/reference/";
    const std::vector<int32_t> prompt = {1, 5, 9, 17, 33, 65, 129, 200};
    auto logits_of = [&](const std::string& path) {
      auto model = Model::Load(path);
      REQUIRE_MESSAGE(model.ok(), model.status().ToString());
      auto session = Session::Create(*model);
      REQUIRE(session.ok());
      REQUIRE((*session)->Evaluate(prompt).ok());
      const auto l = (*session)->Logits();
      return std::vector<float>(l.begin(), l.end());
    };
    const std::vector<float> base = logits_of(dir + "qwen2-dev.F32.gguf");
    const std::map<std::string, double> bound = {{"F16", 0.01}, {"Q8_0", 0.05}, {"Q6_K", 0.1},
                                                 {"Q5_K_M", 0.15}, {"Q4_K_M", 0.25}, {"Q4_0", 0.3},
                                                 {"IQ4_NL", 0.3},  {"IQ4_XS", 0.3}};
    for (const auto& [name, max_rel] : bound) {
      INFO(name);
      const std::string out = TempPath(name + ".gguf");
      QuantizeOptions o;
      o.n_threads = 2;
      REQUIRE(QuantizeModel(dir + "qwen2-dev.F32.gguf", out, *ParseQuantScheme(name), o).ok());
      const std::vector<float> got = logits_of(out);
      REQUIRE(got.size() == base.size());
      double err = 0, norm = 0;
      for (size_t i = 0; i < got.size(); ++i) {
        err += (got[i] - base[i]) * (got[i] - base[i]);
        norm += base[i] * base[i];
      }
      CHECK(std::sqrt(err / norm) < max_rel);
      std::remove(out.c_str());
    }
  }
}

}  // namespace
}  // namespace r1::tools
