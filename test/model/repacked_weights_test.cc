// Models loaded with LoadOptions::repack_weights compute the same logits as the zero-copy load:
// dense and mixture-of-experts models, K-quant mixtures and legacy types, prompt batches (which
// read the panels) and decode steps (which read the mapped rows).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "kernels/isa.h"
#include "quant/quant_kernels.h"
#include "r1/session.h"
#include "support/test_util.h"

R1_TEST_NEEDS_SHARED_DIR();

namespace r1 {
namespace {

std::vector<float> PromptThenStep(const std::string& path, bool repack) {
  LoadOptions lo;
  lo.repack_weights = repack;
  auto model = Model::Load(path, lo);
  REQUIRE_MESSAGE(model.ok(), model.status().ToString());
  SessionOptions so;
  so.n_ctx = 128;
  so.n_threads = 2;
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

}  // namespace
}  // namespace r1
