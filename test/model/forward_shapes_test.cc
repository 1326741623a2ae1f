// r1's forward pass on random models of many shapes, against a plain reference forward;
// batched prefill, token-by-token decode and split batches agree with each other.
#include <doctest/doctest.h>

#include <filesystem>

#include "r1/session.h"
#include "reference_data.h"
#include "support/test_util.h"
#include "tiny_model.h"

namespace r1 {
namespace {

using test::TinyModelSpec;

std::unique_ptr<Session> Open(const std::string& path, int64_t n_batch = 512, int n_threads = 2,
                              CacheType cache = CacheType::kF32) {
  auto model = Model::Load(path);
  REQUIRE_MESSAGE(model.ok(), model.status().ToString());
  SessionOptions o;
  o.n_ctx = 128;
  o.n_batch = n_batch;
  o.n_threads = n_threads;
  o.cache_type = cache;
  auto s = Session::Create(*model, o);
  REQUIRE_MESSAGE(s.ok(), s.status().ToString());
  return *std::move(s);
}

// Largest difference over all rows of two sessions' or arrays' logits.
double MaxDiffRows(const Session& s, const std::vector<float>& want, size_t n_vocab) {
  double worst = 0;
  for (int64_t r = 0; r < s.n_logit_rows(); ++r) {
    worst = std::max(worst, test::MaxAbsDiff(s.Logits(r).data(), want.data() + r * n_vocab, n_vocab));
  }
  return worst;
}

// How far each cache type may move the logits on top of the weights' own bound (measured
// worst over these shapes: f16 7e-3, q8_0 0.16, on the head-size-128 Llama-3 case whose rotated
// keys have wide ranges), and how far a token-by-token or split-batch run may drift from the
// batched one (the f16 and q8_0 caches round keys and values that the batched and stepwise
// products compute in different orders).
struct CacheBounds {
  CacheType type;
  double reference, same_run;
};
constexpr CacheBounds kCacheBounds[] = {
    {CacheType::kF32, 0.0, 1e-5},
    {CacheType::kF16, 1e-2, 1e-2},
    {CacheType::kQ8_0, 0.2, 5e-2},
};

void CheckShape(const TinyModelSpec& spec, double bound) {
  const std::string path = test::WriteTinyModel(spec);
  const size_t n_vocab = size_t(spec.n_vocab);
  const auto prompt = test::RandomTokenIds(spec.n_vocab, 23, spec.seed);
  const auto want = test::ReferenceForward(path, prompt);

  for (const CacheBounds& cache : kCacheBounds) {
    if (cache.type == CacheType::kQ8_0 && spec.head_dim % 32 != 0) continue;  // q8_0 needs whole blocks per head
    INFO(std::string(CacheTypeName(cache.type)), " cache");
    auto batched = Open(path, 512, 2, cache.type);
    REQUIRE(batched->Evaluate(prompt, true).ok());
    const double diff = MaxDiffRows(*batched, want, n_vocab);
    CHECK(diff <= bound + cache.reference);

    // Decode one token at a time: each step's logits equal the batched row.
    auto stepwise = Open(path, 512, 1, cache.type);
    double step_diff = 0;
    for (size_t i = 0; i < prompt.size(); ++i) {
      REQUIRE(stepwise->Evaluate({&prompt[i], 1}).ok());
      step_diff = std::max(step_diff, test::MaxAbsDiff(stepwise->Logits().data(), batched->Logits(int64_t(i)).data(), n_vocab));
    }
    CHECK(step_diff <= cache.same_run);

    // Prompts longer than one batch give the same rows.
    auto split = Open(path, 5, 2, cache.type);
    REQUIRE(split->Evaluate(prompt, true).ok());
    double split_diff = 0;
    for (size_t i = 0; i < prompt.size(); ++i) {
      split_diff = std::max(split_diff, test::MaxAbsDiff(split->Logits(int64_t(i)).data(), batched->Logits(int64_t(i)).data(), n_vocab));
    }
    CHECK(split_diff <= cache.same_run);
  }
  std::filesystem::remove(path);
}

TEST_CASE("forward pass matches the reference on many shapes") {
  SUBCASE("qwen2, q/k/v biases, tied embeddings, odd vocabulary") {
    TinyModelSpec s{.arch = "qwen2", .n_vocab = 97, .tied = true, .qkv_bias = true, .seed = 1};
    CheckShape(s, 1e-4);
  }
  SUBCASE("llama, one KV head, head dim 128, Llama-3 frequency factors") {
    TinyModelSpec s{.arch = "llama", .n_vocab = 300, .d_model = 256, .n_layers = 2, .n_heads = 2, .n_kv_heads = 1,
                    .head_dim = 128, .d_ff = 256, .rope_base = 500000.0f, .rope_freq_factors = true, .seed = 2};
    CheckShape(s, 1e-4);
  }
  SUBCASE("llama, partial rotary, linear rope scaling, no grouping") {
    TinyModelSpec s{.arch = "llama", .n_vocab = 64, .d_model = 128, .n_heads = 2, .n_kv_heads = 2, .head_dim = 64,
                    .d_ff = 160, .n_rot = 32, .rope_linear_factor = 4.0f, .seed = 3};
    CheckShape(s, 1e-4);
  }
  SUBCASE("qwen3: per-head query and key norms, head dim wider than d_model / heads") {
    TinyModelSpec s{.arch = "qwen3", .n_vocab = 120, .d_model = 64, .n_layers = 2, .n_heads = 4, .n_kv_heads = 2,
                    .head_dim = 32, .d_ff = 96, .rope_base = 1000000.0f, .seed = 6};
    CheckShape(s, 1e-4);
  }
  SUBCASE("qwen2, eight query heads per KV head, three layers") {
    TinyModelSpec s{.arch = "qwen2", .n_vocab = 50, .d_model = 64, .n_layers = 3, .n_heads = 8, .n_kv_heads = 1,
                    .head_dim = 8, .d_ff = 64, .qkv_bias = true, .seed = 4};
    CheckShape(s, 1e-4);
  }
}

TEST_CASE("quantized weights stay within their bounds of the f32 reference") {
  // The reference rounds activations through the same 8-bit blocks (or f16/bf16), so what is
  // left is summation order and the rare rounding flip it causes.
  const std::pair<DType, double> cases[] = {
      {DType::kF16, 5e-3},  {DType::kBF16, 2e-2}, {DType::kQ8_0, 0.05}, {DType::kQ4_0, 0.1}, {DType::kQ4_1, 0.1},
      {DType::kQ5_0, 0.05}, {DType::kQ5_1, 0.05}, {DType::kQ2_K, 0.2},  {DType::kQ3_K, 0.2}, {DType::kQ4_K, 0.1},
      {DType::kQ5_K, 0.05}, {DType::kQ6_K, 0.05},
  };
  for (const auto& [type, bound] : cases) {
    INFO("type ", DTypeName(type));
    TinyModelSpec s{.arch = "qwen2", .n_vocab = 70, .d_model = 256, .n_layers = 1, .n_heads = 4, .n_kv_heads = 2,
                    .head_dim = 64, .d_ff = 512, .qkv_bias = true, .matrix_type = type, .seed = 5};
    CheckShape(s, bound);
  }
}

TEST_CASE("bad input to a session is an error, never a crash") {
  TinyModelSpec spec;
  const std::string path = test::WriteTinyModel(spec);
  auto s = Open(path);
  CHECK(s->Evaluate({}).code() == absl::StatusCode::kInvalidArgument);
  const std::vector<int32_t> bad_high = {1, int32_t(spec.n_vocab)};
  CHECK(s->Evaluate(bad_high).code() == absl::StatusCode::kInvalidArgument);
  const std::vector<int32_t> bad_negative = {-1};
  CHECK(s->Evaluate(bad_negative).code() == absl::StatusCode::kInvalidArgument);
  CHECK(s->n_past() == 0);
  const std::vector<int32_t> too_long(129, 1);
  const Status st = s->Evaluate(too_long);
  CHECK(st.code() == absl::StatusCode::kOutOfRange);
  CHECK(std::string(st.message()).find("context") != std::string::npos);
  const std::vector<int32_t> fits(128, 1);
  CHECK(s->Evaluate(fits).ok());
  const int32_t one = 1;
  CHECK(s->Evaluate({&one, 1}).code() == absl::StatusCode::kOutOfRange);
  CHECK(s->Truncate(200).code() == absl::StatusCode::kOutOfRange);
  CHECK(s->Truncate(10).ok());
  CHECK(s->Evaluate({&one, 1}).ok());
  CHECK(s->n_past() == 11);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace r1
