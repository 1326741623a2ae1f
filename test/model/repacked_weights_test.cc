// Models loaded with LoadOptions::repack_weights compute the same logits as the zero-copy load:
// dense and mixture-of-experts models, K-quant mixtures and legacy types, prompt batches (which
// read the panels) and decode steps (which read the mapped rows). With interleave_rows the Q4_K
// and Q6_K products add in another order: the same logits to f32 rounding.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/isa.h"
#include "quant/quant_kernels.h"
#include "r1/session.h"
#include "support/test_util.h"

R1_TEST_NEEDS_SHARED_DIR();

namespace r1 {
namespace {

std::vector<float> PromptThenStep(const std::string& path, bool repack, bool interleave = false,
                                  bool invariant = false) {
  LoadOptions lo;
  lo.repack_weights = repack;
  lo.interleave_rows = interleave;
  auto model = Model::Load(path, lo);
  REQUIRE_MESSAGE(model.ok(), model.status().ToString());
  SessionOptions so;
  so.n_ctx = 128;
  so.n_threads = 2;
  so.batch_invariant = invariant;
  if (invariant) so.cache_type = CacheType::kF32;
  auto session = Session::Create(*model, so);
  REQUIRE_MESSAGE(session.ok(), session.status().ToString());
  // 40 tokens: past the 32 from which prompt batches take the INT8 GEMM.
  const auto prompt = test::RandomTokenIds((*model)->config().n_vocab, 40, 9);
  REQUIRE((*session)->Evaluate(prompt, /*all_logits=*/true).ok());
  std::vector<float> logits((*session)->Logits(0).begin(), (*session)->Logits(0).end());
  const auto last = (*session)->Logits(39);
  logits.insert(logits.end(), last.begin(), last.end());
  const int32_t next = 3;
  REQUIRE((*session)->Evaluate({&next, 1}).ok());
  logits.insert(logits.end(), (*session)->Logits().begin(), (*session)->Logits().end());
  return logits;
}

TEST_CASE("weights repacked at load give the zero-copy load's logits") {
  if (GetInt8GemmKernels(DefaultIsa()) == nullptr) {
    MESSAGE("this CPU has no INT8 prompt GEMM: repack_weights is ignored, checking only that loads succeed");
  }
  for (const char* name : {"qwen2-dev.Q4_K_M.gguf", "qwen2-dev.Q4_0.gguf", "qwen2-dev.Q5_1.gguf",
                           "llama-ropefreqs-dev.Q6_K.gguf", "qwen2-dev.Q8_0.gguf", "qwen2-dev.BF16.gguf",
                           "deepseek2-dev.Q4_K_M.gguf"}) {
    INFO(name);
    const std::string path = *test::SharedDir() + "/reference/" + name;
    CHECK(PromptThenStep(path, true) == PromptThenStep(path, false));
  }
}

TEST_CASE("Q4_K and Q6_K matrices interleaved at load give the mapped rows' logits to f32 rounding") {
  const bool has_kernel = GetQuantKernels(DefaultIsa(), DType::kQ4_K)->vec_dot_interleaved != nullptr;
  if (!has_kernel) MESSAGE("this ISA has no interleaved Q4_K kernel: interleave_rows is ignored");
  for (const char* name : {"qwen2-dev.Q4_K_M.gguf", "llama-ropefreqs-dev.Q4_K_M.gguf", "deepseek2-dev.Q4_K_M.gguf",
                           "qwen2-dev.Q8_0.gguf"}) {
    INFO(name);
    const std::string path = *test::SharedDir() + "/reference/" + name;
    LoadOptions lo;
    lo.interleave_rows = true;
    auto model = Model::Load(path, lo);
    REQUIRE_MESSAGE(model.ok(), model.status().ToString());
    const bool q4_k = std::string(name).find("Q4_K") != std::string::npos;
    CHECK(((*model)->repacked_bytes() > 0) == (has_kernel && q4_k));
    // deepseek2's router chooses among near-tied experts, so an f32 difference can change a
    // route: its fidelity is checked against llama.cpp's bounds (reference-models-interleaved).
    if (std::string(name).find("deepseek2") != std::string::npos) continue;
    // Batch-invariant sessions with an f32 cache: the prompt goes through the dots in both (as
    // it does with interleaved rows in any session; the prompt GEMM rounds the activations its
    // own way), and no f16 rounding of keys and values turns an f32 difference into a step.
    const std::vector<float> want = PromptThenStep(path, false, false, true);
    const std::vector<float> got = PromptThenStep(path, false, true, true);
    REQUIRE(got.size() == want.size());
    const int64_t n_vocab = (*model)->config().n_vocab;
    for (size_t row = 0; row < want.size() / static_cast<size_t>(n_vocab); ++row) {
      const auto w = want.begin() + static_cast<ptrdiff_t>(row * n_vocab), g = got.begin() + static_cast<ptrdiff_t>(row * n_vocab);
      float scale = 0, diff = 0;
      for (int64_t i = 0; i < n_vocab; ++i) {
        scale = std::max(scale, std::fabs(w[i]));
        diff = std::max(diff, std::fabs(w[i] - g[i]));
      }
      CHECK(diff <= 1e-4f * std::max(scale, 1.0f));
    }
  }
}

}  // namespace
}  // namespace r1
