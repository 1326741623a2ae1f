// GBNF parsing: llama.cpp's example grammars, the syntax corners, and every refusal with its
// line and column.
#include <doctest/doctest.h>

#include <string>

#include "grammar/gbnf_parser.h"
#include "grammar/grammar_constraint.h"
#include "example_grammars.h"

namespace r1::grammar {
namespace {

std::string ErrorOf(std::string_view gbnf) {
  auto g = ParseGbnf(gbnf);
  if (g.ok()) return "ok";
  CHECK(g.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(g.status().message());
}

bool StartsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

TEST_CASE("llama.cpp example grammars parse") {
  for (const char* text : {testdata::kJsonGbnf, testdata::kArithmeticGbnf, testdata::kChessGbnf,
                           testdata::kListGbnf, testdata::kJapaneseGbnf, testdata::kCGbnf}) {
    auto g = ParseGbnf(text);
    REQUIRE_MESSAGE(g.ok(), g.status().ToString());
    CHECK((*g)->rules[(*g)->root].name == "root");
    CHECK(CheckGbnf(text).ok());
  }
}

TEST_CASE("syntax accepted") {
  CHECK(ErrorOf("root ::= \"a\" | \"b\"") == "ok");
  CHECK(ErrorOf("root ::= x\nx ::= [a-z]+ # trailing comment\n") == "ok");
  CHECK(ErrorOf("# comment first\n\nroot ::= ( \"a\"\n  | \"b\" )\n") == "ok");
  CHECK(ErrorOf("root ::= \"a\" |\n  \"b\"") == "ok");                 // newline after |
  CHECK(ErrorOf("root ::=\n  \"a\"") == "ok");                         // newline after ::=
  CHECK(ErrorOf("root ::= \"\\x41\\u00e9\\U0001F600\\n\\t\\r\\\\\\\"\"") == "ok");
  CHECK(ErrorOf("root ::= [^\\]\\[\\n] . [\\x00-\\x1F] [-a] [a-]") == "ok");
  CHECK(ErrorOf("root ::= \"a\"{3} \"b\"{2,} \"c\"{0,4} \"d\"{ 1 , 2 }") == "ok");
  CHECK(ErrorOf("root ::= (\"a\" \"b\")* x? x+\nx ::= \"x\"\r\n") == "ok");
  CHECK(ErrorOf("root ::= | \"a\"") == "ok");                            // empty alternative
  CHECK(ErrorOf("root ::= r-1_x\nr-1_x ::= \"\"") == "ok");
}

TEST_CASE("errors carry line and column") {
  CHECK(ErrorOf("root ::= \"a") == "line 1, column 12: unterminated string literal");
  CHECK(ErrorOf("root ::= [a-z") == "line 1, column 14: unterminated character class");
  CHECK(ErrorOf("root ::= \"a\"\nfoo = \"b\"") == "line 2, column 5: expecting '::='");
  CHECK(ErrorOf("root ::= ( \"a\"") == "line 1, column 15: expecting ')'");
  CHECK(ErrorOf("root ::= \"a\" )") == "line 1, column 14: unexpected ')'; expecting the end of the rule");
  CHECK(ErrorOf("root ::= * \"a\"") == "line 1, column 10: '*' must follow something to repeat");
  CHECK(ErrorOf("root ::= \"\\q\"") == "line 1, column 11: unknown escape '\\q'");
  CHECK(ErrorOf("root ::= \"\\x4\"") == "line 1, column 14: expecting 2 hex digits after '\\x'");
  CHECK(ErrorOf("root ::= [z-a]") == "line 1, column 13: character range ends before it starts");
  CHECK(ErrorOf("root ::= \"a\"{2,1}") == "line 1, column 16: repetition maximum is below its minimum");
  CHECK(ErrorOf("root ::= \"a\"{2") == "line 1, column 15: expecting '}'");
  CHECK(ErrorOf("root ::= <think>") == "line 1, column 10: token references (<...>) are not supported");
  CHECK(ErrorOf("root ::= \"a\"\nroot ::= \"b\"") == "line 2, column 1: rule 'root' is defined twice");
  CHECK(ErrorOf("root ::= \"\xff\"") == "line 1, column 11: invalid UTF-8");
  CHECK(ErrorOf("::= \"a\"") == "line 1, column 1: expecting a rule name");
}

TEST_CASE("undefined rule and missing root") {
  CHECK(ErrorOf("root ::= a b\na ::= \"x\"") == "line 1, column 12: undefined rule 'b'");
  CHECK(ErrorOf("start ::= \"x\"") == "line 1, column 1: the grammar has no 'root' rule");
  CHECK(ErrorOf("") == "line 1, column 1: the grammar has no 'root' rule");
  CHECK(ParseGbnf("start ::= \"x\"", "start").ok());
}

TEST_CASE("left recursion is refused") {
  CHECK(ErrorOf("root ::= root \"a\" | \"b\"") ==
        "line 1, column 1: rule 'root' is left-recursive (it can reach itself without consuming input)");
  CHECK(StartsWith(ErrorOf("root ::= \"x\" a\na ::= b \"y\"\nb ::= c?\nc ::= a"),
                   "line 2, column 1: rule 'a' is left-recursive"));
  // Through a nullable prefix.
  CHECK(StartsWith(ErrorOf("root ::= e root \"a\" | \"b\"\ne ::= \"\" | \"c\""), "line 1, column 1: rule 'root'"));
  // Repeating something that can be empty would loop too.
  CHECK(StartsWith(ErrorOf("root ::= (\"a\"?)*"), "line 1, column 1: rule 'root' is left-recursive"));
  // Right recursion is fine.
  CHECK(ErrorOf("root ::= \"a\" root | \"b\"") == "ok");
}

TEST_CASE("size limits") {
  CHECK(ErrorOf("root ::= \"x\"{1000000}") == "line 1, column 14: repetition count 1000000 is over the limit of 10000");
  CHECK(ErrorOf("root ::= \"x\"{99999999999999999999999}") ==
        "line 1, column 14: repetition count 1099511627776 is over the limit of 10000");
  // Nested repetitions stay linear: each level refers to the one below.
  CHECK(ErrorOf("root ::= ((\"x\"{10000}){10000}){10000}") == "ok");
  std::string many = "root ::= a0\n";
  for (int i = 0; i < 200; ++i) {
    many += "a";
    many += std::to_string(i);
    many += " ::= \"x\"{9000} a";
    many += std::to_string(i + 1);
    many += "\n";
  }
  many += "a200 ::= \"y\"\n";
  CHECK(StartsWith(ErrorOf(many), "line "));
  CHECK(ErrorOf(many).find("grammar is too large") != std::string::npos);
  std::string deep = "root ::= " + std::string(1000, '(') + "\"a\"" + std::string(1000, ')');
  CHECK(ErrorOf(deep).find("nested too deeply") != std::string::npos);
}

}  // namespace
}  // namespace r1::grammar
