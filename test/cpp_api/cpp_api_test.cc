// The header-only C++ API (r1/r1.hpp) against libr1 alone: loading, tokenizing, streaming
// generation, errors as exceptions (the library's and the callbacks' own), state files.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <r1/r1.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

std::string ModelPath() {
  const char* dir = std::getenv("R1_SHARED_DIR");
  return std::string(dir ? dir : "") + "/reference/qwen2-dev.Q8_0.gguf";
}

r1::GenerateOptions Greedy(int n) {
  r1::GenerateOptions o;
  o.max_new_tokens = n;
  o.temperature = 0.0f;
  o.ignore_eos = true;
  return o;
}

TEST_CASE("the header matches the library") {
  CHECK(r1::LibraryMatchesHeader());
  CHECK(r1::LibraryVersion() == std::to_string(R1_VERSION_MAJOR) + "." + std::to_string(R1_VERSION_MINOR) + "." +
                                    std::to_string(R1_VERSION_PATCH));
}

TEST_CASE("the GPUs are listed, none in a build without Vulkan") {
  const std::vector<r1::GpuDevice> gpus = r1::GpuDevices();
  for (const r1::GpuDevice& gpu : gpus) {
    CHECK(!gpu.name.empty());
    CHECK(std::string("discrete integrated virtual cpu other").find(gpu.kind) != std::string::npos);
  }
  // A session naming a GPU past the list is refused with a status, not a crash.
  r1::SessionOptions options;
  options.gpu_layers = -1;
  options.gpu_device = static_cast<int>(gpus.size()) + 5;
  const r1::Model model = r1::Model::Load(ModelPath());
  CHECK_THROWS_AS(r1::Session(model, options), r1::Error);
}

TEST_CASE("models load, tokenize and describe themselves") {
  float last = -1.0f;
  r1::ModelOptions options;
  options.progress = [&](float f) {
    last = f;
    return true;
  };
  const r1::Model model = r1::Model::Load(ModelPath(), options);
  CHECK(last == 1.0f);
  const r1::ModelInfo info = model.Info();
  CHECK(info.architecture == "qwen2");
  CHECK(info.n_vocab > 0);
  const std::vector<int32_t> ids = model.Tokenize("hello world, a longer text to tokenize", r1::AddBos::kNo);
  CHECK(ids.size() > 3);
  CHECK(model.Detokenize(ids) == "hello world, a longer text to tokenize");
}

TEST_CASE("failures are r1::Error with the C status, and callbacks' exceptions come back") {
  try {
    (void)r1::Model::Load("/nonexistent/model.gguf");
    FAIL("loaded a missing file");
  } catch (const r1::Error& e) {
    CHECK(e.status() == R1_ERR_NOT_FOUND);
    CHECK(std::string(e.what()).find("/nonexistent/model.gguf") != std::string::npos);
  }
  r1::ModelOptions cancel;
  cancel.progress = [](float f) {
    if (f > 0.0f) throw std::logic_error("the app gave up");
    return true;
  };
  CHECK_THROWS_AS((void)r1::Model::Load(ModelPath(), cancel), std::logic_error);

  const r1::Model model = r1::Model::Load(ModelPath());
  r1::Session session(model, {.n_ctx = 64});
  CHECK_THROWS_AS(session.Generate("a b c", Greedy(8),
                                   [](r1::Channel, std::string_view, int32_t) -> bool { throw std::logic_error("x"); }),
                  std::logic_error);
  r1::SessionOptions bad;
  bad.n_ctx = -5;
  try {
    r1::Session s(model, bad);
    FAIL("created a session with a negative context");
  } catch (const r1::Error& e) {
    CHECK(e.status() == R1_ERR_INVALID_ARGUMENT);
  }
}

TEST_CASE("generation streams, stops when asked, and state files restore it") {
  const r1::Model model = r1::Model::Load(ModelPath());
  r1::Session session(model, {.n_ctx = 128});
  std::string streamed;
  int pieces = 0;
  const r1::Result result = session.Generate("The cat", Greedy(12), [&](r1::Channel channel, std::string_view text, int32_t) {
    if (channel == r1::Channel::kContent) streamed += text;
    ++pieces;
    return true;
  });
  CHECK(result.n_generated_tokens == 12);
  CHECK(result.stop_reason == r1::StopReason::kMaxTokens);
  CHECK(pieces > 0);
  CHECK(streamed == result.content);

  const std::string path = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + "/r1_cpp_api_test.state";
  session.Reset();
  session.Eval(model.Tokenize("The cat"));
  CHECK(session.Logits().size() == size_t(model.Info().n_vocab));
  session.Save(path);
  const std::vector<float> want(session.Logits().begin(), session.Logits().end());
  r1::Session restored(model, {.n_ctx = 128});
  restored.Load(path);
  CHECK(restored.n_past() == session.n_past());
  const std::vector<int32_t> next = {5};
  session.Eval(next);
  restored.Eval(next);
  CHECK(std::vector<float>(restored.Logits().begin(), restored.Logits().end()) ==
        std::vector<float>(session.Logits().begin(), session.Logits().end()));
  std::remove(path.c_str());

  int seen = 0;
  const r1::Result stopped = session.Generate(" and", Greedy(50), [&](r1::Channel, std::string_view, int32_t) {
    return ++seen < 3;
  });
  CHECK(stopped.stop_reason == r1::StopReason::kCancelled);
  CHECK(r1::StopReasonName(stopped.stop_reason) == std::string("cancelled"));
}

}  // namespace
