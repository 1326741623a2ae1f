// Generation on real and reference models: reproducible sampling, stop strings, channels and
// the reasoning budget, cancellation, multi-turn prefix reuse, saved and restored state.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "r1/session.h"
#include "r1/tokenizer.h"
#include "support/test_util.h"

R1_TEST_NEEDS_SHARED_DIR();

namespace r1 {
namespace {

std::shared_ptr<const Model> LoadShared(const std::string& relative) {
  auto model = Model::Load(*test::SharedDir() + "/" + relative);
  REQUIRE_MESSAGE(model.ok(), model.status().ToString());
  return *model;
}

std::unique_ptr<Session> Open(std::shared_ptr<const Model> model, int n_threads = 2, int64_t n_ctx = 256) {
  SessionOptions o;
  o.n_threads = n_threads;
  o.n_ctx = n_ctx;
  auto s = Session::Create(std::move(model), o);
  REQUIRE_MESSAGE(s.ok(), s.status().ToString());
  return *std::move(s);
}

const char* kStories = "models/stories260K-q8dequant.gguf";
const char* kQwenDev = "reference/qwen2-dev.F32.gguf";

GenerateOptions Sampled(uint64_t seed, int64_t n) {
  GenerateOptions o;
  o.max_new_tokens = n;
  o.sampler.temperature = 0.9f;
  o.sampler.top_p = 0.95f;
  o.sampler.seed = seed;
  return o;
}

TEST_CASE("gpu_layers: counts and builds that cannot are refused with the reason") {
  const auto create = [](std::shared_ptr<const Model> model, int gpu_layers) {
    SessionOptions o;
    o.n_ctx = 64;
    o.gpu_layers = gpu_layers;
    return Session::Create(std::move(model), o).status();
  };
  auto qwen = LoadShared(kQwenDev);
  const int n_layers = static_cast<int>(qwen->config().n_layers);
  CHECK(create(qwen, -2).code() == absl::StatusCode::kInvalidArgument);
  CHECK(create(qwen, n_layers + 1).code() == absl::StatusCode::kInvalidArgument);
#ifndef R1_HAVE_VULKAN
  const Status none = create(qwen, -1);
  CHECK(none.code() == absl::StatusCode::kUnimplemented);
  CHECK(std::string(none.message()).find("-Dvulkan=enabled") != std::string::npos);
#endif
}

TEST_CASE("seeded sampling gives the same tokens on every run and thread count") {
  auto model = LoadShared(kStories);
  std::vector<int32_t> first;
  for (int n_threads : {1, 2, 2}) {
    auto s = Open(model, n_threads);
    auto r = s->Generate("Once upon a time", Sampled(42, 40));
    REQUIRE(r.ok());
    if (first.empty()) first = r->tokens;
    CHECK(r->tokens == first);
  }
  auto other = Open(model)->Generate("Once upon a time", Sampled(43, 40));
  REQUIRE(other.ok());
  CHECK(other->tokens != first);
}

TEST_CASE("greedy generation reproduces the recorded continuation and streams it whole") {
  auto model = LoadShared(kStories);
  auto s = Open(model);
  GenerateOptions o;
  o.max_new_tokens = 32;
  o.sampler.temperature = 0;
  std::string streamed;
  auto r = s->Generate("Once upon a time", o, [&](const StreamPiece& p) {
    CHECK(p.channel == Channel::kContent);
    streamed += p.text;
    return true;
  });
  REQUIRE(r.ok());
  const std::vector<int32_t> expected = {432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337,
                                         410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394};
  CHECK(r->tokens == expected);
  CHECK(streamed == r->content);
  CHECK(r->stop_reason == StopReason::kMaxTokens);
  CHECK(r->n_prompt_tokens == 5);
  CHECK(r->content.rfind(", there was a little girl named Lily", 0) == 0);
}

TEST_CASE("a stop string split across tokens is caught and not emitted") {
  auto model = LoadShared(kStories);
  GenerateOptions o;
  o.max_new_tokens = 32;
  o.sampler.temperature = 0;
  o.stop = {"little gi"};  // " little" + " g" + "ir" in this vocabulary
  std::string streamed;
  auto r = Open(model)->Generate("Once upon a time", o, [&](const StreamPiece& p) {
    streamed += p.text;
    return true;
  });
  REQUIRE(r.ok());
  CHECK(r->stop_reason == StopReason::kStopString);
  CHECK(r->content == ", there was a ");
  CHECK(streamed == r->content);
}

TEST_CASE("cancellation from the callback and from another thread") {
  auto model = LoadShared(kStories);
  int pieces = 0;
  auto r = Open(model)->Generate("Once upon a time", Sampled(1, 100), [&](const StreamPiece&) { return ++pieces < 3; });
  REQUIRE(r.ok());
  CHECK(r->stop_reason == StopReason::kCancelled);
  CHECK(pieces == 3);

  auto s = Open(model, 1);
  std::atomic<bool> started{false};
  StatusOr<GenerateResult> result = absl::UnknownError("not run");
  std::thread worker([&] {
    GenerateOptions o = Sampled(2, -1);
    o.ignore_eos = true;
    result = s->Generate("Once upon a time", o, [&](const StreamPiece&) {
      started = true;
      return true;
    });
  });
  while (!started) std::this_thread::yield();
  s->Cancel();
  worker.join();
  REQUIRE(result.ok());
  CHECK(result->stop_reason == StopReason::kCancelled);
  // The next generation is not affected by the earlier request.
  auto next = s->Generate(" The end", Sampled(3, 5));
  REQUIRE(next.ok());
  CHECK(next->n_generated_tokens == 5);
}

TEST_CASE("the reasoning budget closes the thought after exactly N tokens") {
  auto model = LoadShared(kQwenDev);
  const Tokenizer& tok = *model->tokenizer();
  const int32_t close = *tok.FindToken("</think>");
  for (int64_t budget : {0, 1, 5}) {
    INFO("budget ", budget);
    GenerateOptions o;
    o.max_new_tokens = budget + 6;
    o.sampler.temperature = 0;
    o.reasoning_budget = budget;
    std::vector<Channel> channels;
    auto r = Open(model)->Generate("<|im_start|>assistant\n<think>\n", o, [&](const StreamPiece& p) {
      channels.push_back(p.channel);
      return true;
    });
    REQUIRE(r.ok());
    CHECK(r->n_reasoning_tokens == budget);
    REQUIRE(r->tokens.size() > size_t(budget));
    CHECK(r->tokens[size_t(budget)] == close);
    CHECK(std::is_sorted(channels.begin(), channels.end()));  // reasoning pieces, then content
    CHECK(r->content.rfind("\n\n", 0) == 0);
  }
}

TEST_CASE("a second chat turn prefills only what is new") {
  auto model = LoadShared(kQwenDev);
  auto s = Open(model);
  GenerateOptions o;
  o.max_new_tokens = 6;
  o.sampler.temperature = 0;
  o.chat_template = ChatTemplate::kChatMl;
  std::vector<ChatMessage> chat = {{"user", "hello there"}};
  auto first = s->Chat(chat, o);
  REQUIRE(first.ok());
  CHECK(first->n_prefilled_tokens == first->n_prompt_tokens);
  const std::vector<int32_t> cached(s->tokens().begin(), s->tokens().end());

  chat.push_back({"assistant", first->content});
  chat.push_back({"user", "and again"});
  auto second = s->Chat(chat, o);
  REQUIRE(second.ok());
  // What the second prompt shares with the cache was not computed again.
  auto text = FormatChat(*model->tokenizer(), chat, true, ChatTemplate::kChatMl);
  REQUIRE(text.ok());
  auto ids = model->tokenizer()->Encode(*text, {.parse_special = true});
  REQUIRE(ids.ok());
  const size_t common = std::mismatch(cached.begin(), cached.end(), ids->begin(), ids->end()).first - cached.begin();
  CHECK(common >= size_t(first->n_prompt_tokens));
  CHECK(second->n_prompt_tokens == int64_t(ids->size()));
  CHECK(second->n_prefilled_tokens == int64_t(ids->size() - common));
}

TEST_CASE("a conversation longer than the context is an error unless old turns may go") {
  auto model = LoadShared(kQwenDev);
  auto s = Open(model, 2, 64);
  GenerateOptions o;
  o.max_new_tokens = 4;
  o.sampler.temperature = 0;
  o.chat_template = ChatTemplate::kChatMl;
  std::vector<ChatMessage> chat;
  for (int i = 0; i < 6; ++i) {
    chat.push_back({"user", "tell me a long story about the sea and the sky"});
    chat.push_back({"assistant", "the sea was wide and the sky was grey and blue"});
  }
  chat.push_back({"user", "and then?"});
  auto r = s->Chat(chat, o);
  CHECK(r.status().code() == absl::StatusCode::kOutOfRange);
  o.drop_oldest_turns = true;
  auto dropped = s->Chat(chat, o);
  REQUIRE_MESSAGE(dropped.ok(), dropped.status().ToString());
  CHECK(dropped->n_prompt_tokens + 4 <= 64);
}

TEST_CASE("a restored session continues token for token like the original") {
  auto model = LoadShared(kStories);
  const std::string path = (std::filesystem::temp_directory_path() / "r1-session-state.bin").string();
  auto original = Open(model);
  REQUIRE(original->Generate("Once upon a time", Sampled(5, 12)).ok());
  REQUIRE(original->SaveState(path).ok());
  const std::string follow = "Once upon a time, there was a dog. The dog";
  auto a = original->Generate(follow, Sampled(6, 20));
  REQUIRE(a.ok());

  auto restored = Open(model);
  REQUIRE(restored->LoadState(path).ok());
  CHECK(restored->n_past() == 17);
  auto b = restored->Generate(follow, Sampled(6, 20));
  REQUIRE(b.ok());
  CHECK(a->tokens == b->tokens);
  CHECK(a->n_prefilled_tokens == b->n_prefilled_tokens);

  // A state file is checked before it is used.
  auto other_model = Open(LoadShared("models/aidreams260K.gguf"));
  CHECK(other_model->LoadState(path).code() == absl::StatusCode::kFailedPrecondition);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 3);
  CHECK(restored->LoadState(path).code() == absl::StatusCode::kInvalidArgument);
  CHECK(restored->LoadState("/nonexistent/state").code() == absl::StatusCode::kNotFound);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace r1
