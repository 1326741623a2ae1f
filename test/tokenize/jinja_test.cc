// The Jinja engine against Jinja2 itself: data/jinja_cases.json (made by make_jinja_cases.py)
// holds small templates covering the supported subset, rendered by Jinja2 in transformers'
// chat-template environment; and the bounds that keep hostile templates harmless.
#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "r1/chat.h"
#include "tiny_vocab.h"
#include "tokenize/jinja_parser.h"
#include "tokenize/jinja_render.h"

namespace r1 {
namespace {

using internal::jinja::Dict;
using internal::jinja::List;
using internal::jinja::Value;

using Json = nlohmann::ordered_json;
Value FromJson(const Json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      return Value::None();
    case nlohmann::json::value_t::boolean:
      return Value::Bool(j.get<bool>());
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      return Value::Int(j.get<int64_t>());
    case nlohmann::json::value_t::number_float:
      return Value::Float(j.get<double>());
    case nlohmann::json::value_t::string:
      return Value::String(j.get<std::string>());
    case nlohmann::json::value_t::array: {
      List list;
      for (const auto& e : j) list.push_back(FromJson(e));
      return Value::MakeList(std::move(list));
    }
    case nlohmann::json::value_t::object: {
      Dict dict;
      for (const auto& [k, v] : j.items()) dict.Set(k, FromJson(v));
      return Value::MakeDict(std::move(dict));
    }
    default:
      return Value::Undefined();
  }
}

StatusOr<std::string> Render(std::string_view source, const Dict& vars = {},
                             const internal::jinja::RenderLimits& limits = {}) {
  return internal::jinja::RenderSource(source, vars, limits);
}

TEST_CASE("every Jinja case renders what Jinja2 renders") {
  std::ifstream in(std::string(R1_TOKENIZE_TEST_DATA) + "/jinja_cases.json");
  REQUIRE(in.good());
  // Keys keep their order: templates print dicts in insertion order.
  const nlohmann::ordered_json data = nlohmann::ordered_json::parse(in, nullptr, false);
  REQUIRE(data.is_object());
  int n = 0;
  for (const auto& c : data["cases"]) {
    INFO(c["name"].get<std::string>());
    Dict vars;
    for (const auto& [k, v] : c["context"].items()) vars.Set(k, FromJson(v));
    StatusOr<std::string> out = Render(c["template"].get<std::string>(), vars);
    if (c.contains("error")) {
      REQUIRE_FALSE(out.ok());
      CHECK(out.status().code() == absl::StatusCode::kInvalidArgument);
      const std::string expected = c["error"].get<std::string>();
      if (expected == "undefined") {
        CHECK(std::string(out.status().message()).find("is undefined") != std::string::npos);
      } else {
        CHECK(out.status().message() == expected);
      }
    } else {
      INFO(out.status());
      REQUIRE(out.ok());
      CHECK(*out == c["output"].get<std::string>());
    }
    ++n;
  }
  CHECK(n >= 20);
}

TEST_CASE("a model's own template renders when it is not a built-in family") {
  test::TinyBpe tiny;
  tiny.added = {{"<s>", TokenType::kControl}, {"</s>", TokenType::kControl}};
  VocabSpec spec = test::MakeBpeSpec(tiny);
  spec.bos_id = 256;
  spec.eos_id = 257;
  spec.chat_template =
      "{{ bos_token }}{% for m in messages %}[{{ m.role|upper }}] {{ m.content|trim }}{{ eos_token }}\n"
      "{% endfor %}{% if add_generation_prompt %}[ASSISTANT] {% endif %}";
  auto tok = test::MustCreate(spec);
  const std::vector<ChatMessage> chat = {{"system", "Be kind."}, {"user", " Hi "}};
  auto prompt = FormatChat(*tok, chat);
  REQUIRE(prompt.ok());
  CHECK(*prompt == "<s>[SYSTEM] Be kind.</s>\n[USER] Hi</s>\n[ASSISTANT] ");
  CHECK(*FormatChat(*tok, chat, /*add_generation_prompt=*/false) ==
        "<s>[SYSTEM] Be kind.</s>\n[USER] Hi</s>\n");
  // An explicit built-in still wins.
  CHECK(*FormatChat(*tok, chat, true, ChatTemplate::kChatMl) ==
        "<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\n Hi <|im_end|>\n"
        "<|im_start|>assistant\n");

  spec.chat_template = "{{ raise_exception('only user messages, please') }}";
  auto refusing = test::MustCreate(spec);
  auto refused = FormatChat(*refusing, chat);
  CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(refused.status().message() == "only user messages, please");
  for (const char* empty : {"{{ raise_exception(undefined_name) }}", "{{ raise_exception('') }}"}) {
    spec.chat_template = empty;
    auto silent = FormatChat(*test::MustCreate(spec), chat);
    CHECK(silent.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(silent.status().message() == "raise_exception() without a message");
  }

  spec.chat_template = "";
  CHECK(FormatChat(*test::MustCreate(spec), chat).status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("malformed templates are refused with the line") {
  for (const char* source : {"{% if x %}never closed", "{{ 1 + }}", "{{ 'open", "{% for %}",
                             "a\n{% endfor %}", "{# open", "{{ x", "{% include 'x' %}",
                             "{% break %}", "{{ (1, }}", "{% set %}", "{% macro m( %}{% endmacro %}",
                             "{{ 99999999999999999999 }}", "{{ $ }}", "{% raw %}x"}) {
    INFO(source);
    auto out = Render(source);
    REQUIRE_FALSE(out.ok());
    CHECK(out.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(out.status().message()).find("chat template line ") == 0);
  }
  auto second = Render("ok\n{{ 1 +* 2 }}");
  CHECK(std::string(second.status().message()).find("chat template line 2") == 0);
}

TEST_CASE("errors while rendering name the line") {
  for (const char* source : {"{{ x.y.z }}", "{{ 1 / 0 }}", "{{ 'a' - 1 }}", "{{ [1] < 'a' }}",
                             "{{ 1|nosuchfilter }}", "{{ 1 is nosuchtest }}", "{{ 'a'.nosuch() }}",
                             "{{ 9223372036854775807 + 1 }}", "{% set a, b = [1] %}",
                             "{% set x = 1 %}{% set x.y = 2 %}", "{{ range(1, 2, 0) }}",
                             "{{ 5() }}", "{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}",
                             "{{ 'x'|tojson(indent=1000) }}", "{{ {'a': nope}|tojson }}"}) {
    INFO(source);
    auto out = Render(source);
    REQUIRE_FALSE(out.ok());
    CHECK(out.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(out.status().message()).find("chat template line 1: ") == 0);
  }
}

TEST_CASE("hostile templates hit a bound, not the machine's limits") {
  auto exhausted = [](const StatusOr<std::string>& out) {
    INFO(out.status());
    return !out.ok() && out.status().code() == absl::StatusCode::kResourceExhausted;
  };
  // Endless work.
  CHECK(exhausted(Render("{% for a in range(1000000) %}{% for b in range(1000000) %}"
                         "{% endfor %}{% endfor %}")));
  // Exponential strings.
  CHECK(exhausted(Render("{% set ns = namespace(s='ab') %}{% for i in range(64) %}"
                         "{% set ns.s = ns.s ~ ns.s %}{% endfor %}")));
  CHECK(exhausted(Render("{{ 'x' * 100000000 }}")));
  CHECK(exhausted(Render("{{ ('x' * 1000000)|replace('x', 'yyyyyyyyyyyyyyyyyyyyyyyyyyyy') }}")));
  CHECK(exhausted(Render("{{ range(100000000)|length }}")));
  // Unbounded recursion.
  CHECK(exhausted(Render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}")));
  // Output.
  internal::jinja::RenderLimits small;
  small.max_output_bytes = 1000;
  CHECK(exhausted(Render("{% for i in range(1000) %}{{ i }}{% endfor %}", {}, small)));
  CHECK(Render("{% for i in range(100) %}{{ i }}{% endfor %}", {}, small).ok());
  small.max_steps = 100;
  CHECK(exhausted(Render("{% for i in range(1000) %}{% endfor %}", {}, small)));
  // Deep nesting is refused by the parser.
  CHECK(!Render("{{ " + std::string(10000, '(') + "1" + std::string(10000, ')') + " }}").ok());
  CHECK(!Render("{{ " + std::string(5000, '-') + "1 }}").ok());
  CHECK(!Render("{{ " + std::string(5000, '[') + " }}").ok());
  CHECK(!Render("{{ x" + std::string(5000, '|') + " }}").ok());
  // Long operator chains parse (in loops) into deep trees: evaluation is bounded instead.
  std::string chain = "{{ 1";
  for (int i = 0; i < 20000; ++i) chain += " + 1";
  CHECK(exhausted(Render(chain + " }}")));
  std::string filters = "{{ 'a'";
  for (int i = 0; i < 20000; ++i) filters += "|upper";
  CHECK(exhausted(Render(filters + " }}")));
  std::string nested;
  for (int i = 0; i < 1000; ++i) nested += "{% if true %}";
  CHECK(!Render(nested).ok());
  // Source size.
  CHECK(!Render(std::string(internal::jinja::kMaxSourceBytes + 1, 'x')).ok());
  CHECK(Render(std::string(internal::jinja::kMaxSourceBytes, 'x')).ok());
}

TEST_CASE("strftime_now formats the current time") {
  auto year = Render("{{ strftime_now('%Y')|int > 2000 }}");
  REQUIRE(year.ok());
  CHECK(*year == "True");
  CHECK(!Render("{{ strftime_now(1) }}").ok());
}

}  // namespace
}  // namespace r1
