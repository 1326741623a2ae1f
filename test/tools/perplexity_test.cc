// r1 perplexity: llama-perplexity's number on a trained model, the definition checked against
// the session's own logits, the base log-probability file, and bad base files.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

#include "absl/strings/str_format.h"
#include "r1/model.h"
#include "r1/session.h"
#include "r1/tokenizer.h"
#include "support/test_util.h"
#include "tools/perplexity.h"

namespace r1::tools {
namespace {

R1_TEST_NEEDS_SHARED_DIR();

std::string TempPath(const std::string& name) {
  return absl::StrFormat("/tmp/r1_perplexity_test_%d_%s", static_cast<int>(getpid()), name);
}

std::string FixedText() {
  std::string s;
  for (int i = 0; i < 30; ++i) {
    s += "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her dog, Max. ";
  }
  return s;
}

struct Loaded {
  std::shared_ptr<const Model> model;
  std::unique_ptr<Session> session;
};

Loaded Open(const std::string& file, int64_t n_ctx) {
  auto model = Model::Load(*test::SharedDir() + "/models/" + file);
  REQUIRE_MESSAGE(model.ok(), model.status().ToString());
  SessionOptions o;
  o.n_ctx = n_ctx;
  o.n_threads = 2;
  auto session = Session::Create(*model, o);
  REQUIRE(session.ok());
  return {*model, *std::move(session)};
}

TEST_SUITE("tools") {
  TEST_CASE("perplexity equals llama-perplexity's on a trained model") {
    Loaded m = Open("aidreams260K.gguf", 64);
    auto tokens = PerplexityTokens(*m.model, FixedText());
    REQUIRE(tokens.ok());
    auto r = ComputePerplexity(*m.session, *tokens, 64, {});
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    // llama-perplexity -c 64 -b 64 on the same file and text: 32 chunks, PPL = 159.2867.
    CHECK(r->n_chunks == 32);
    CHECK(r->n_scored == 32 * 31);
    CHECK(r->ppl == doctest::Approx(159.2867).epsilon(0.005));
    CHECK(r->chunk_ppl.size() == 32);
    CHECK(r->chunk_ppl.back() == doctest::Approx(r->ppl));
  }

  TEST_CASE("perplexity is exp of the mean NLL of each chunk's second half") {
    Loaded m = Open("stories260K-q8dequant.gguf", 32);
    auto tokens = PerplexityTokens(*m.model, FixedText());
    REQUIRE(tokens.ok());
    PerplexityOptions o;
    o.n_chunks = 3;
    auto r = ComputePerplexity(*m.session, *tokens, 32, o);
    REQUIRE(r.ok());
    double nll = 0;
    int n = 0;
    const int32_t bos = *m.model->tokenizer()->bos_id();
    for (int c = 0; c < 3; ++c) {
      std::vector<int32_t> chunk(tokens->begin() + c * 32, tokens->begin() + (c + 1) * 32);
      chunk[0] = bos;
      m.session->Reset();
      REQUIRE(m.session->Evaluate(chunk, true).ok());
      for (int j = 16; j < 31; ++j) {
        const auto l = m.session->Logits(j);
        double mx = l[0], sum = 0;
        for (float v : l) mx = std::max(mx, static_cast<double>(v));
        for (float v : l) sum += std::exp(v - mx);
        nll += mx + std::log(sum) - l[static_cast<size_t>((*tokens)[static_cast<size_t>(c * 32 + j + 1)])];
        ++n;
      }
    }
    CHECK(r->n_scored == n);
    CHECK(r->ppl == doctest::Approx(std::exp(nll / n)).epsilon(1e-5));
  }

  TEST_CASE("a model compared with its own base file has no divergence") {
    Loaded m = Open("stories260K-q8dequant.gguf", 48);
    auto tokens = PerplexityTokens(*m.model, FixedText());
    REQUIRE(tokens.ok());
    const std::string base = TempPath("base.kld");
    PerplexityOptions save;
    save.save_base = base;
    save.n_chunks = 4;
    auto r0 = ComputePerplexity(*m.session, *tokens, 48, save);
    REQUIRE_MESSAGE(r0.ok(), r0.status().ToString());
    // Header, tokens, then (48 - 1 - 24) rows of 2 * 256 + 4 uint16 per chunk.
    std::ifstream in(base, std::ios::binary | std::ios::ate);
    CHECK(static_cast<int64_t>(in.tellg()) == 20 + 4 * 48 * 4 + 4 * 23 * (512 + 4) * 2);
    CHECK(*BaseFileContext(base) == 48);

    PerplexityOptions cmp;
    cmp.compare_base = base;
    auto r1 = ComputePerplexity(*m.session, {}, 0, cmp);
    REQUIRE_MESSAGE(r1.ok(), r1.status().ToString());
    REQUIRE(r1->has_kld);
    CHECK(r1->n_chunks == 4);
    CHECK(r1->ppl == doctest::Approx(r0->ppl).epsilon(1e-6));
    CHECK(r1->kld.mean < 1e-5);
    CHECK(r1->kld.same_top == 1.0);
    CHECK(std::fabs(r1->kld.rms_delta_p) < 1e-3);
    std::remove(base.c_str());
  }

  TEST_CASE("bad input: short text, chunk sizes, broken base files") {
    Loaded m = Open("stories260K-q8dequant.gguf", 64);
    auto tokens = PerplexityTokens(*m.model, "Once upon a time");
    REQUIRE(tokens.ok());
    auto r = ComputePerplexity(*m.session, *tokens, 64, {});
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("needs at least 128") != std::string::npos);
    auto big = PerplexityTokens(*m.model, FixedText());
    CHECK_FALSE(ComputePerplexity(*m.session, *big, 128, {}).ok());  // more than the session's context
    CHECK_FALSE(ComputePerplexity(*m.session, *big, 2, {}).ok());

    const std::string path = TempPath("bad.kld");
    auto write = [&](const std::string& bytes) {
      std::ofstream(path, std::ios::binary) << bytes;
    };
    PerplexityOptions cmp;
    cmp.compare_base = path;
    write("not a base file at all");
    CHECK(ComputePerplexity(*m.session, {}, 0, cmp).status().message().find("not a base") != std::string::npos);
    // A header that promises a huge file: refused by size, nothing allocated on its word.
    std::string h = "_logits_";
    auto u32 = [&](uint32_t v) { h.append(reinterpret_cast<const char*>(&v), 4); };
    u32(32), u32(512), u32(0x7fffffff);
    write(h);
    auto huge = ComputePerplexity(*m.session, {}, 0, cmp);
    REQUIRE_FALSE(huge.ok());
    CHECK(huge.status().message().find("header describes") != std::string::npos);
    h = "_logits_";
    u32(32), u32(1000), u32(1);
    write(h);
    CHECK(ComputePerplexity(*m.session, {}, 0, cmp).status().message().find("vocabulary of 1000") != std::string::npos);
    std::remove(path.c_str());
    cmp.compare_base = TempPath("missing.kld");
    CHECK(ComputePerplexity(*m.session, {}, 0, cmp).status().code() == absl::StatusCode::kNotFound);
  }
}

}  // namespace
}  // namespace r1::tools
