// Parsing /v1/chat/completions and /v1/completions bodies: the fields OpenAI's clients send,
// and every way a body can be wrong, each a 400 naming the field.
#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "r1/grammar.h"
#include "serve/api_error.h"
#include "serve/openai_request.h"

namespace r1::serve {
namespace {

CompletionRequest Chat(const std::string& body) {
  ParsedRequest parsed = ParseChatRequest(body);
  if (const auto* e = std::get_if<ApiError>(&parsed)) FAIL("unexpected error: " << e->message << " for " << body);
  return std::get<CompletionRequest>(parsed);
}

ApiError ChatError(const std::string& body, RequestLimits limits = {}) {
  ParsedRequest parsed = ParseChatRequest(body, limits);
  const auto* e = std::get_if<ApiError>(&parsed);
  if (e == nullptr) FAIL("expected an error for " << body);
  return *e;
}

constexpr char kHello[] = R"("messages": [{"role": "user", "content": "Hi"}])";

std::string With(const std::string& fields) { return std::string("{") + kHello + ", " + fields + "}"; }

TEST_CASE("a minimal chat request") {
  const CompletionRequest r = Chat(std::string("{") + kHello + "}");
  CHECK(r.chat);
  REQUIRE(r.messages.size() == 1);
  CHECK(r.messages[0].role == "user");
  CHECK(r.messages[0].content == "Hi");
  CHECK_FALSE(r.stream);
  CHECK_FALSE(r.max_tokens.has_value());
  CHECK_FALSE(r.temperature.has_value());
  CHECK_FALSE(r.seed.has_value());
  CHECK_FALSE(r.reasoning_budget.has_value());
}

TEST_CASE("every field is read") {
  const CompletionRequest r = Chat(R"({
    "model": "r1", "messages": [
      {"role": "system", "content": "Be brief."},
      {"role": "developer", "content": "Really."},
      {"role": "user", "content": [{"type": "text", "text": "Hello, "}, {"type": "text", "text": "world"}]},
      {"role": "assistant", "content": null, "tool_calls": []},
      {"role": "tool", "content": "42", "tool_call_id": "x"}],
    "stream": true, "stream_options": {"include_usage": true}, "max_tokens": 10,
    "max_completion_tokens": 20, "temperature": 0, "top_p": 0.5, "seed": 7, "stop": ["a", "b"],
    "n": 1, "presence_penalty": 0.5, "frequency_penalty": -0.5, "reasoning_budget": 3, "user": "x",
    "logprobs": false})");
  REQUIRE(r.messages.size() == 5);
  CHECK(r.messages[1].role == "system");
  CHECK(r.messages[2].content == "Hello, world");
  CHECK(r.messages[3].role == "assistant");
  CHECK(r.messages[3].content.empty());
  CHECK(r.messages[4].role == "tool");
  CHECK(r.model == "r1");
  CHECK(r.stream);
  CHECK(r.include_usage);
  CHECK(r.max_tokens == 20);  // max_completion_tokens wins
  CHECK(r.temperature == 0.0f);
  CHECK(r.top_p == 0.5f);
  CHECK(r.seed == 7u);
  CHECK(r.stop == std::vector<std::string>{"a", "b"});
  CHECK(r.presence_penalty == 0.5f);
  CHECK(r.frequency_penalty == -0.5f);
  CHECK(r.reasoning_budget == 3);
}

TEST_CASE("null fields are absent, a stop string may be a string") {
  const CompletionRequest r = Chat(With(R"("temperature": null, "max_tokens": null, "stop": "END", "seed": -1)"));
  CHECK_FALSE(r.temperature.has_value());
  CHECK_FALSE(r.max_tokens.has_value());
  CHECK(r.stop == std::vector<std::string>{"END"});
  CHECK(r.seed == ~uint64_t{0});
}

TEST_CASE("bad bodies and fields are 400 invalid_request_error naming the field") {
  struct Case {
    std::string body;
    std::string param;
  };
  const Case cases[] = {
      {"", ""},
      {"{", ""},
      {"[]", ""},
      {"\"x\"", ""},
      {"{} trailing", ""},
      {"{}", "messages"},
      {R"({"messages": {}})", "messages"},
      {R"({"messages": []})", "messages"},
      {R"({"messages": [1]})", "messages"},
      {R"({"messages": [{"content": "x"}]})", "messages"},
      {R"({"messages": [{"role": 1, "content": "x"}]})", "messages"},
      {R"({"messages": [{"role": "wizard", "content": "x"}]})", "messages"},
      {R"({"messages": [{"role": "user"}]})", "messages"},
      {R"({"messages": [{"role": "user", "content": 5}]})", "messages"},
      {R"({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]})", "messages"},
      {R"({"messages": [{"role": "user", "content": [{"type": "text"}]}]})", "messages"},
      {R"({"messages": [{"role": "user", "content": ["x"]}]})", "messages"},
      {With(R"("model": 3)"), "model"},
      {With(R"("stream": "yes")"), "stream"},
      {With(R"("stream_options": true)"), "stream_options"},
      {With(R"("stream_options": {"include_usage": 1})"), "include_usage"},
      {With(R"("max_tokens": 0)"), "max_tokens"},
      {With(R"("max_tokens": -5)"), "max_tokens"},
      {With(R"("max_tokens": 1.5)"), "max_tokens"},
      {With(R"("max_tokens": "10")"), "max_tokens"},
      {With(R"("max_completion_tokens": 99999999999999)"), "max_completion_tokens"},
      {With(R"("temperature": 3)"), "temperature"},
      {With(R"("temperature": -0.1)"), "temperature"},
      {With(R"("temperature": "hot")"), "temperature"},
      {With(R"("top_p": 1.5)"), "top_p"},
      {With(R"("presence_penalty": 9)"), "presence_penalty"},
      {With(R"("seed": 1.5)"), "seed"},
      {With(R"("stop": 5)"), "stop"},
      {With(R"("stop": [5])"), "stop"},
      {With(R"("n": 2)"), "n"},
      {With(R"("n": "1")"), "n"},
      {With(R"("logprobs": true)"), "logprobs"},
      {With(R"("reasoning_budget": -1)"), "reasoning_budget"},
      {With(R"("reasoning_budget": "lots")"), "reasoning_budget"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.body);
    const ApiError e = ChatError(c.body);
    CHECK(e.http_status == 400);
    CHECK(e.type == "invalid_request_error");
    CHECK(e.param == c.param);
    CHECK_FALSE(e.message.empty());
  }
}

TEST_CASE("limits on messages and stop strings") {
  RequestLimits limits;
  limits.max_messages = 2;
  limits.max_stop_strings = 1;
  CHECK(ChatError(R"({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                                   {"role": "user", "content": "c"}]})", limits).param == "messages");
  CHECK(ChatError(With(R"("stop": ["a", "b"])"), limits).param == "stop");
}

TEST_CASE("raw completion requests") {
  ParsedRequest ok = ParseCompletionRequest(R"({"prompt": "Once", "max_tokens": 3, "stream": true})");
  REQUIRE(std::holds_alternative<CompletionRequest>(ok));
  const CompletionRequest& r = std::get<CompletionRequest>(ok);
  CHECK_FALSE(r.chat);
  CHECK(r.prompt == "Once");
  CHECK(r.max_tokens == 3);
  CHECK(r.stream);
  CHECK(std::holds_alternative<CompletionRequest>(ParseCompletionRequest(R"({"prompt": ["Once"]})")));
  for (const char* bad : {R"({})", R"({"prompt": ""})", R"({"prompt": 3})", R"({"prompt": ["a", "b"]})",
                          R"({"prompt": "x", "n": 3})"}) {
    CAPTURE(bad);
    ParsedRequest parsed = ParseCompletionRequest(bad);
    REQUIRE(std::holds_alternative<ApiError>(parsed));
    CHECK(std::get<ApiError>(parsed).http_status == 400);
  }
}

TEST_CASE("generation options: request over server defaults, max tokens capped") {
  GenerateOptions base;
  base.sampler.temperature = 0.6f;
  base.reasoning_budget = 100;
  base.chat_template = ChatTemplate::kChatMl;
  CompletionRequest r = Chat(With(R"("temperature": 0, "seed": 5, "stop": "x", "reasoning_budget": 4)"));
  GenerateOptions o = ToGenerateOptions(r, base, /*cap=*/0);
  CHECK(o.sampler.temperature == 0.0f);
  CHECK(o.sampler.seed == 5u);
  CHECK(o.stop == std::vector<std::string>{"x"});
  CHECK(o.reasoning_budget == 4);
  CHECK(o.chat_template == ChatTemplate::kChatMl);
  CHECK(o.max_new_tokens == -1);
  CHECK(ToGenerateOptions(r, base, 50).max_new_tokens == 50);
  r.max_tokens = 10;
  CHECK(ToGenerateOptions(r, base, 50).max_new_tokens == 10);
  r.max_tokens = 80;
  CHECK(ToGenerateOptions(r, base, 50).max_new_tokens == 50);
  r.reasoning_budget.reset();
  CHECK(ToGenerateOptions(r, base, 0).reasoning_budget == 100);
}

TEST_CASE("error bodies have OpenAI's shape") {
  CHECK(ErrorBody(InvalidRequest("bad", "n")) ==
        R"({"error":{"code":null,"message":"bad","param":"n","type":"invalid_request_error"}})");
  const ApiError too_long = ContextLengthExceeded("too long");
  CHECK(too_long.http_status == 400);
  CHECK(too_long.code == "context_length_exceeded");
  CHECK(Unauthorized().http_status == 401);
  CHECK(NotFound("/x").http_status == 404);
  CHECK(PayloadTooLarge(10).http_status == 413);
  CHECK(QueueFull().http_status == 429);
  CHECK(Loading().http_status == 503);
  CHECK(FromStatus(absl::OutOfRangeError("x")).code == "context_length_exceeded");
  CHECK(FromStatus(absl::InvalidArgumentError("x")).http_status == 400);
  CHECK(FromStatus(absl::InternalError("x")).http_status == 500);
}

TEST_CASE("response_format and the grammar extension become the answer's grammar") {
  CHECK(Chat(With(R"("response_format": {"type": "text"})")).grammar.empty());
  CHECK(Chat(With(R"("response_format": {"type": "json_object"})")).grammar == JsonObjectGrammar());
  const CompletionRequest schema = Chat(With(R"("response_format": {"type": "json_schema", "json_schema":
      {"name": "p", "strict": true, "schema": {"type": "object", "properties": {"zeta": {"type": "integer"},
      "alpha": {"type": "boolean"}}, "required": ["zeta", "alpha"]}}})"));
  // The schema is translated in document order: "zeta" comes before "alpha" in the grammar.
  const std::string& g = schema.grammar;
  REQUIRE(CheckGrammar(g).ok());
  CHECK(g.find("zeta") != std::string::npos);
  CHECK(g.find("zeta") < g.find("alpha"));
  const CompletionRequest gbnf = Chat(With(R"("grammar": "root ::= \"yes\" | \"no\"")"));
  CHECK(gbnf.grammar == "root ::= \"yes\" | \"no\"");
  CHECK(ToGenerateOptions(gbnf, {}, 0).grammar == gbnf.grammar);

  for (const auto& [fields, param] : std::vector<std::pair<std::string, std::string>>{
           {R"("response_format": "json")", "response_format"},
           {R"("response_format": {"type": "yaml"})", "response_format"},
           {R"("response_format": {"type": "json_schema"})", "response_format.json_schema.schema"},
           {R"("response_format": {"type": "json_schema", "json_schema": {"schema": 3}})",
            "response_format.json_schema.schema"},
           {R"("response_format": {"type": "json_schema", "json_schema": {"schema": {"not": {}}}})",
            "response_format.json_schema.schema"},
           {R"("grammar": 5)", "grammar"},
           {R"("grammar": "root ::= (")", "grammar"},
           {R"("grammar": "x ::= \"a\"")", "grammar"},
           {R"("grammar": "root ::= \"a\"", "response_format": {"type": "json_object"})", "grammar"}}) {
    const ApiError e = ChatError(With(fields));
    INFO(fields, " -> ", e.message);
    CHECK(e.http_status == 400);
    CHECK(e.param == param);
  }
}

}  // namespace
}  // namespace r1::serve
