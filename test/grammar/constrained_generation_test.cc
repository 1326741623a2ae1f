// Structured output end to end: models with random weights (the grammar does all the work)
// generate under JSON Schemas and GBNF grammars; every answer must parse and validate, at the
// default temperature and at temperature 1 over many seeds, on byte-level BPE and SentencePiece
// vocabularies. With a reasoning prompt the thought stays free and only the answer is shaped.
#include <doctest/doctest.h>

#include <regex>
#include <string>
#include <vector>

#include "r1/grammar.h"
#include "r1/session.h"
#include "r1/tokenizer.h"
#include "example_grammars.h"
#include "support/json_schema_check.h"
#include "support/test_util.h"

R1_TEST_NEEDS_SHARED_DIR();

namespace r1 {
namespace {

std::shared_ptr<const Model> LoadShared(const std::string& relative) {
  auto model = Model::Load(*test::SharedDir() + "/" + relative);
  REQUIRE_MESSAGE(model.ok(), model.status().ToString());
  return *model;
}

std::unique_ptr<Session> Open(std::shared_ptr<const Model> model) {
  SessionOptions o;
  o.n_threads = 2;
  o.n_ctx = 4096;
  auto s = Session::Create(std::move(model), o);
  REQUIRE_MESSAGE(s.ok(), s.status().ToString());
  return *std::move(s);
}

// One file per vocabulary family and architecture.
const char* const kModels[] = {
    "reference/qwen2-dev.F32.gguf",       // byte-level BPE (Qwen2)
    "reference/llama-plain-dev.F32.gguf",  // llama
    "reference/deepseek2-dev.F32.gguf",    // MLA + experts
    "models/stories260K-q8dequant.gguf",   // SentencePiece with byte fallback
};

// Nested objects, arrays with bounds, enums and const, optional fields, anyOf, recursion
// through $ref and string formats. Strings are bounded: a model with random weights closes an
// unbounded one only by chance (the grammar allows that, and tests of the grammar cover it).
const char* const kSchemas[] = {
    R"({"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer"},
        "admin":{"type":"boolean"}},"required":["name","age"]})",
    R"({"type":"object","properties":{"user":{"type":"object","properties":{"id":{"type":"integer"},
        "tags":{"type":"array","items":{"type":"string","maxLength":6},"minItems":1,"maxItems":3}},
        "required":["id","tags"]},"score":{"type":"number"}},"required":["user"]})",
    R"({"type":"object","properties":{"colour":{"enum":["red","green","blue"]},"size":{"enum":[1,2,3,null]}},
        "required":["colour"]})",
    R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string","maxLength":5},
        "c":{"type":"null"}}})",
    R"({"type":"array","items":{"type":"integer"},"minItems":2,"maxItems":4})",
    R"({"anyOf":[{"type":"integer"},{"type":"object","properties":{"x":{"type":"boolean"}},"required":["x"]}]})",
    R"({"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},
        "next":{"anyOf":[{"$ref":"#/$defs/node"},{"type":"null"}]}},"required":["v","next"]}},
        "$ref":"#/$defs/node"})",
    R"({"type":"object","properties":{"when":{"type":"string","format":"date"},
        "id":{"type":"string","format":"uuid"}},"required":["when","id"]})",
    R"({"type":"object","properties":{"version":{"const":2},"kind":{"type":"string","enum":["a","b"]},
        "note":{"type":"string","maxLength":40}},"required":["version","kind","note"]})",
};

// Seeds per case. Under AddressSanitizer (a debug build, many times slower) one seed checks
// the memory safety of every path; the sweep over seeds runs in the normal build.
#if defined(__SANITIZE_ADDRESS__)
constexpr uint64_t kSeeds = 1;
#else
constexpr uint64_t kSeeds = 4;
#endif

GenerateOptions Constrained(const char* schema, float temperature, uint64_t seed) {
  GenerateOptions o;
  o.json_schema = schema;
  o.max_new_tokens = 1000;
  o.sampler.temperature = temperature;
  o.sampler.top_p = 1.0f;
  o.sampler.seed = seed;
  return o;
}

TEST_CASE("answers under a JSON Schema always parse and validate") {
  for (const char* path : kModels) {
    auto session = Open(LoadShared(path));
    for (const char* schema : kSchemas) {
      for (float temperature : {0.6f, 1.0f}) {
        for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
          INFO(std::string(path), " | schema ", schema, " | temperature ", temperature, " seed ", seed);
          auto r = session->Generate("Answer in JSON:", Constrained(schema, temperature, seed));
          REQUIRE_MESSAGE(r.ok(), r.status().ToString());
          INFO("answer: ", r->content);
          CHECK(r->stop_reason == StopReason::kEndOfGeneration);
          CHECK(test::JsonSchemaProblem(schema, r->content) == "");
        }
      }
    }
  }
}

TEST_CASE("a reasoning model thinks freely and answers in the schema's shape") {
  const char* schema = kSchemas[0];
  for (const char* path : {"reference/qwen2-dev.F32.gguf", "reference/deepseek2-dev.F32.gguf"}) {
    auto model = LoadShared(path);
    auto session = Open(model);
    for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
      INFO(std::string(path), " seed ", seed);
      GenerateOptions free_text = Constrained(schema, 1.0f, seed);
      free_text.json_schema.clear();
      free_text.reasoning_budget = 24;
      free_text.max_new_tokens = 24;
      GenerateOptions shaped = Constrained(schema, 1.0f, seed);
      shaped.reasoning_budget = 24;
      free_text.chat_template = shaped.chat_template = ChatTemplate::kDeepSeekR1Distill;
      const std::vector<ChatMessage> chat = {{"user", "Who are you? Answer in JSON."}};
      auto thought = session->Chat(chat, free_text);
      auto answer = session->Chat(chat, shaped);
      REQUIRE(thought.ok());
      REQUIRE_MESSAGE(answer.ok(), answer.status().ToString());
      // The thought is the one the model writes without a grammar: the same seed, the same
      // tokens, up to the budget or to where the model closes it (or would end its turn).
      CHECK(answer->n_reasoning_tokens <= 24);
      CHECK(answer->n_reasoning_tokens == thought->n_reasoning_tokens);
      CHECK(answer->reasoning == thought->reasoning);
      INFO("answer: ", answer->content);
      REQUIRE(answer->content.rfind("\n\n", 0) == 0);  // "</think>" is followed by a blank line
      CHECK(test::JsonSchemaProblem(schema, answer->content.substr(2)) == "");
      CHECK(answer->stop_reason == StopReason::kEndOfGeneration);
    }
  }
}

TEST_CASE("grammar_from_first_token shapes the thought too") {
  auto session = Open(LoadShared("reference/qwen2-dev.F32.gguf"));
  GenerateOptions o;
  o.grammar = R"(root ::= "yes" | "no")";
  o.grammar_from_first_token = true;
  o.chat_template = ChatTemplate::kDeepSeekR1Distill;  // its generation prompt opens a thought
  o.sampler.seed = 7;
  auto r = session->Chat({{"user", "Well?"}}, o);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->content.empty());
  CHECK((r->reasoning == "yes" || r->reasoning == "no"));
}

TEST_CASE("users' GBNF grammars shape the output") {
  for (const char* path : kModels) {
    auto session = Open(LoadShared(path));
    for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
      INFO(std::string(path), " seed ", seed);
      GenerateOptions o;
      o.grammar = grammar::testdata::kListGbnf;
      o.max_new_tokens = 200;
      o.sampler.temperature = 1.0f;
      o.sampler.seed = seed;
      auto list = session->Generate("A list:", o);
      REQUIRE_MESSAGE(list.ok(), list.status().ToString());
      INFO("list: ", list->content);
      // Complete items; at the token limit, perhaps one more cut short.
      if (list->stop_reason == StopReason::kEndOfGeneration) {
        CHECK(std::regex_match(list->content, std::regex(R"((- [^\r\n]+\n)+)")));
      } else {
        CHECK(list->stop_reason == StopReason::kMaxTokens);
        CHECK(std::regex_match(list->content, std::regex(R"((- [^\r\n]+\n)*(- [^\r\n]*)?)")));
      }
      o.grammar = grammar::testdata::kArithmeticGbnf;
      auto sums = session->Generate("Sums:", o);
      REQUIRE_MESSAGE(sums.ok(), sums.status().ToString());
      INFO("sums: ", sums->content);
      CHECK(std::regex_search(sums->content, std::regex(R"(^[a-z0-9(])")));
      CHECK(sums->content.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_ \t\n()+-*/=") == std::string::npos);
      // Chess moves in PGN: independent of the grammar engine, a regular expression of the same moves.
      o.grammar = grammar::testdata::kChessGbnf;
      auto chess = session->Generate("Moves:", o);
      REQUIRE_MESSAGE(chess.ok(), chess.status().ToString());
      INFO("chess: ", chess->content);
      const std::string move = R"(([a-h]x)?[a-h][1-8](=[NBKQR])?[+#]?|[NBKQR][a-h]?[1-8]?x?[a-h][1-8][+#]?|O-O(-O)?[+#]?)";
      const std::regex line("[1-9][0-9]?\\. (" + move + ") (" + move + ")\n");
      CHECK(chess->content.rfind("1. ", 0) == 0);
      std::string rest = chess->content;
      std::smatch m;
      while (std::regex_search(rest, m, line, std::regex_constants::match_continuous)) rest = m.suffix();
      if (chess->stop_reason == StopReason::kEndOfGeneration) CHECK(rest.empty());
      CHECK(rest.find('\n') == std::string::npos);  // at most one unfinished line, cut by the token limit
      // llama.cpp's JSON grammar: a finished answer is a JSON object.
      o.grammar = grammar::testdata::kJsonGbnf;
      o.max_new_tokens = 600;
      auto object = session->Generate("JSON:", o);
      REQUIRE_MESSAGE(object.ok(), object.status().ToString());
      if (object->stop_reason == StopReason::kEndOfGeneration) {  // its numbers may overflow a double
        INFO("json: ", object->content);
        CHECK(test::IsJsonSyntax(object->content));
        CHECK(object->content.rfind('{', 0) == 0);
      }
    }
  }
}

TEST_CASE("bad grammars and schemas are errors that say where; both at once is an error") {
  auto session = Open(LoadShared("reference/qwen2-dev.F32.gguf"));
  GenerateOptions o;
  o.max_new_tokens = 4;
  o.grammar = "root ::= \"a\" | (\n";
  auto r = session->Generate("x", o);
  REQUIRE(!r.ok());
  CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(r.status().message()).find("line 2") != std::string::npos);
  o.grammar = "item ::= \"a\"";
  CHECK(!session->Generate("x", o).ok());  // no root
  o.grammar.clear();
  o.json_schema = R"({"type":"object","properties":{"a":{"type":"string","pattern":"^a+$"}}})";
  r = session->Generate("x", o);
  REQUIRE(!r.ok());
  CHECK(std::string(r.status().message()).find("/properties/a") != std::string::npos);
  o.json_schema = "{not json";
  CHECK(!session->Generate("x", o).ok());
  o.json_schema = R"({"type":"integer"})";
  o.grammar = R"(root ::= "1")";
  CHECK(!session->Generate("x", o).ok());
  // The session is still usable.
  o.grammar.clear();
  auto ok = session->Generate("x", o);
  REQUIRE(ok.ok());
  CHECK(test::JsonSchemaProblem(R"({"type":"integer"})", ok->content) == "");
}

TEST_CASE("a grammar that admits nothing more ends the generation with a stop reason") {
  auto session = Open(LoadShared("reference/qwen2-dev.F32.gguf"));
  GenerateOptions o;
  o.max_new_tokens = 50;
  // "a", then a surrogate code point, which no UTF-8 text holds: a dead end, never a hang.
  o.grammar = R"(root ::= "a" [\uD800-\uDFFF])";
  auto r = session->Generate("x", o);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->content == "a");
  CHECK(r->stop_reason == StopReason::kGrammarDeadEnd);
  // After "ab" nothing may follow: the answer is done.
  o.grammar = R"(root ::= "ab")";
  auto done = session->Generate("x", o);
  REQUIRE(done.ok());
  CHECK(done->content == "ab");
  CHECK(done->stop_reason == StopReason::kEndOfGeneration);
}

}  // namespace
}  // namespace r1
