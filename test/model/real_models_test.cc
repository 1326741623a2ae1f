// The small real models in shared/models: logits against llama.cpp's, and greedy
// continuations id for id from the recorded prompt ids.
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

// These models' logits reach ±20, ten times the synthetic ones, so the F32 bound scales too.
constexpr double kExactBound = 1e-3;  // vs the F32-KV-cache, no-flash-attention run
constexpr double kDefaultBound = 5e-2;  // vs llama.cpp's defaults (F16 KV cache)

// A q8_0 cache rounds keys and values to 8 bits: its error adds to the default bound.
constexpr double kQ8CacheBound = 1e-1;

std::unique_ptr<Session> NewSession(const std::shared_ptr<const Model>& model, CacheType cache) {
  SessionOptions options;
  options.n_ctx = 256;
  options.n_threads = 2;
  options.cache_type = cache;
  auto session = Session::Create(model, options);
  REQUIRE_MESSAGE(session.ok(), session.status().ToString());
  return *std::move(session);
}

TEST_CASE("real models match llama.cpp's logits and greedy continuations") {
  const std::string dir = *test::SharedDir() + "/models";
  const auto refs = test::FilesEndingWith(dir, ".ref.json");
  REQUIRE(refs.size() >= 2);
  for (const std::string& ref_path : refs) {
    const json ref = test::ReadJson(ref_path);
    REQUIRE_MESSAGE(ref.is_object(), "cannot parse ", ref_path);
    const std::string file = ref["model_file"];
    auto model = Model::Load(dir + "/" + file);
    REQUIRE_MESSAGE(model.ok(), model.status().ToString());
    const size_t n_vocab = std::stoul(ref["n_vocab"].is_string() ? ref["n_vocab"].get<std::string>()
                                                                  : std::to_string(ref["n_vocab"].get<size_t>()));
    // Random weights tie exactly at times: compare their logits, not their generated ids.
    const bool compare_ids = file.find("random") == std::string::npos;

    for (const auto& [variant_name, variant] : ref["variants"].items()) {
      // llama.cpp's exact run against r1's f32 cache; its default (f16 cache) against r1's f16
      // and q8_0 caches.
      const bool exact = variant_name == "f32kv";
      for (const CacheType cache : exact ? std::vector{CacheType::kF32} : std::vector{CacheType::kF16, CacheType::kQ8_0}) {
      if (!test::CacheTypeFits(*model, cache)) continue;
      const double bound = exact ? kExactBound : cache == CacheType::kQ8_0 ? kQ8CacheBound : kDefaultBound;
      for (const json& prompt : variant["prompts"]) {
        INFO(file, " [", variant_name, ", ", std::string(CacheTypeName(cache)), " cache] prompt ", prompt["index"].dump());
        const auto ids = prompt["token_ids"].get<std::vector<int32_t>>();
        const bool all_rows = prompt["logits_rows"].get<std::string>() == "all prompt positions";
        const auto want = test::ReadLogits(dir + "/" + prompt["logits_file"].get<std::string>(),
                                           all_rows ? ids.size() : 1, n_vocab);
        REQUIRE_FALSE(want.empty());
        auto session = NewSession(*model, cache);
        REQUIRE(session->Evaluate(ids, all_rows).ok());
        for (size_t row = 0; row < (all_rows ? ids.size() : 1); ++row) {
          INFO("row ", row);
          const auto got = session->Logits(all_rows ? int64_t(row) : -1);
          CHECK(test::MaxAbsDiff(got.data(), want.data() + row * n_vocab, n_vocab) <= bound);
        }
        if (!compare_ids) continue;

        // Greedy continuation from the prompt: every id as recorded.
        const auto expected = prompt["greedy"]["generated_ids"].get<std::vector<int32_t>>();
        std::vector<int32_t> generated;
        for (size_t i = 0; i < expected.size(); ++i) {
          const int32_t next = Argmax(session->Logits());
          generated.push_back(next);
          REQUIRE(session->Evaluate({&next, 1}).ok());
        }
        CHECK(generated == expected);
      }
      }
    }
  }
}

}  // namespace
}  // namespace r1
