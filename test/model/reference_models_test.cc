// The synthetic models in shared/reference against the logits llama.cpp computed on them,
// held to the bounds of shared/reference/README.md, in batched prefill and token by token.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "r1/session.h"
#include "reference_data.h"
#include "support/test_util.h"

R1_TEST_NEEDS_SHARED_DIR();

namespace r1 {
namespace {

using nlohmann::json;
using test::LogitBound;
using test::MaxAbsDiff;
using test::Top2Margin;

struct Checker {
  std::string label;
  double bound;
  size_t n_vocab;
  int checked_positions = 0;

  // One row of r1's logits against llama.cpp's row.
  void Row(const float* got, const float* want, const std::string& where) {
    INFO(label, " ", where);
    const double diff = MaxAbsDiff(got, want, n_vocab);
    CHECK_MESSAGE(diff <= bound, "max |diff| ", diff, " > bound ", bound);
    if (Top2Margin(want, n_vocab) > 2 * bound) {
      CHECK(Argmax({got, n_vocab}) == Argmax({want, n_vocab}));
    }
    ++checked_positions;
  }
};

std::unique_ptr<Session> NewSession(const std::shared_ptr<const Model>& model) {
  SessionOptions options;
  options.n_ctx = 512;
  options.n_threads = 2;
  auto session = Session::Create(model, options);
  REQUIRE_MESSAGE(session.ok(), session.status().ToString());
  return *std::move(session);
}

void CheckPrompt(const std::shared_ptr<const Model>& model, const json& prompt, const std::vector<float>& want,
                 Checker& check) {
  const std::vector<int32_t> ids = prompt["token_ids"].get<std::vector<int32_t>>();
  const size_t n = ids.size();
  // Batched: the whole prompt in one pass, every position's logits.
  auto batched = NewSession(model);
  REQUIRE(batched->Evaluate(ids, /*all_logits=*/true).ok());
  for (size_t i = 0; i < n; ++i) {
    check.Row(batched->Logits(int64_t(i)).data(), want.data() + i * check.n_vocab, "batched, position " + std::to_string(i));
  }
  // Token by token, through the decode path.
  auto stepwise = NewSession(model);
  for (size_t i = 0; i < n; ++i) {
    REQUIRE(stepwise->Evaluate({&ids[i], 1}).ok());
    check.Row(stepwise->Logits().data(), want.data() + i * check.n_vocab, "token by token, position " + std::to_string(i));
  }
}

// Teacher forcing: feed llama.cpp's generated ids back and compare every step's logits; the
// ids themselves must agree wherever llama.cpp's margin is clear.
void CheckGreedy(const std::shared_ptr<const Model>& model, const json& greedy, const std::vector<float>& want,
                 Checker& check) {
  const auto prompt = greedy["prompt_ids"].get<std::vector<int32_t>>();
  const auto generated = greedy["generated_ids"].get<std::vector<int32_t>>();
  const auto margins = greedy["top2_margins"].get<std::vector<double>>();
  auto session = NewSession(model);
  REQUIRE(session->Evaluate(prompt).ok());
  for (size_t i = 0; i < generated.size(); ++i) {
    if (i > 0) REQUIRE(session->Evaluate({&generated[i - 1], 1}).ok());
    const float* got = session->Logits().data();
    check.Row(got, want.data() + i * check.n_vocab, "greedy step " + std::to_string(i));
    if (margins[i] > 2 * check.bound) {
      INFO(check.label, " greedy step ", i);
      CHECK(Argmax({got, check.n_vocab}) == generated[i]);
    }
  }
}

TEST_CASE("every dense reference model matches llama.cpp within its bound") {
  const std::string dir = *test::SharedDir() + "/reference";
  const auto refs = test::FilesEndingWith(dir, ".ref.json");
  REQUIRE_FALSE(refs.empty());
  int n_models = 0;
  for (const std::string& ref_path : refs) {
    const json ref = test::ReadJson(ref_path);
    REQUIRE_MESSAGE(ref.is_object(), "cannot parse ", ref_path);
    const std::string arch = ref["architecture"];
    if (arch != "llama" && arch != "qwen2") {
      MESSAGE("not checked here (architecture ", arch, "): ", ref_path);
      continue;
    }
    const std::string quant = ref["quant_type"];
    auto model = Model::Load(dir + "/" + ref["model_file"].get<std::string>());
    REQUIRE_MESSAGE(model.ok(), model.status().ToString());
    const size_t n_vocab = ref["n_vocab"].get<size_t>();
    REQUIRE(size_t((*model)->config().n_vocab) == n_vocab);
    ++n_models;

    for (const auto& [variant_name, variant] : ref["variants"].items()) {
      const bool exact = variant_name == "f32kv";
      Checker check{ref["model_file"].get<std::string>() + " [" + variant_name + "]", LogitBound(quant, exact), n_vocab};
      REQUIRE_MESSAGE(check.bound > 0, "no bound for type ", quant);
      for (const json& prompt : variant["prompts"]) {
        const auto want = test::ReadLogits(dir + "/" + prompt["logits_file"].get<std::string>(),
                                           prompt["token_ids"].size(), n_vocab);
        REQUIRE_FALSE(want.empty());
        CheckPrompt(*model, prompt, want, check);
      }
      const json& greedy = variant["greedy"];
      const auto want = test::ReadLogits(dir + "/" + greedy["logits_file"].get<std::string>(),
                                         greedy["generated_ids"].size(), n_vocab);
      REQUIRE_FALSE(want.empty());
      CheckGreedy(*model, greedy, want, check);
      CHECK(check.checked_positions > 0);
    }
  }
  CHECK(n_models >= 10);
}

}  // namespace
}  // namespace r1
