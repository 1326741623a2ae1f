// The i-quant schemes: llama.cpp's file types and per-tensor rules, and the importance matrix
// the IQ1/IQ2 types cannot do without.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <unistd.h>

#include "absl/strings/str_format.h"
#include "gguf/gguf_reader.h"
#include "support/test_util.h"
#include "tools/imatrix.h"
#include "tools/model_tools.h"
#include "tools/perplexity.h"

namespace r1::tools {
namespace {

R1_TEST_NEEDS_SHARED_DIR();

DType For(const char* scheme, const std::string& name, uint64_t n_in, bool importance = true, int64_t n_gqa = 6,
          int64_t n_experts = 0) {
  return TypeForTensor(*ParseQuantScheme(scheme), {name, 2, n_in, 28, true, n_gqa, importance, n_experts});
}

TEST_CASE("i-quant schemes carry llama.cpp's file types and base types") {
  const std::pair<const char*, std::pair<uint32_t, DType>> want[] = {
      {"IQ2_XXS", {19, DType::kIQ2_XXS}}, {"IQ2_XS", {20, DType::kIQ2_XS}}, {"IQ3_XS", {22, DType::kIQ3_S}},
      {"IQ3_XXS", {23, DType::kIQ3_XXS}}, {"IQ1_S", {24, DType::kIQ1_S}},   {"IQ4_NL", {25, DType::kIQ4_NL}},
      {"IQ3_S", {26, DType::kIQ3_S}},     {"IQ3_M", {27, DType::kIQ3_S}},   {"IQ2_S", {28, DType::kIQ2_XS}},
      {"IQ2_M", {29, DType::kIQ2_S}},     {"IQ4_XS", {30, DType::kIQ4_XS}}, {"IQ1_M", {31, DType::kIQ1_M}},
  };
  for (const auto& [name, expected] : want) {
    INFO(name);
    const auto s = ParseQuantScheme(name);
    REQUIRE(s.has_value());
    CHECK(s->file_type == expected.first);
    CHECK(s->base == expected.second);
  }
  // A type's name, not a scheme's: IQ2_S the type exists, Q4_K_M does not.
  CHECK(ParseWeightType("iq2_s") == DType::kIQ2_S);
  CHECK(!ParseWeightType("Q4_K_M").has_value());
  CHECK(!ParseWeightType("IQ2_M").has_value());
}

TEST_CASE("i-quant schemes keep llama.cpp's sensitive matrices higher") {
  // The 1.5B shape: 28 layers, 6 query heads per KV head, untied output.
  CHECK(For("IQ2_XXS", "output.weight", 1536) == DType::kQ5_K);
  CHECK(For("IQ3_XXS", "output.weight", 1536) == DType::kQ5_K);
  CHECK(For("IQ3_S", "output.weight", 1536) == DType::kQ6_K);
  CHECK(For("IQ2_XXS", "token_embd.weight", 1536) == DType::kQ2_K);
  CHECK(For("IQ2_M", "token_embd.weight", 1536) == DType::kIQ3_S);
  CHECK(For("IQ2_XXS", "blk.5.attn_v.weight", 1536) == DType::kQ4_K);               // 6 heads share a KV head
  CHECK(For("IQ2_XXS", "blk.5.attn_v.weight", 1536, true, 1) == DType::kQ2_K);
  CHECK(For("IQ2_M", "blk.5.attn_v.weight", 1536, true, 1) == DType::kIQ3_S);
  CHECK(For("IQ2_XXS", "blk.2.ffn_down.weight", 8960) == DType::kQ2_K);             // the first eighth
  CHECK(For("IQ2_XXS", "blk.3.ffn_down.weight", 8960) == DType::kIQ2_XXS);
  CHECK(For("IQ2_S", "blk.0.ffn_down.weight", 8960) == DType::kIQ3_S);
  CHECK(For("IQ1_S", "blk.7.attn_output.weight", 1536) == DType::kIQ2_XXS);
  CHECK(For("IQ1_M", "blk.7.ffn_up.weight", 1536) == DType::kIQ1_M);
  CHECK(For("IQ3_XXS", "blk.7.attn_q.weight", 1536) == DType::kIQ2_S);
  CHECK(For("IQ3_XXS", "blk.7.attn_v.weight", 1536, true, 1) == DType::kIQ3_XXS);
  CHECK(For("IQ3_XXS", "blk.7.attn_v.weight", 1536, false, 1) == DType::kIQ3_S);    // no importance matrix
  CHECK(For("IQ3_XXS", "blk.2.ffn_down.weight", 8960, false) == DType::kQ4_K);
  CHECK(For("IQ3_XXS", "blk.9.ffn_down.weight", 8960, false) == DType::kQ3_K);
  CHECK(For("IQ3_XS", "blk.9.ffn_gate.weight", 1536) == DType::kIQ3_XXS);           // middle layers
  CHECK(For("IQ3_XS", "blk.1.ffn_gate.weight", 1536) == DType::kIQ3_S);
  CHECK(For("IQ3_M", "blk.9.attn_output.weight", 1536) == DType::kQ4_K);
  CHECK(For("IQ3_M", "blk.1.ffn_down.weight", 8960) == DType::kQ4_K);
  // Eight experts (Mixtral-like) and DeepSeek's 256 routed experts.
  CHECK(For("IQ2_XXS", "blk.9.attn_k.weight", 4096, true, 4, 8) == DType::kQ4_K);
  CHECK(For("IQ2_XXS", "blk.9.attn_kv_b.weight", 512, true, 1, 256) == DType::kQ4_K);
  CHECK(For("IQ2_XXS", "blk.9.ffn_down_exps.weight", 2048, true, 1, 256) == DType::kIQ2_XXS);
  // The router stays F32 under every scheme (llama-quantize never quantizes it).
  CHECK(For("IQ2_XXS", "blk.9.ffn_gate_inp.weight", 7168, true, 1, 256) == DType::kF32);
  CHECK(For("Q4_K_M", "blk.9.ffn_gate_inp.weight", 7168, true, 1, 256) == DType::kF32);
  // Rows that are not whole super-blocks: every 256-element i-quant falls back to IQ4_NL.
  CHECK(For("IQ2_XXS", "blk.9.ffn_up.weight", 96) == DType::kIQ4_NL);
  CHECK(For("IQ1_M", "blk.9.ffn_up.weight", 100) == DType::kF16);
}

TEST_CASE("IQ1/IQ2 refuse to quantize a matrix without its importance matrix") {
  const std::string model = *test::SharedDir() + "/reference/qwen2-dev.F32.gguf";
  const std::string out = absl::StrFormat("/tmp/r1_quant_schemes_test_%d.gguf", static_cast<int>(getpid()));
  std::remove(out.c_str());
  QuantizeOptions o;
  o.n_threads = 2;
  // IQ3_XXS too: its rules put attn_q and attn_k at IQ2_S.
  for (const char* scheme : {"IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ2_M", "IQ1_S", "IQ1_M", "IQ3_XXS"}) {
    INFO(scheme);
    const Status s = QuantizeModel(model, out, *ParseQuantScheme(scheme), o);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(s.message().find("importance matrix") != std::string::npos);
  }
  // The 3-bit mixtures that stay at 3 bits do without one.
  CHECK(QuantizeModel(model, out, *ParseQuantScheme("IQ3_M"), o).ok());
  std::remove(out.c_str());
  // Nor for a per-tensor IQ2 type... unless that tensor lacks importance values.
  auto override_type = ParseTensorTypeOverride("ffn_up=IQ2_XXS");
  REQUIRE(override_type.ok());
  o.tensor_types.push_back(*override_type);
  CHECK(QuantizeModel(model, out, *ParseQuantScheme("Q8_0"), o).code() == absl::StatusCode::kInvalidArgument);

  // With one made by r1 imatrix, every scheme writes a file that loads.
  auto loaded = Model::Load(model);
  REQUIRE(loaded.ok());
  SessionOptions so;
  so.n_ctx = 64;
  so.n_threads = 2;
  auto session = Session::Create(*loaded, so);
  REQUIRE(session.ok());
  std::string text;
  for (int i = 0; i < 20; ++i) text += "a little girl and her dog played in the park all day. ";
  auto tokens = PerplexityTokens(**loaded, text);
  REQUIRE(tokens.ok());
  auto result = ComputeImportanceMatrix(**session, *tokens, 64, {});
  REQUIRE_MESSAGE(result.ok(), result.status().ToString());
  const std::string im_path = out + ".imatrix";
  REQUIRE(WriteImportanceMatrix(*result, {}, im_path, {model}, true).ok());
  auto im = LoadImportanceMatrix(im_path);
  REQUIRE(im.ok());
  o.importance = &*im;
  for (const char* scheme : {"IQ2_XXS", "IQ1_M", "IQ2_M"}) {
    INFO(scheme);
    const Status s = QuantizeModel(model, out, *ParseQuantScheme(scheme), o);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    auto q = Model::Load(out);
    CHECK_MESSAGE(q.ok(), q.status().ToString());
    std::remove(out.c_str());
  }
  std::remove(im_path.c_str());
}

}  // namespace
}  // namespace r1::tools
