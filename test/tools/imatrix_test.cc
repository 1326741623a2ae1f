// r1 imatrix: the squared activations of every weight product over a text, checked against a
// first layer recomputed from the file's own tensors; expert and per-head tensors of deepseek2;
// the file it writes read back as quantize reads it; the output file's safety.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <unistd.h>

#include "absl/strings/str_format.h"
#include "gguf/gguf_reader.h"
#include "r1/model.h"
#include "r1/session.h"
#include "r1/tokenizer.h"
#include "support/test_util.h"
#include "tools/imatrix.h"
#include "tools/importance_matrix.h"
#include "tools/perplexity.h"

namespace r1::tools {
namespace {

R1_TEST_NEEDS_SHARED_DIR();

std::string TempPath(const std::string& name) {
  return absl::StrFormat("/tmp/r1_imatrix_test_%d_%s", static_cast<int>(getpid()), name);
}

std::string Text() {
  std::string s;
  for (int i = 0; i < 12; ++i) s += "Once upon a time, there was a little girl named Lily. She loved to play outside. ";
  return s;
}

struct Run {
  std::shared_ptr<const Model> model;
  std::vector<int32_t> tokens;
  ImatrixResult result;
};

Run Compute(const std::string& path, int64_t n_ctx, const ImatrixOptions& options = {}) {
  Run r;
  auto model = Model::Load(path);
  REQUIRE_MESSAGE(model.ok(), model.status().ToString());
  r.model = *model;
  SessionOptions so;
  so.n_ctx = n_ctx;
  so.n_threads = 2;
  auto session = Session::Create(r.model, so);
  REQUIRE(session.ok());
  auto tokens = PerplexityTokens(*r.model, Text());
  REQUIRE(tokens.ok());
  r.tokens = *tokens;
  auto result = ComputeImportanceMatrix(**session, r.tokens, n_ctx, options);
  REQUIRE_MESSAGE(result.ok(), result.status().ToString());
  r.result = *std::move(result);
  return r;
}

const float* TensorData(const GgufFile& f, std::string_view name) {
  for (const GgufTensorInfo& t : f.tensors()) {
    if (t.name == name) return reinterpret_cast<const float*>(t.data);
  }
  FAIL("no tensor ", std::string(name));
  return nullptr;
}

TEST_CASE("imatrix: the first layer's sums are the squares of its normalized embeddings") {
  const std::string path = *test::SharedDir() + "/models/stories260K-q8dequant.gguf";  // f32 weights
  constexpr int64_t kCtx = 64;
  const Run r = Compute(path, kCtx);
  const ModelConfig& c = r.model->config();
  const int64_t n_chunks = static_cast<int64_t>(r.tokens.size()) / kCtx;
  REQUIRE(n_chunks >= 2);
  CHECK(r.result.n_chunks == n_chunks);
  CHECK(r.result.n_ctx == kCtx);
  CHECK(r.result.ppl > 1.0);

  // Every multiplied matrix but the output, each met by every token.
  CHECK(r.result.matrices.size() == static_cast<size_t>(7 * c.n_layers));
  CHECK(r.result.matrices.count("output.weight") == 0);
  for (const auto& [name, s] : r.result.matrices) {
    INFO(name);
    CHECK(s.n_mat == 1);
    CHECK(s.count == std::vector<float>{static_cast<float>(n_chunks * kCtx)});
  }
  // q, k and v read the same input, and so do gate and up.
  const auto& q = r.result.matrices.at("blk.1.attn_q.weight");
  CHECK(q.sum_sq == r.result.matrices.at("blk.1.attn_k.weight").sum_sq);
  CHECK(q.sum_sq == r.result.matrices.at("blk.1.attn_v.weight").sum_sq);
  CHECK(r.result.matrices.at("blk.2.ffn_gate.weight").sum_sq == r.result.matrices.at("blk.2.ffn_up.weight").sum_sq);

  // Layer 0's q input is RMSNorm(embedding) * attn_norm: recomputed from the file.
  auto file = GgufFile::Open(path);
  REQUIRE(file.ok());
  const float* embd = TensorData(**file, "token_embd.weight");
  const float* norm = TensorData(**file, "blk.0.attn_norm.weight");
  const int64_t d = c.d_model;
  std::vector<double> want(static_cast<size_t>(d), 0.0);
  const int32_t bos = *r.model->tokenizer()->bos_id();
  for (int64_t i = 0; i < n_chunks * kCtx; ++i) {
    const int32_t token = i % kCtx == 0 ? bos : r.tokens[static_cast<size_t>(i)];
    const float* x = embd + static_cast<int64_t>(token) * d;
    double ms = 0;
    for (int64_t j = 0; j < d; ++j) ms += double(x[j]) * x[j];
    const double scale = 1.0 / std::sqrt(ms / double(d) + c.norm_eps);
    for (int64_t j = 0; j < d; ++j) want[size_t(j)] += std::pow(x[j] * scale * norm[j], 2);
  }
  const auto& got = r.result.matrices.at("blk.0.attn_q.weight").sum_sq;
  for (int64_t j = 0; j < d; ++j) CHECK(got[size_t(j)] == doctest::Approx(want[size_t(j)]).epsilon(1e-4));

  SUBCASE("written as llama-imatrix's GGUF and read back as quantize reads it") {
    const std::string out = TempPath("stories.imatrix");
    std::filesystem::remove(out);
    REQUIRE(WriteImportanceMatrix(r.result, {"story.txt"}, out, {path}, false).ok());
    auto m = LoadImportanceMatrix(out);
    REQUIRE_MESSAGE(m.ok(), m.status().ToString());
    CHECK(m->n_chunks == n_chunks);
    CHECK(m->datasets == std::vector<std::string>{"story.txt"});
    CHECK(m->columns.size() == r.result.matrices.size());
    const auto& cols = m->columns.at("blk.0.attn_q.weight");
    REQUIRE(cols.size() == size_t(d));
    for (int64_t j = 0; j < d; ++j) CHECK(cols[size_t(j)] == doctest::Approx(want[size_t(j)] / double(n_chunks * kCtx)).epsilon(1e-4));

    // An existing output is kept unless overwriting is asked for; the model never is.
    CHECK(WriteImportanceMatrix(r.result, {}, out, {path}, false).code() == absl::StatusCode::kAlreadyExists);
    CHECK(WriteImportanceMatrix(r.result, {}, out, {path}, true).ok());
    CHECK(!WriteImportanceMatrix(r.result, {}, path, {path}, true).ok());
    std::filesystem::remove(out);
  }
}

TEST_CASE("imatrix: the output matrix only when asked for") {
  const std::string path = *test::SharedDir() + "/models/stories260K-q8dequant.gguf";
  ImatrixOptions options;
  options.process_output = true;
  const Run r = Compute(path, 64, options);
  REQUIRE(r.result.matrices.count("output.weight") == 1);
  CHECK(r.result.matrices.at("output.weight").n_in == r.model->config().d_model);
}

TEST_CASE("imatrix: deepseek2's experts get a row each, its per-head matrices every head's columns") {
  const std::string path = *test::SharedDir() + "/reference/deepseek2-dev.F32.gguf";
  constexpr int64_t kCtx = 32;
  const Run r = Compute(path, kCtx);
  const ModelConfig& c = r.model->config();
  const double tokens = double(r.result.n_chunks * kCtx);
  int experts_seen = 0, per_head_seen = 0;
  for (const TensorSummary& t : r.model->Tensors()) {
    if (t.shape.size() != 3) continue;
    INFO(t.name);
    REQUIRE(r.result.matrices.count(t.name) == 1);
    const ImportanceSums& s = r.result.matrices.at(t.name);
    if (t.name.find("_exps.") != std::string::npos) {
      ++experts_seen;
      CHECK(s.n_mat == c.n_experts);
      CHECK(s.n_in == t.shape[0]);
      double routed = 0;
      for (float n : s.count) routed += n;
      CHECK(routed == tokens * double(c.n_experts_used));  // each token meets its chosen experts
    } else {
      ++per_head_seen;
      CHECK(s.n_mat == 1);
      CHECK(s.n_in == t.shape[0] * t.shape[2]);
      CHECK(s.count == std::vector<float>{static_cast<float>(tokens)});
      for (int64_t h = 0; h < t.shape[2]; ++h) {  // every head's columns were met
        double head_sum = 0;
        for (int64_t i = 0; i < t.shape[0]; ++i) head_sum += s.sum_sq[size_t(h * t.shape[0] + i)];
        CHECK(head_sum > 0);
      }
    }
  }
  CHECK(experts_seen > 0);
  CHECK(per_head_seen > 0);
}

TEST_CASE("imatrix: a text shorter than one chunk is an error") {
  auto model = Model::Load(*test::SharedDir() + "/models/stories260K-q8dequant.gguf");
  REQUIRE(model.ok());
  SessionOptions so;
  so.n_ctx = 512;
  auto session = Session::Create(*model, so);
  REQUIRE(session.ok());
  auto result = ComputeImportanceMatrix(**session, {1, 2, 3}, 512, {});
  CHECK(result.status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace r1::tools
