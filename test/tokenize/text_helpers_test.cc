// UTF-8 handling, the GPT-2 byte mapping, NFC and the regex splitter.
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "tokenize/byte_level.h"
#include "tokenize/nfc.h"
#include "tokenize/pre_tokenizer.h"
#include "tokenize/regex_split.h"
#include "tokenize/utf8.h"

namespace r1::internal {
namespace {

std::string Nfc(std::string_view s) {
  std::string out;
  AppendNfc(s, &out);
  return out;
}

std::string Valid(std::string_view s) {
  std::string out;
  AppendValidUtf8(s, &out);
  return out;
}

std::vector<std::string> Words(std::string_view pre, std::string_view text) {
  auto spec = PreTokenizerSpecFor(pre);
  REQUIRE(spec.ok());
  auto p = PreTokenizer::Create(*spec);
  REQUIRE(p.ok());
  std::vector<std::string_view> words, scratch;
  REQUIRE((*p)->Split(text, &words, &scratch).ok());
  return std::vector<std::string>(words.begin(), words.end());
}

TEST_CASE("DecodeUtf8 decodes scalar values and steps over maximal ill-formed subparts") {
  size_t pos = 0;
  CHECK(DecodeUtf8("\xF0\x9F\xA6\x99", &pos) == 0x1F999);
  CHECK(pos == 4);
  pos = 0;
  CHECK(DecodeUtf8("\xE2\x82", &pos) == -1);  // truncated
  CHECK(pos == 2);
  pos = 0;
  CHECK(DecodeUtf8("\xED\xA0\x80", &pos) == -1);  // surrogate: ED may not be followed by A0
  CHECK(pos == 1);
  pos = 0;
  CHECK(DecodeUtf8("\xC0\xAF", &pos) == -1);  // overlong lead
  CHECK(pos == 1);
  CHECK(IsValidUtf8("héllo 🦙"));
  CHECK_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
}

TEST_CASE("AppendValidUtf8 replaces each maximal ill-formed subpart with one U+FFFD") {
  CHECK(Valid("a\xE2\x82z") == "a\xEF\xBF\xBDz");
  CHECK(Valid("\x80\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(Valid("\xF0\x9F\xA6") == "\xEF\xBF\xBD");
  CHECK(Valid("ok é") == "ok é");
}

TEST_CASE("CompleteUtf8Prefix holds back only an unfinished, so-far-valid character") {
  CHECK(CompleteUtf8Prefix("abc") == 3);
  CHECK(CompleteUtf8Prefix("ab\xE2\x82") == 2);
  CHECK(CompleteUtf8Prefix("ab\xE2\x82\xAC") == 5);
  CHECK(CompleteUtf8Prefix("\xF0\x9F\xA6") == 0);
  CHECK(CompleteUtf8Prefix("\xF0") == 0);
  CHECK(CompleteUtf8Prefix("a\xE0\x80") == 3);  // E0 80 can never be completed
  CHECK(CompleteUtf8Prefix("\x80\x80\x80\x80") == 4);
  CHECK(CompleteUtf8Prefix("a\xFF") == 2);
  CHECK(CompleteUtf8Prefix("") == 0);
}

TEST_CASE("the GPT-2 byte mapping is a bijection onto printable characters") {
  std::set<char32_t> seen;
  for (int b = 0; b < 256; ++b) seen.insert(ByteToChar(static_cast<uint8_t>(b)));
  CHECK(seen.size() == 256);
  CHECK(ByteToChar(' ') == 0x120);  // 'Ġ'
  CHECK(ByteToChar('\n') == 0x10A);  // 'Ċ'
  CHECK(ByteToChar('A') == 'A');
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  auto back = ByteLevelDecode(ByteLevelEncode(all));
  REQUIRE(back.has_value());
  CHECK(*back == all);
  CHECK_FALSE(ByteLevelDecode("日本").has_value());
}

TEST_CASE("NFC composes, reorders marks and maps singletons; ill-formed bytes pass through") {
  CHECK(Nfc("cafe\xCC\x81") == "caf\xC3\xA9");                 // e + U+0301 -> é
  CHECK(Nfc("\xE1\x84\x80\xE1\x85\xA1") == "\xEA\xB0\x80");    // conjoining jamo -> 가
  CHECK(Nfc("\xE2\x84\xA6") == "\xCE\xA9");                    // U+2126 OHM -> U+03A9
  CHECK(Nfc("a\xCC\x81\xCC\xA3") == "\xE1\xBA\xA1\xCC\x81");   // marks reordered, then composed
  CHECK(Nfc("plain ascii") == "plain ascii");
  CHECK(Nfc("e\xFF\xCC\x81") == "e\xFF\xCC\x81");              // the bad byte separates e and ´
  CHECK(Nfc("\xCC\x81x") == "\xCC\x81x");
}

TEST_CASE("ExpandWhitespaceClasses spells out White_Space inside and outside classes") {
  const std::string p = ExpandWhitespaceClasses(R"(\s+(?!\S)|[^\s\p{L}]|\\s|[\]\s])");
  CHECK(p.find("\\s") == p.find("\\\\s") + 1);  // only the escaped backslash's "\s" remains
  CHECK(p.find("[^\\x{9}-\\x{D}") != std::string::npos);
}

TEST_CASE("RegexSplit keeps matches and the stretches between them, covering the input") {
  auto split = RegexSplit::Compile("[0-9]+");
  REQUIRE(split.ok());
  std::vector<std::string_view> pieces;
  REQUIRE((*split)->Split("ab12cd345", &pieces).ok());
  CHECK(std::vector<std::string>(pieces.begin(), pieces.end()) ==
        std::vector<std::string>{"ab", "12", "cd", "345"});
  pieces.clear();
  REQUIRE((*split)->Split("1\xFF\xFE" "2", &pieces).ok());
  CHECK(std::vector<std::string>(pieces.begin(), pieces.end()) ==
        std::vector<std::string>{"1", "\xFF\xFE", "2"});
}

TEST_CASE("pre-tokenizers split as their originals do") {
  CHECK(Words("qwen2", "Hello world's 123") ==
        std::vector<std::string>{"Hello", " world", "'s", " ", "1", "2", "3"});
  CHECK(Words("llama-bpe", "x 12345  \n\ny") ==
        std::vector<std::string>{"x", " ", "123", "45", "  \n\n", "y"});
  CHECK(Words("qwen2", "I'M") == std::vector<std::string>{"I", "'M"});
  // U+180E is not White_Space (since Unicode 6.3), so it does not join a space run.
  CHECK(Words("qwen2", " \xE1\xA0\x8E") == std::vector<std::string>{" \xE1\xA0\x8E"});
  // U+0085 is White_Space; like a space it may lead a letter run.
  CHECK(Words("qwen2", "a\xC2\x85\xC2\x85" "b") ==
        std::vector<std::string>{"a", "\xC2\x85", "\xC2\x85" "b"});
  CHECK(Words("deepseek-v3", "abc12345漢字かな") ==
        std::vector<std::string>{"abc", "123", "45", "漢字かな"});
  CHECK(Words("gpt-2", "Hello  world") == std::vector<std::string>{"Hello", " ", " world"});
  CHECK_FALSE(PreTokenizerSpecFor("no-such-pre").ok());
}

TEST_CASE("every pre-tokenizer covers arbitrary bytes exactly and quickly") {
  std::string junk;
  uint32_t x = 12345;
  for (int i = 0; i < 200000; ++i) {
    x = x * 1103515245u + 12345u;
    junk += static_cast<char>(x >> 24);
  }
  junk += std::string(100000, ' ') + "x" + std::string(100000, '\n') + std::string(50000, '9');
  for (const char* pre : {"qwen2", "llama-bpe", "deepseek-v3", "deepseek-llm", "deepseek-coder",
                          "gpt-2", "default"}) {
    INFO(pre);
    std::string joined;
    bool any_empty = false;
    for (const std::string& w : Words(pre, junk)) {
      any_empty = any_empty || w.empty();
      joined += w;
    }
    CHECK_FALSE(any_empty);
    CHECK(joined == junk);
  }
}

}  // namespace
}  // namespace r1::internal
