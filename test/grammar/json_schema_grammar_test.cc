// JSON Schema to GBNF: every grammar parses; for many schemas the matcher accepts documents
// that validate and refuses ones that do not, agreeing with the test validator; unsupported
// keywords and hostile sizes are errors that name the JSON pointer.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "grammar/gbnf_parser.h"
#include "grammar/grammar_constraint.h"
#include "grammar/grammar_matcher.h"
#include "grammar/json_schema_grammar.h"
#include "support/json_schema_check.h"

namespace r1::grammar {
namespace {

std::string Gbnf(std::string_view schema) {
  auto gbnf = JsonSchemaToGbnf(schema);
  REQUIRE_MESSAGE(gbnf.ok(), schema, " -> ", gbnf.status().ToString());
  const Status check = CheckGbnf(*gbnf);
  REQUIRE_MESSAGE(check.ok(), check.ToString(), "\n", *gbnf);
  return *gbnf;
}

bool Accepts(const std::string& gbnf, std::string_view doc) {
  auto grammar = ParseGbnf(gbnf);
  REQUIRE_MESSAGE(grammar.ok(), grammar.status().ToString());
  GrammarMatcher m(*grammar);
  return m.AcceptBytes(doc) && m.complete();
}

std::string ErrorOf(std::string_view schema) {
  auto gbnf = JsonSchemaToGbnf(schema);
  if (gbnf.ok()) return "";
  CHECK(gbnf.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(gbnf.status().message());
}

struct Case {
  const char* schema;
  std::vector<const char*> valid;    // accepted by the grammar and by the validator
  std::vector<const char*> invalid;  // refused by both
  std::vector<const char*> outside;  // valid JSON Schema-wise, but outside the grammar's subset
};

const Case kCases[] = {
    {R"({"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer"},
        "admin":{"type":"boolean"}},"required":["name","age"]})",
     {R"({"name":"Ann","age":31})", R"({"name": "Ann", "age": -4, "admin": true})",
      "{\n  \"name\": \"\\u00e9t\\u00e9\",\n  \"age\": 0\n}", R"({"name":"","age":7,"admin":false})"},
     {R"({"age":31})", R"({"name":"Ann"})", R"({"name":"Ann","age":3.5})", R"({"name":"Ann","age":"3"})",
      R"({"name":"abcdefghijklm","age":1})", R"({"name":"Ann","age":1,"admin":null})", R"({"name":"Ann","age":1,})"},
     {R"({"age":31,"name":"Ann"})", R"({"name":"Ann","age":1,"x":2})", R"({"name":"Ann","age":01})"}},
    // Only optional properties: every subset, in order, without stray commas.
    {R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string","maxLength":5},"c":{"type":"null"}}})",
     {"{}", R"({"a":1})", R"({"b":"x"})", R"({"c":null})", R"({"a":1,"b":"x"})", R"({"a":1,"c":null})",
      R"({"b":"x","c":null})", R"({"a":1,"b":"x","c":null})", "{ }"},
     {R"({"a":"1"})", R"({"b":"toolong"})", R"({"c":0})"},
     {R"({,"a":1})", R"({"a":1,})", R"({"b":"x","a":1})", R"({"a":1,"a":2})"}},
    {R"({"type":"object","properties":{"user":{"type":"object","properties":{"id":{"type":"integer"},
        "tags":{"type":"array","items":{"type":"string","maxLength":6},"minItems":1,"maxItems":3}},
        "required":["id","tags"]},"score":{"type":"number"}},"required":["user"]})",
     {R"({"user":{"id":1,"tags":["a"]}})", R"({"user":{"id":1,"tags":["a","bb","ccc"]},"score":-1.5e3})",
      R"({"user": {"id": 2, "tags": [ "x" , "y" ]}, "score": 0.25})"},
     {R"({"user":{"id":1,"tags":[]}})", R"({"user":{"id":1,"tags":["a","b","c","d"]}})",
      R"({"user":{"id":1,"tags":["toolong!"]}})", R"({"score":1})"},
     {R"({"user":{"id":1,"tags":["a"]},"score":1.0000000000000001})"}},
    {R"({"type":"object","properties":{"colour":{"enum":["red","green","blue"]},"size":{"enum":[1,2,3,null]}},
        "required":["colour"]})",
     {R"({"colour":"red"})", R"({"colour":"blue","size":null})", R"({"colour":"green","size":3})"},
     {R"({"colour":"pink"})", R"({"colour":"red","size":4})", R"({"size":1})"},
     {}},
    {R"({"type":"array","items":{"type":"integer"},"minItems":2,"maxItems":4})",
     {"[1,2]", "[1, 2, 3]", "[1,2,3,4]", "[ 1 ,2 ]"},
     {"[]", "[1]", "[1,2,3,4,5]", "[1,2.5]", "[1,,2]", "[1,2,]"},
     {}},
    {R"({"type":"array","items":{"type":"string"}})",
     {"[]", R"(["a"])", R"(["a","b","c"])"}, {"[1]", R"(["a",])", R"([,"a"])"}, {}},
    {R"({"type":"array","prefixItems":[{"type":"integer"},{"type":"string"}],"items":false})",
     {"[]", "[1]", R"([1,"a"])"}, {R"(["a"])", R"([1,"a",2])", "[1,2]"}, {}},
    {R"({"type":"array","prefixItems":[{"type":"integer"}],"items":{"type":"boolean"},"minItems":3})",
     {"[1,true,false]", "[1,true,false,true]"}, {"[1,true]", "[true,true,true]", "[1,true,2]"}, {}},
    {R"({"anyOf":[{"type":"integer"},{"type":"object","properties":{"x":{"type":"boolean"}},"required":["x"]}]})",
     {"12", R"({"x":true})"}, {"1.5", "{}", R"({"x":1})", "true"}, {}},
    {R"({"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},
        "next":{"anyOf":[{"$ref":"#/$defs/node"},{"type":"null"}]}},"required":["v","next"]}},
        "$ref":"#/$defs/node"})",
     {R"({"v":1,"next":null})", R"({"v":1,"next":{"v":2,"next":{"v":3,"next":null}}})"},
     {R"({"v":1})", R"({"v":1,"next":{"v":2}})", R"({"v":1,"next":3})"},
     {}},
    {R"({"definitions":{"tree":{"type":"array","items":{"$ref":"#/definitions/tree"},"maxItems":2}},
        "$ref":"#/definitions/tree"})",
     {"[]", "[[],[[]]]"}, {"[[],[],[]]", "[1]"}, {}},
    {R"({"type":"object","properties":{"when":{"type":"string","format":"date"},
        "id":{"type":"string","format":"uuid"},"at":{"type":"string","format":"date-time"},
        "t":{"type":"string","format":"time"}},"required":["when","id"]})",
     {R"({"when":"2024-02-29","id":"123e4567-e89b-12d3-a456-426614174000"})",
      R"({"when":"1999-12-31","id":"123E4567-E89B-12D3-A456-426614174000","at":"2024-01-02T03:04:05.123Z",
          "t":"23:59:60+05:30"})"},
     {R"({"when":"2024-13-01","id":"123e4567-e89b-12d3-a456-426614174000"})",
      R"({"when":"2024-01-01","id":"123e4567e89b12d3a456426614174000"})",
      R"({"when":"2024-01-01","id":"123e4567-e89b-12d3-a456-426614174000","at":"2024-01-02 03:04:05Z"})",
      R"({"when":"2024-01-01","id":"123e4567-e89b-12d3-a456-426614174000","t":"24:00:00Z"})"},
     {}},
    {R"({"type":"object","properties":{"version":{"const":2},"kind":{"type":"string","enum":["a","b"]},
        "note":{"type":"string"}},"required":["version","kind","note"]})",
     {R"({"version":2,"kind":"a","note":"tab\there \"q\" \\ \/ \u263a ok"})"},
     {R"({"version":3,"kind":"a","note":""})", R"({"version":2,"kind":"c","note":""})",
      "{\"version\":2,\"kind\":\"a\",\"note\":\"raw\nnewline\"}"},
     {R"({"version":2.0,"kind":"a","note":""})"}},
    {R"({"type":"string","minLength":2,"maxLength":3})",
     {R"("ab")", R"("abc")", R"("\n\t")", R"("日本語")"}, {R"("a")", R"("abcd")", R"("\q")"}, {}},
    {R"({"type":["string","null"]})", {R"("x")", "null"}, {"1", "[]"}, {}},
    {R"({"type":"integer","minimum":0})", {"0", "42"}, {"1.5", "\"1\""}, {"-0"}},
    {R"({"type":"number"})", {"0", "-1.5", "3e10", "2.5E-3", "123456789012345"}, {"01", ".5", "1.", "+1", "1e"},
     {"1234567890123456", "1e1234"}},
    {"{}", {"1", R"({"a":[true,null,{"b":"c"}]})", "[]", R"("s")"}, {"{", "tru"}, {" 1"}},
    {"true", {"null", "[1,2]"}, {"nul"}, {}},
    {R"({"type":"object","additionalProperties":{"type":"integer"}})",
     {"{}", R"({"a":1,"b":2})"}, {R"({"a":"x"})"}, {}},
    {R"({"type":"object","additionalProperties":false})", {"{}"}, {}, {}},
    {R"({"allOf":[{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]},
                  {"properties":{"b":{"type":"boolean"}}}]})",
     {R"({"a":1})", R"({"a":1,"b":true})"}, {R"({"b":true})", R"({"a":1,"b":1})"}, {}},
    // Required names that are not listed take any value; no type: inferred from the keywords.
    {R"({"required":["id"],"properties":{"n":{"maxLength":2}}})",
     {R"({"id":[1]})", R"({"id":null,"n":"ab"})"}, {"{}", R"({"id":1,"n":"abc"})"}, {"1"}},
    {R"({"type":"array","items":[{"type":"null"},{"type":"boolean"}],"additionalItems":{"type":"integer"}})",
     {"[]", "[null,true]", "[null,false,3,4]"}, {"[true]", "[null,true,false]"}, {}},
    {R"({"oneOf":[{"type":"boolean"},{"type":"array","maxItems":0}]})", {"true", "[]"}, {"[1]", "0"}, {}},
    {R"({"enum":[{"a":[1,"x"]},[true],"s\"q",1.5,null]})",
     {R"({"a":[1,"x"]})", "[true]", R"("s\"q")", "1.5", "null"}, {"[false]", "2"}, {R"({ "a": [1, "x"] })"}},
    {R"({"type":"object","properties":{"a/b~c":{"type":"integer"},"q\"uote":{"type":"boolean"}},"required":["q\"uote"]})",
     {R"({"q\"uote":true})", R"({"q\"uote":false,"a/b~c":3})"}, {R"({"a/b~c":3})"}, {}},
};

TEST_CASE("schema grammars accept what validates and refuse what does not") {
  for (const Case& c : kCases) {
    INFO("schema: ", c.schema);
    const std::string gbnf = Gbnf(c.schema);
    INFO("grammar:\n", gbnf);
    for (const char* doc : c.valid) {
      INFO("valid doc: ", doc);
      CHECK(Accepts(gbnf, doc));
      CHECK(test::JsonSchemaProblem(c.schema, doc) == "");
    }
    for (const char* doc : c.invalid) {
      INFO("invalid doc: ", doc);
      CHECK_FALSE(Accepts(gbnf, doc));
      CHECK(test::JsonSchemaProblem(c.schema, doc) != "");
    }
    for (const char* doc : c.outside) {
      INFO("doc outside the grammar's subset: ", doc);
      CHECK_FALSE(Accepts(gbnf, doc));
    }
  }
}

TEST_CASE("schema grammar bounds whitespace and number length") {
  const std::string gbnf = Gbnf(R"({"type":"array","items":{"type":"number"}})");
  CHECK(Accepts(gbnf, "[\n                1]"));
  CHECK_FALSE(Accepts(gbnf, "[\n                 1]"));  // 17 spaces of indent
  CHECK_FALSE(Accepts(gbnf, "[  1]"));
  CHECK(Accepts(gbnf, "[123456789012345.123456789012345e-99]"));
  CHECK_FALSE(Accepts(gbnf, "[1.1234567890123456]"));
  CHECK_FALSE(Accepts(gbnf, "[1e100]"));  // would overflow a double at 1e309
}

TEST_CASE("schema grammar: any JSON object") {
  const std::string gbnf = AnyJsonObjectGbnf();
  REQUIRE(CheckGbnf(gbnf).ok());
  CHECK(Accepts(gbnf, "{}"));
  CHECK(Accepts(gbnf, R"({"a": {"b": [1, "x", null]}, "c": false})"));
  CHECK_FALSE(Accepts(gbnf, "[]"));
  CHECK_FALSE(Accepts(gbnf, "1"));
  // Values nest at most 10 containers deep below the object.
  const std::string deep10 = "{\"a\":" + std::string(10, '[') + std::string(10, ']') + "}";
  const std::string deep11 = "{\"a\":" + std::string(11, '[') + std::string(11, ']') + "}";
  CHECK(Accepts(gbnf, deep10));
  CHECK_FALSE(Accepts(gbnf, deep11));
}

TEST_CASE("schema grammar: required properties come first, in schema order") {
  const char* schema = R"({"type":"object","properties":{"o1":{"type":"integer"},"r1":{"type":"integer"},
      "o2":{"type":"integer"},"r2":{"type":"integer"}},"required":["r2","r1"]})";
  const std::string gbnf = Gbnf(schema);
  CHECK(Accepts(gbnf, R"({"r1":1,"r2":2})"));
  CHECK(Accepts(gbnf, R"({"r1":1,"r2":2,"o1":3,"o2":4})"));
  CHECK(Accepts(gbnf, R"({"r1":1,"r2":2,"o2":4})"));
  CHECK_FALSE(Accepts(gbnf, R"({"r2":2,"r1":1})"));
  CHECK_FALSE(Accepts(gbnf, R"({"o1":3,"r1":1,"r2":2})"));
}

TEST_CASE("schema errors name the keyword and where it is") {
  CHECK(ErrorOf("{not json").find("not valid JSON") != std::string::npos);
  CHECK(ErrorOf("").find("not valid JSON") != std::string::npos);
  CHECK(ErrorOf(R"({"type":"object","properties":{"a":{"type":"string","pattern":"^a+$"}}})") ==
        "/properties/a: 'pattern' is not supported");
  CHECK(ErrorOf(R"({"not":{}})") == "/: 'not' is not supported");
  CHECK(ErrorOf(R"({"type":"array","items":{"uniqueItems":true}})") == "/items: 'uniqueItems' is not supported");
  CHECK(ErrorOf(R"({"anyOf":[{"type":"integer","multipleOf":2}]})") == "/anyOf/0: 'multipleOf' is not supported");
  CHECK(ErrorOf(R"({"if":{},"then":{}})").find("is not supported") != std::string::npos);
  CHECK(ErrorOf(R"({"properties":{"a~/b":{"patternProperties":{}}}})") ==
        "/properties/a~0~1b: 'patternProperties' is not supported");
  CHECK(ErrorOf(R"({"$ref":"#/$defs/missing"})").find("does not resolve") != std::string::npos);
  CHECK(ErrorOf(R"({"$ref":"https://example.com/s.json"})").find("not supported") != std::string::npos);
  CHECK(ErrorOf(R"({"type":"martian"})").find("unknown type") != std::string::npos);
  CHECK(ErrorOf("false").find("accepts nothing") != std::string::npos);
  CHECK(ErrorOf(R"({"type":"array","minItems":3,"maxItems":2})").find("accepts nothing") != std::string::npos);
  CHECK(ErrorOf(R"({"allOf":[{"type":"string"}]})").find("allOf") != std::string::npos);
  CHECK(ErrorOf("3").find("must be an object or a boolean") != std::string::npos);
  // Annotations and unknown keywords are ignored.
  CHECK(ErrorOf(R"({"title":"t","description":"d","$schema":"x","default":1,"examples":[],"x-foo":1,
      "type":"integer"})") == "");
}

TEST_CASE("hostile schemas are errors, not unbounded grammars") {
  CHECK(ErrorOf(R"({"type":"array","minItems":1000000})").find("minItems") != std::string::npos);
  CHECK(ErrorOf(R"({"type":"string","minLength":1000000000000})").find("minLength") != std::string::npos);
  // Deep nesting.
  std::string deep;
  for (int i = 0; i < 200; ++i) deep += R"({"type":"array","items":)";
  deep += "{}";
  for (int i = 0; i < 200; ++i) deep += "}";
  CHECK(ErrorOf(deep).find("nested deeper") != std::string::npos);
  // Many bounded arrays: the budget on repetitions.
  std::string many = R"({"type":"object","properties":{)";
  for (int i = 0; i < 200; ++i) {
    if (i > 0) many += ",";
    many += "\"p" + std::to_string(i);
    many += R"(":{"type":"array","items":{"type":"integer"},"minItems":4000,"maxItems":4000})";
  }
  many += "}}";
  CHECK(ErrorOf(many).find("too large") != std::string::npos);
  // A huge maxItems is clamped, and still a valid grammar.
  const std::string clamped = Gbnf(R"({"type":"array","items":{"type":"integer"},"maxItems":1000000000})");
  CHECK(Accepts(clamped, "[1,2,3]"));
}

TEST_CASE("json schema check reports problems") {
  CHECK(test::JsonSchemaProblem(R"({"type":"integer"})", "3") == "");
  CHECK(test::JsonSchemaProblem(R"({"type":"integer"})", "3.0") == "");
  CHECK(test::JsonSchemaProblem(R"({"type":"integer"})", "3.5") != "");
  CHECK(test::JsonSchemaProblem(R"({"type":"integer"})", "nope") != "");
  CHECK(test::JsonSchemaProblem("{bad", "1") != "");
  CHECK(test::JsonSchemaProblem(R"({"type":"string","maxLength":2})", R"("日本")") == "");
  CHECK(test::JsonSchemaProblem(R"({"type":"string","maxLength":2})", R"("日本語")") != "");
  CHECK(test::JsonSchemaProblem(R"({"required":["a"]})", R"({"b":1})").find("missing required") != std::string::npos);
  CHECK(test::JsonSchemaProblem(R"({"properties":{"a":{}},"additionalProperties":false})", R"({"b":1})") != "");
  CHECK(test::JsonSchemaProblem(R"({"properties":{"a":{}}})", R"({"b":1})") == "");
  CHECK(test::JsonSchemaProblem(R"({"oneOf":[{"type":"integer"},{"type":"number"}]})", "1") != "");
  CHECK(test::JsonSchemaProblem(R"({"oneOf":[{"type":"integer"},{"type":"number"}]})", "1.5") == "");
  CHECK(test::JsonSchemaProblem(R"({"type":"string","pattern":"a"})", R"("a")").find("not supported") != std::string::npos);
  CHECK(test::JsonSchemaProblem(R"({"$defs":{"n":{"type":"null"}},"items":{"$ref":"#/$defs/n"}})", "[null]") == "");
  CHECK(test::JsonSchemaProblem(R"({"$defs":{"n":{"type":"null"}},"items":{"$ref":"#/$defs/n"}})", "[1]") != "");
  CHECK(test::JsonSchemaProblem(R"({"$ref":"#"})", "1").find("nested too deeply") != std::string::npos);
}

}  // namespace
}  // namespace r1::grammar
