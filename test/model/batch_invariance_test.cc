// Batch-invariant sessions: every shared model (each architecture and weight type of reference/,
// the small trained models of models/ with their 8-wide heads) gives the same logits, bit for bit, whether a prompt is evaluated in one batch, in uneven batches or
// token by token, with every cache type, on the ISA the suite runs with (R1_ISA).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "r1/session.h"
#include "support/test_util.h"

R1_TEST_NEEDS_SHARED_DIR();

namespace r1 {
namespace {

// Long enough that the prompt-batch engines take the first batch (they start at 32 tokens).
constexpr size_t kPromptTokens = 70;

// Every position's logits after evaluating `tokens` in batches of the given sizes (cycled).
std::vector<float> LogitsInBatches(Session& s, const std::vector<int32_t>& tokens, const std::vector<size_t>& sizes) {
  std::vector<float> out;
  size_t done = 0;
  for (size_t i = 0; done < tokens.size(); ++i) {
    const size_t n = std::min(sizes[i % sizes.size()], tokens.size() - done);
    REQUIRE(s.Evaluate({tokens.data() + done, n}, /*all_logits=*/true).ok());
    for (size_t r = 0; r < n; ++r) {
      const auto row = s.Logits(static_cast<int64_t>(r));
      out.insert(out.end(), row.begin(), row.end());
    }
    done += n;
  }
  return out;
}

bool SameBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

StatusOr<std::unique_ptr<Session>> Open(std::shared_ptr<const Model> model, CacheType cache, bool invariant,
                                        int n_threads) {
  SessionOptions o;
  o.n_ctx = 128;
  o.n_threads = n_threads;
  o.cache_type = cache;
  o.batch_invariant = invariant;
  return Session::Create(std::move(model), o);
}

TEST_CASE("a batch-invariant session computes the same bits in any batching, for every shared model") {
  int compared = 0, default_mode_differs = 0;
  for (const std::string& path : test::SharedModelPaths()) {
    auto model = Model::Load(path);
    REQUIRE_MESSAGE(model.ok(), path, ": ", model.status().ToString());
    const auto prompt = test::RandomTokenIds((*model)->config().n_vocab, kPromptTokens, 11);
    for (CacheType cache : {CacheType::kF16, CacheType::kQ8_0, CacheType::kF32}) {
      INFO(std::filesystem::path(path).filename().string(), ", ", std::string(CacheTypeName(cache)), " cache");
      auto one_batch = Open(*model, cache, true, 2);
      if (!one_batch.ok()) {  // q8_0 needs head sizes that are multiples of 32
        CHECK(cache == CacheType::kQ8_0);
        continue;
      }
      const std::vector<float> want = LogitsInBatches(**one_batch, prompt, {kPromptTokens});
      auto stepped = Open(*model, cache, true, 1);
      REQUIRE(stepped.ok());
      CHECK_MESSAGE(SameBits(LogitsInBatches(**stepped, prompt, {1}), want), "token by token, 1 thread");
      auto uneven = Open(*model, cache, true, 2);
      REQUIRE(uneven.ok());
      CHECK_MESSAGE(SameBits(LogitsInBatches(**uneven, prompt, {33, 1, 5}), want), "batches of 33, 1, 5");
      ++compared;

      // Without the option the prompt engines round differently; counted to show what the
      // option is for (not every ISA and type has a separate prompt engine).
      auto fast = Open(*model, cache, false, 2);
      REQUIRE(fast.ok());
      if (!SameBits(LogitsInBatches(**fast, prompt, {kPromptTokens}), want)) ++default_mode_differs;
    }
  }
  CHECK(compared >= 40);
  MESSAGE(compared, " model and cache pairs bit-identical in every batching; ", default_mode_differs,
          " of them differ when batches use the prompt engines");
}

TEST_CASE("with the Q4_K matrices interleaved at load, every batching still computes the same bits") {
  int compared = 0;
  for (const std::string& path : test::SharedModelPaths()) {
    if (path.find("Q4_K") == std::string::npos) continue;
    LoadOptions lo;
    lo.interleave_rows = true;
    auto model = Model::Load(path, lo);
    REQUIRE_MESSAGE(model.ok(), path, ": ", model.status().ToString());
    INFO(std::filesystem::path(path).filename().string(), ", ", (*model)->repacked_bytes(), " bytes interleaved");
    const auto prompt = test::RandomTokenIds((*model)->config().n_vocab, kPromptTokens, 11);
    auto one_batch = Open(*model, CacheType::kF16, true, 2);
    REQUIRE(one_batch.ok());
    const std::vector<float> want = LogitsInBatches(**one_batch, prompt, {kPromptTokens});
    auto stepped = Open(*model, CacheType::kF16, true, 1);
    REQUIRE(stepped.ok());
    CHECK_MESSAGE(SameBits(LogitsInBatches(**stepped, prompt, {1}), want), "token by token, 1 thread");
    auto uneven = Open(*model, CacheType::kF16, true, 2);
    REQUIRE(uneven.ok());
    CHECK_MESSAGE(SameBits(LogitsInBatches(**uneven, prompt, {33, 1, 5}), want), "batches of 33, 1, 5");
    ++compared;
  }
  CHECK(compared >= 2);
}

}  // namespace
}  // namespace r1
