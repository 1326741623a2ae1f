// Random and mutated bodies through the request parsers: whatever the bytes, the answer is a
// request or a clean 400, never a crash or an exception.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <variant>

#include "serve/openai_request.h"

namespace r1::serve {
namespace {

constexpr const char* kSeeds[] = {
    R"({"messages": [{"role": "user", "content": "Hi"}], "temperature": 0, "max_tokens": 5})",
    R"({"model": "m", "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": [{"type": "text", "text": "t"}]}], "stream": true, "stream_options": {"include_usage": true}, "stop": ["a"], "seed": 3, "reasoning_budget": 2})",
    R"({"prompt": "Once upon", "max_tokens": 3, "n": 1, "top_p": 0.5, "stop": "x"})",
};

// Pieces that steer mutations towards interesting JSON: types swapped, limits crossed, odd
// escapes and numbers.
constexpr const char* kFragments[] = {
    "null", "true", "[]", "{}", "\"\"", "-1", "1e309", "-0", "18446744073709551616", "9223372036854775807",
    "0.5", "\"\\u0000\"", "\"\\ud800\"", "\"\xff\xfe\"", "[[[[[[", "]]]]", "{\"role\":", "\"content\"", ",",
    ":", "\"messages\"", "\"n\": 2", "\"type\": \"image\"",
};

std::string Mutate(std::string s, std::mt19937_64& rng) {
  const int steps = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < steps; ++i) {
    const size_t at = s.empty() ? 0 : rng() % (s.size() + 1);
    switch (rng() % 5) {
      case 0:  // delete a span
        if (!s.empty() && at < s.size()) s.erase(at, 1 + rng() % 8);
        break;
      case 1:  // flip a byte
        if (at < s.size()) s[at] = static_cast<char>(rng());
        break;
      case 2:  // insert a fragment
        s.insert(at, kFragments[rng() % std::size(kFragments)]);
        break;
      case 3:  // duplicate a span
        if (at < s.size()) s.insert(at, s.substr(at, 1 + rng() % 16));
        break;
      default:  // truncate
        s.resize(at);
        break;
    }
  }
  return s;
}

void CheckClean(const ParsedRequest& parsed) {
  if (const auto* e = std::get_if<ApiError>(&parsed)) {
    CHECK(e->http_status == 400);
    CHECK_FALSE(e->message.empty());
    CHECK_FALSE(ErrorBody(*e).empty());
  } else {
    const CompletionRequest& r = std::get<CompletionRequest>(parsed);
    CHECK((r.chat ? !r.messages.empty() : !r.prompt.empty()));
    if (r.max_tokens) CHECK(*r.max_tokens >= 1);
  }
}

TEST_CASE("mutated bodies give a request or a clean error") {
  std::mt19937_64 rng(20260807);
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string body = Mutate(kSeeds[i % std::size(kSeeds)], rng);
    CAPTURE(body);
    const ParsedRequest chat = ParseChatRequest(body);
    const ParsedRequest raw = ParseCompletionRequest(body);
    CheckClean(chat);
    CheckClean(raw);
    accepted += std::holds_alternative<CompletionRequest>(chat) + std::holds_alternative<CompletionRequest>(raw);
  }
  // The mutations must leave some bodies valid, or only the JSON parser was exercised.
  CHECK(accepted > 100);
}

TEST_CASE("random bytes and deep nesting") {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 5000; ++i) {
    std::string body(rng() % 64, '\0');
    for (char& c : body) c = static_cast<char>(rng());
    CheckClean(ParseChatRequest(body));
  }
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  CheckClean(ParseChatRequest(deep));
  const std::string deep_messages = R"({"messages": [{"role": "user", "content": )" + deep + "}]}";
  CheckClean(ParseChatRequest(deep_messages));
}

}  // namespace
}  // namespace r1::serve
