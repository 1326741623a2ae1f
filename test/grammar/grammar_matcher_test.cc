// The matcher: whole texts accepted or refused for llama.cpp's example grammars, UTF-8 split
// across calls, complete()/finished(), and the bound on ambiguity.
#include <doctest/doctest.h>

#include <string>

#include "grammar/gbnf_parser.h"
#include "grammar/grammar_matcher.h"
#include "example_grammars.h"

namespace r1::grammar {
namespace {

GrammarMatcher Matcher(std::string_view gbnf) {
  auto g = ParseGbnf(gbnf);
  REQUIRE_MESSAGE(g.ok(), g.status().ToString());
  return GrammarMatcher(*g);
}

// The whole text is a complete match.
bool Matches(std::string_view gbnf, std::string_view text) {
  GrammarMatcher m = Matcher(gbnf);
  return m.AcceptBytes(text) && m.complete();
}

// The text is a prefix of some match.
bool Prefix(std::string_view gbnf, std::string_view text) { return Matcher(gbnf).AcceptBytes(text); }

TEST_CASE("json") {
  const char* g = testdata::kJsonGbnf;
  CHECK(Matches(g, "{}"));
  CHECK(Matches(g, "{\"a\": 1}"));
  CHECK(Matches(g, "{\"a\": [1, 2.5e3, -0.1, true, false, null, \"x\\n\\u00e9\"], \"b\": {\"c\": {}}}"));
  CHECK(Matches(g, "{\n  \"name\": \"Zoë 日本\",\n  \"n\": [ ]\n}"));
  CHECK_FALSE(Matches(g, "{"));
  CHECK_FALSE(Matches(g, "[1]"));                 // root is an object
  CHECK_FALSE(Matches(g, "{\"a\" 1}"));
  CHECK_FALSE(Matches(g, "{\"a\": 01x}"));
  CHECK_FALSE(Matches(g, "{\"a\": \"\x01\"}"));    // control character in a string
  CHECK_FALSE(Matches(g, "{\"a\": \"\\q\"}"));
  CHECK_FALSE(Matches(g, "{'a': 1}"));
  CHECK(Prefix(g, "{\"a\": [1, {\"b\""));
  CHECK_FALSE(Prefix(g, "{\"a\": ]"));
}

TEST_CASE("arithmetic") {
  const char* g = testdata::kArithmeticGbnf;
  CHECK(Matches(g, "1+2=3\n"));
  CHECK(Matches(g, "x*(y-2) = z1\nab/3=4\n"));
  CHECK_FALSE(Matches(g, "x*(y - 2)=1\n"));  // no space before a term
  CHECK_FALSE(Matches(g, "1+=3\n"));
  CHECK_FALSE(Matches(g, "1+2=3"));  // needs the newline
  CHECK_FALSE(Matches(g, "A=1\n"));
}

TEST_CASE("chess") {
  const char* g = testdata::kChessGbnf;
  CHECK(Matches(g, "1. e4 e5\n2. Nf3 Nc6\n3. Bb5 a6\n"));
  CHECK(Matches(g, "1. d4 d5\n2. c4 dxc4\n3. O-O-O Qxd8#\n"));
  CHECK_FALSE(Matches(g, "1. e4 e5\n"));  // at least one more numbered move
  CHECK_FALSE(Matches(g, "1. e9 e5\n2. a3 a6\n"));
  CHECK_FALSE(Matches(g, "1. e4 e5\n0. a3 a6\n"));
}

TEST_CASE("list and japanese") {
  CHECK(Matches(testdata::kListGbnf, "- milk\n- eggs and ham\n"));
  CHECK_FALSE(Matches(testdata::kListGbnf, "- milk\n-\n"));
  CHECK_FALSE(Matches(testdata::kListGbnf, "* milk\n"));
  CHECK_FALSE(Matches(testdata::kListGbnf, "- a\u2028b\n"));
  CHECK(Matches(testdata::kJapaneseGbnf, "こんにちは 世界"));
  CHECK_FALSE(Matches(testdata::kJapaneseGbnf, "hello"));
  CHECK(Matches(testdata::kCGbnf, "int main(){return 0;}"));
}

TEST_CASE("repetition counts") {
  const char* g = "root ::= \"a\"{2,4} \"b\"{2} (\"c\" \"d\"){1,}";
  CHECK(Matches(g, "aabbcd"));
  CHECK(Matches(g, "aaaabbcdcdcd"));
  CHECK_FALSE(Matches(g, "abbcd"));
  CHECK_FALSE(Matches(g, "aaaaabbcd"));
  CHECK_FALSE(Matches(g, "aabbbcd"));
  CHECK_FALSE(Matches(g, "aabb"));
  CHECK(Matches("root ::= [^a-c]* .", "xyz\xE2\x82\xAC"));
  CHECK_FALSE(Matches("root ::= [^a-c]* .", "xaz"));
}

TEST_CASE("partial UTF-8 across calls") {
  GrammarMatcher m = Matcher("root ::= [ぁ-ゟ]+");
  const std::string a = "あい";  // E3 81 82, E3 81 84
  for (size_t i = 0; i < a.size(); ++i) {
    REQUIRE(m.AcceptByte(static_cast<uint8_t>(a[i])));
    CHECK(m.complete() == (i == 2 || i == 5));
    CHECK(m.inside_character() == !(i == 2 || i == 5));
  }
  // A byte that could only become a character outside the class is refused at once.
  CHECK_FALSE(m.AcceptByte('a'));
  CHECK_FALSE(m.AcceptByte(0xE4));  // U+4000.. is not hiragana
  CHECK(m.AcceptByte(0xE3));
  CHECK_FALSE(m.AcceptByte(0x80));  // U+3000..U+303F: below the class
  CHECK(m.AcceptByte(0x81));
  CHECK(m.complete() == false);
}

TEST_CASE("invalid UTF-8 is refused") {
  GrammarMatcher m = Matcher("root ::= .*");
  CHECK_FALSE(m.AcceptByte(0x80));              // lone continuation
  CHECK_FALSE(m.AcceptByte(0xC0));              // overlong lead
  CHECK_FALSE(m.AcceptByte(0xFF));
  CHECK_FALSE(m.AcceptBytes("\xE0\x80\x80"));   // overlong
  CHECK_FALSE(m.AcceptBytes("\xED\xA0\x80"));   // surrogate
  CHECK_FALSE(m.AcceptBytes("\xF4\x90\x80\x80"));  // beyond U+10FFFF
  CHECK_FALSE(m.AcceptBytes("\xE3\x81" "a"));   // interrupted character
  CHECK(m.AcceptBytes("\xF0\x9F\x98\x80"));
  CHECK(m.complete());
}

TEST_CASE("complete and finished") {
  GrammarMatcher m = Matcher("root ::= \"ab\" \"c\"?");
  CHECK_FALSE(m.complete());
  REQUIRE(m.AcceptBytes("ab"));
  CHECK(m.complete());
  CHECK_FALSE(m.finished());
  REQUIRE(m.AcceptBytes("c"));
  CHECK(m.complete());
  CHECK(m.finished());
  CHECK_FALSE(m.AcceptBytes("c"));
  GrammarMatcher empty = Matcher("root ::= \"\"");
  CHECK(empty.finished());
}

TEST_CASE("a failed accept leaves the state unchanged") {
  GrammarMatcher m = Matcher(testdata::kJsonGbnf);
  REQUIRE(m.AcceptBytes("{\"a\":"));
  std::string before, after;
  m.AppendKey(&before);
  CHECK_FALSE(m.AcceptBytes(" 1}x"));
  m.AppendKey(&after);
  CHECK(before == after);
  CHECK(m.AcceptBytes(" 1}"));
}

TEST_CASE("ambiguity is bounded") {
  // Every split of the a's is a separate derivation; the matcher must not grow without bound.
  GrammarMatcher m = Matcher("root ::= x*\nx ::= \"a\" | \"a\" \"a\" | \"a\" \"a\" \"a\" y\ny ::= \"\" | \"a\" y");
  for (int i = 0; i < 200; ++i) {
    if (!m.AcceptByte('a')) break;
  }
  CHECK(true);  // reached: bounded time and memory
  // Tail recursion keeps repetitions shallow: the state after many items is the same.
  GrammarMatcher list = Matcher("root ::= (\"ab\")*");
  REQUIRE(list.AcceptBytes("ab"));
  std::string k1, k2;
  list.AppendKey(&k1);
  REQUIRE(list.AcceptBytes("abababab"));
  list.AppendKey(&k2);
  CHECK(k1 == k2);
}

}  // namespace
}  // namespace r1::grammar
