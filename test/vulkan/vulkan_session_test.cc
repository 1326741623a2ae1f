// Sessions with layers on the GPU: the CPU's greedy choices (near ties aside), hybrid splits, and the
// calls a GPU session cannot serve refused with the reason.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "r1/session.h"
#include "r1/tokenizer.h"
#include "support/test_util.h"
#include "vulkan_test_util.h"

R1_TEST_NEEDS_SHARED_DIR();

namespace r1 {
namespace {

[[maybe_unused]] const bool kHaveDevice = vulkan_test::RequireDeviceOrSkip();

std::shared_ptr<const Model> LoadShared(const std::string& relative) {
  auto model = Model::Load(*test::SharedDir() + "/" + relative);
  REQUIRE_MESSAGE(model.ok(), model.status().ToString());
  return *model;
}

std::unique_ptr<Session> Open(std::shared_ptr<const Model> model, int gpu_layers) {
  SessionOptions o;
  o.n_ctx = 128;
  o.n_threads = 2;
  o.cache_type = CacheType::kF32;  // as the GPU layers keep theirs
  o.gpu_layers = gpu_layers;
  auto s = Session::Create(std::move(model), o);
  REQUIRE_MESSAGE(s.ok(), s.status().ToString());
  return *std::move(s);
}

GenerateOptions Greedy(int64_t n) {
  GenerateOptions o;
  o.max_new_tokens = n;
  o.sampler.temperature = 0.0f;
  return o;
}

TEST_CASE("the GPUs a session may name are the Vulkan devices") {
  const auto gpus = ListGpuDevices();
  REQUIRE(gpus.ok());
  const auto devices = vk::ListDevices();
  REQUIRE(devices.ok());
  REQUIRE(gpus->size() == devices->size());
  CHECK(!gpus->empty());  // this suite runs where a device is
  for (size_t i = 0; i < gpus->size(); ++i) {
    CHECK((*gpus)[i].name == (*devices)[i].name);
    CHECK((*gpus)[i].kind == (*devices)[i].kind);
  }
}

int64_t ArgMax(absl::Span<const float> v) { return std::max_element(v.begin(), v.end()) - v.begin(); }

// Greedy decoding on the CPU and with gpu_layers on the GPU in lockstep, both sessions fed the
// CPU's choice: the GPU chooses the same token at every step, except where the two candidates
// score within kTie of each other on both backends (a near tie the order of the sums decides).
// Returns the steps where they chose differently; every logit agrees within kLogitBound.
int StepsChosenApart(const std::shared_ptr<const Model>& model, int gpu_layers, int n_steps) {
  constexpr float kTie = 0.01f, kLogitBound = 0.05f;
  EncodeOptions encode;
  encode.parse_special = true;
  auto prompt = model->tokenizer()->Encode("Once upon a time", encode);
  REQUIRE(prompt.ok());
  auto cpu = Open(model, 0), gpu = Open(model, gpu_layers);
  std::vector<int32_t> next = *prompt;
  int apart = 0;
  for (int step = 0; step < n_steps; ++step) {
    CAPTURE(step);
    REQUIRE(cpu->Evaluate(next).ok());
    REQUIRE(gpu->Evaluate(next).ok());
    const absl::Span<const float> c = cpu->Logits(), g = gpu->Logits();
    REQUIRE(c.size() == g.size());
    float max_diff = 0.0f;
    for (size_t i = 0; i < c.size(); ++i) max_diff = std::max(max_diff, std::abs(c[i] - g[i]));
    CHECK(max_diff <= kLogitBound);
    const int64_t on_cpu = ArgMax(c), on_gpu = ArgMax(g);
    if (on_gpu != on_cpu) {
      ++apart;
      CHECK(c[on_cpu] - c[on_gpu] <= kTie);
      CHECK(g[on_gpu] - g[on_cpu] <= kTie);
    }
    next = {static_cast<int32_t>(on_cpu)};
  }
  return apart;
}

TEST_CASE("greedy decoding chooses the CPU's tokens with every layer or the first on the GPU") {
  // The GPU multiplies the activations rounded as the CPU rounds them, so the two differ only in
  // the order of their sums: dense and latent-attention/mixture-of-experts models, float and
  // quantized weights.
  for (const std::string file :
       {"models/stories260K-q8dequant.gguf", "reference/qwen2-dev.F32.gguf", "reference/llama-ropefreqs-dev.F16.gguf",
        "reference/qwen2-dev.BF16.gguf", "reference/qwen2-dev.Q4_K_M.gguf", "reference/deepseek2-dev.F32.gguf",
        "reference/deepseek2-dev.Q8_0.gguf", "reference/deepseek2-dev.Q4_K_M.gguf"}) {
    CAPTURE(file);
    auto model = LoadShared(file);
    for (const int gpu_layers : {-1, 1}) {
      CAPTURE(gpu_layers);
      const int apart = StepsChosenApart(model, gpu_layers, 24);
      if (apart > 0) MESSAGE(apart << " of 24 steps chose apart at a near tie");
      CHECK(apart <= 1);  // near ties are rare: a second one is a difference, not an accident
    }
  }
}

TEST_CASE("greedy text is the CPU's with every layer or the first on the GPU (float weights)") {
  for (const std::string file : {"reference/qwen2-dev.F32.gguf", "reference/deepseek2-dev.F32.gguf"}) {
    CAPTURE(file);
    auto model = LoadShared(file);
    auto cpu = Open(model, 0)->Generate("Once upon a time", Greedy(24));
    REQUIRE(cpu.ok());
    CHECK(cpu->tokens.size() == 24);  // a generation to compare, not an early end
    for (const int gpu_layers : {-1, 1}) {
      CAPTURE(gpu_layers);
      auto gpu = Open(model, gpu_layers)->Generate("Once upon a time", Greedy(24));
      REQUIRE_MESSAGE(gpu.ok(), gpu.status().ToString());
      CHECK(gpu->tokens == cpu->tokens);
    }
  }
}

TEST_CASE("after a rollback the GPU layers continue from the kept positions, as the CPU does") {
  auto model = LoadShared("reference/qwen2-dev.F32.gguf");
  std::vector<std::vector<int32_t>> runs;
  for (const int gpu_layers : {0, -1, 1}) {
    auto s = Open(model, gpu_layers);
    auto first = s->Generate("Once upon a time", Greedy(16));
    REQUIRE(first.ok());
    REQUIRE(s->Truncate(s->n_past() - 10).ok());  // the cache past here is stale, then rewritten
    auto again = s->Generate(" there was", Greedy(16));
    REQUIRE(again.ok());
    runs.push_back(again->tokens);
  }
  CHECK(runs[0].size() == 16);
  CHECK(runs[1] == runs[0]);
  CHECK(runs[2] == runs[0]);
}

TEST_CASE("a GPU session steps alone and keeps its cache to itself") {
  auto model = LoadShared("reference/qwen2-dev.F32.gguf");
  auto gpu = Open(model, -1), other = Open(model, 0);
  const std::vector<int32_t> prompt = {1, 2, 3, 4};
  REQUIRE(gpu->Evaluate(prompt).ok());
  REQUIRE(other->Evaluate(prompt).ok());
  Session* const both[] = {gpu.get(), other.get()};
  const int32_t next[] = {5, 6};
  CHECK(Session::EvaluateBatch(both, next).code() == absl::StatusCode::kFailedPrecondition);
  Session* const alone[] = {gpu.get()};
  CHECK(Session::EvaluateBatch(alone, {next, 1}).ok());  // a batch of one is its own pass
  const std::string path = (std::filesystem::temp_directory_path() / "r1-gpu-session.state").string();
  CHECK(gpu->SaveState(path).code() == absl::StatusCode::kFailedPrecondition);
  CHECK(gpu->LoadState(path).code() == absl::StatusCode::kFailedPrecondition);
  CHECK(!std::filesystem::exists(path));
}

}  // namespace
}  // namespace r1
