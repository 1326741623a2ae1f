// Tool calls without a model: reading calls out of a section in each family's syntax, the
// grammar of a required call, OpenAI's JSON shapes, and the JSON reader that keeps key order.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "grammar/gbnf_parser.h"
#include "grammar/gbnf_text.h"
#include "grammar/grammar_matcher.h"
#include "grammar/ordered_json.h"
#include "session/chat_json.h"
#include "session/tool_calls.h"

namespace r1 {
namespace {

const std::vector<ToolDefinition> kTools = {
    {"get_weather", "The weather of a city",
     R"({"type":"object","properties":{"city":{"type":"string"},"unit":{"enum":["C","F"]}},"required":["city"]})"},
    {"now", "The time", "{}"},
};

TEST_CASE("DeepSeek tool-call sections are read into calls checked against the tools") {
  const std::string section =
      "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n"
      "{\"city\": \"Paris\", \"unit\": \"C\"}\n```<｜tool▁call▁end｜>\n"
      "<｜tool▁call▁begin｜>function<｜tool▁sep｜>now\n```json\n{}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>";
  auto calls = ParseToolCalls(section, ToolCallStyle::kDeepSeek, kTools);
  REQUIRE_MESSAGE(calls.ok(), calls.status().ToString());
  REQUIRE(calls->size() == 2);
  CHECK((*calls)[0].name == "get_weather");
  CHECK((*calls)[0].arguments == R"({"city":"Paris","unit":"C"})");  // compact, in the model's order
  CHECK((*calls)[1].name == "now");
  CHECK((*calls)[1].arguments == "{}");
  CHECK((*calls)[0].id != (*calls)[1].id);
  CHECK((*calls)[0].id.rfind("call_", 0) == 0);

  // A single call without the list markers, as models sometimes write it.
  auto single = ParseToolCalls("<｜tool▁call▁begin｜>function<｜tool▁sep｜>now\n```json\n{}\n```<｜tool▁call▁end｜>",
                               ToolCallStyle::kDeepSeek, kTools);
  REQUIRE(single.ok());
  CHECK(single->size() == 1);

  for (const char* bad : {
           "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": 3}\n```"
           "<｜tool▁call▁end｜>",  // against the schema
           "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>delete_all\n```json\n{}\n```<｜tool▁call▁end｜>",
           "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>now\n```json\n{}",  // cut short
           "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>now\n```json\n[1]\n```<｜tool▁call▁end｜>",
           "<｜tool▁calls▁begin｜>just words",
       }) {
    INFO(bad);
    CHECK(!ParseToolCalls(bad, ToolCallStyle::kDeepSeek, kTools).ok());
  }
}

TEST_CASE("Hermes tool-call sections are read too, arguments as an object or a string") {
  auto calls = ParseToolCalls(
      "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call>\n"
      "<tool_call>\n{\"name\": \"now\", \"arguments\": \"{}\"}\n</tool_call>",
      ToolCallStyle::kHermes, kTools);
  REQUIRE_MESSAGE(calls.ok(), calls.status().ToString());
  REQUIRE(calls->size() == 2);
  CHECK((*calls)[0].arguments == R"({"city":"Oslo"})");
  CHECK(!ParseToolCalls("<tool_call>{\"name\": 1}</tool_call>", ToolCallStyle::kHermes, kTools).ok());
  CHECK(!ParseToolCalls("<tool_call>{\"name\": \"now\"}", ToolCallStyle::kHermes, kTools).ok());
}

// Whether `text` is a whole match of `gbnf`.
bool Matches(const std::string& gbnf, std::string_view text) {
  auto grammar = grammar::ParseGbnf(gbnf);
  REQUIRE_MESSAGE(grammar.ok(), grammar.status().ToString(), "\n", gbnf);
  grammar::GrammarMatcher matcher(*grammar);
  return matcher.AcceptBytes(text) && matcher.complete();
}

TEST_CASE("a required call's grammar admits exactly the calls of the allowed functions") {
  GenerateOptions o;
  o.tools = kTools;
  o.tool_choice = ToolChoice::kRequired;
  auto call = RequiredToolCallGrammar(ToolCallStyle::kDeepSeek, o);
  REQUIRE_MESSAGE(call.ok(), call.status().ToString());
  CHECK(call->prefix == "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>");
  CHECK(call->suffix == "<｜tool▁call▁end｜><｜tool▁calls▁end｜>");
  CHECK(Matches(call->gbnf, "get_weather\n```json\n{\"city\": \"Rome\"}\n```"));
  CHECK(Matches(call->gbnf, "now\n```json\n{}\n```"));
  CHECK(!Matches(call->gbnf, "get_weather\n```json\n{}\n```"));  // city is required
  CHECK(!Matches(call->gbnf, "sleep\n```json\n{}\n```"));
  // The whole section, as r1 writes and the model completes it, reads back as one call.
  auto calls = ParseToolCalls(call->prefix + "get_weather\n```json\n{\"city\": \"Rome\"}\n```" + call->suffix,
                              ToolCallStyle::kDeepSeek, kTools);
  REQUIRE(calls.ok());
  CHECK(calls->size() == 1);

  o.tool_choice = ToolChoice::kFunction;
  o.tool_choice_function = "now";
  auto named = RequiredToolCallGrammar(ToolCallStyle::kHermes, o);
  REQUIRE(named.ok());
  CHECK(Matches(named->gbnf, "{\"name\": \"now\", \"arguments\": {}}"));
  CHECK(!Matches(named->gbnf, "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\"}}"));
  o.tool_choice_function = "missing";
  CHECK(!RequiredToolCallGrammar(ToolCallStyle::kHermes, o).ok());
  o.tools.clear();
  o.tool_choice = ToolChoice::kRequired;
  CHECK(!RequiredToolCallGrammar(ToolCallStyle::kHermes, o).ok());
}

TEST_CASE("prefixed rule names leave literals, classes, counts and comments alone") {
  const std::string gbnf = "root ::= item{2,3} \"root item\" [a-z0-9] # root\nitem ::= \"\\\"x\" | root-x\nroot-x ::= \"y\"";
  const std::string renamed = grammar::PrefixGbnfRules(gbnf, "t0-");
  CHECK(renamed == "t0-root ::= t0-item{2,3} \"root item\" [a-z0-9] # root\nt0-item ::= \"\\\"x\" | t0-root-x\n"
                   "t0-root-x ::= \"y\"");
  auto parsed = grammar::ParseGbnf(renamed, "t0-root");
  CHECK(parsed.ok());
}

TEST_CASE("ordered JSON keeps document order, takes a repeated key's last value, and stays linear") {
  auto doc = ParseOrderedJson(R"({"z": 1, "a": {"y": [1, 2], "b": null}, "z": 3})");
  REQUIRE(doc);
  CHECK(doc->dump() == R"({"z":3,"a":{"y":[1,2],"b":null}})");
  CHECK(!ParseOrderedJson("{"));
  CHECK(!ParseOrderedJson("[1] 2"));
  CHECK(!ParseOrderedJson(""));
  // 200,000 keys in one object: quadratic insertion would take minutes.
  std::string big = "{";
  for (int i = 0; i < 200000; ++i) big += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":" + std::to_string(i);
  big += "}";
  const auto start = std::chrono::steady_clock::now();
  auto parsed = ParseOrderedJson(big);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  REQUIRE(parsed);
  CHECK(parsed->size() == 200000);
  CHECK(parsed->begin().key() == "k0");
  CHECK(seconds < 20.0);  // generous for sanitizer builds; quadratic insertion takes far longer
}

TEST_CASE("OpenAI's tools, tool_choice and messages with calls are read, and bad ones named") {
  auto tools = chat_json::ReadTools(*ParseOrderedJson(R"([{"type": "function", "function": {"name": "f",
      "description": "d", "parameters": {"type": "object", "properties": {"b": {}, "a": {}}}}}])"));
  REQUIRE(tools.ok());
  REQUIRE(tools->size() == 1);
  CHECK((*tools)[0].parameters == R"({"type":"object","properties":{"b":{},"a":{}}})");  // order kept
  for (const char* bad : {R"({})", R"([1])", R"([{"type": "retrieval"}])", R"([{"function": {"name": ""}}])",
                          R"([{"function": {"name": "f", "parameters": 3}}])",
                          R"([{"function": {"name": "f"}}, {"function": {"name": "f"}}])"}) {
    INFO(bad);
    auto read = chat_json::ReadTools(*ParseOrderedJson(bad));
    REQUIRE(!read.ok());
    CHECK(std::string(read.status().message()).rfind("tools", 0) == 0);
  }
  GenerateOptions o;
  CHECK(chat_json::ReadToolChoice(*ParseOrderedJson(R"("required")"), &o).ok());
  CHECK(o.tool_choice == ToolChoice::kRequired);
  CHECK(chat_json::ReadToolChoice(*ParseOrderedJson(R"({"type": "function", "function": {"name": "f"}})"), &o).ok());
  CHECK(o.tool_choice == ToolChoice::kFunction);
  CHECK(o.tool_choice_function == "f");
  CHECK(!chat_json::ReadToolChoice(*ParseOrderedJson(R"("sometimes")"), &o).ok());

  auto messages = chat_json::ReadMessages(*ParseOrderedJson(R"([
      {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
      {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
        "function": {"name": "f", "arguments": "{\"x\": 1}"}}]},
      {"role": "tool", "tool_call_id": "call_1", "content": "42"}])"));
  REQUIRE_MESSAGE(messages.ok(), messages.status().ToString());
  REQUIRE(messages->size() == 3);
  CHECK((*messages)[0].content == "ab");
  REQUIRE((*messages)[1].tool_calls.size() == 1);
  CHECK((*messages)[1].tool_calls[0].arguments == "{\"x\": 1}");
  CHECK((*messages)[2].tool_call_id == "call_1");
  auto bad = chat_json::ReadMessages(*ParseOrderedJson(R"([{"role": "assistant", "tool_calls": [{"function": 1}]}])"));
  REQUIRE(!bad.ok());
  CHECK(std::string(bad.status().message()).find("messages[0].tool_calls[0]") != std::string::npos);

  CHECK(chat_json::ToolCallsJson((*messages)[1].tool_calls).dump() ==
        R"([{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"x\": 1}"}}])");
}

}  // namespace
}  // namespace r1
