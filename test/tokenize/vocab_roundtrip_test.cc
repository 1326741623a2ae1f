// Decoding gives back the text: whole-sequence and streaming, for the test texts, random
// well-formed UTF-8 and arbitrary bytes, on every shared vocabulary.
#include <doctest/doctest.h>

#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "support/test_util.h"
#include "tokenize/nfc.h"
#include "tokenize/utf8.h"
#include "vocab_test_util.h"

R1_TEST_NEEDS_SHARED_DIR();

namespace r1 {
namespace {

// What decoding can give back: Qwen2 NFC-normalizes its input (as the original does), so the
// round trip holds up to NFC there.
std::string Expected(const Tokenizer& tok, const std::string& text) {
  if (tok.pre() != "qwen2") return text;
  std::string out;
  internal::AppendNfc(text, &out);
  return out;
}

// Decodes through a StreamDecoder; checks every piece ends on a character boundary.
std::string StreamDecode(const Tokenizer& tok, const std::vector<int32_t>& ids, bool* split_char) {
  StreamDecoder stream(tok);
  std::string out;
  for (int32_t id : ids) {
    auto piece = stream.Push(id);
    REQUIRE(piece.ok());
    if (!internal::IsValidUtf8(*piece)) *split_char = true;
    out += *piece;
  }
  out += stream.Flush();
  return out;
}

void CheckRoundTrip(const Tokenizer& tok, const std::string& text) {
  auto ids = tok.Encode(text, {.add_bos = false});
  REQUIRE(ids.ok());
  auto decoded = tok.Decode(*ids);
  REQUIRE(decoded.ok());
  CHECK(*decoded == Expected(tok, text));
  bool split_char = false;
  CHECK(StreamDecode(tok, *ids, &split_char) == *decoded);
  CHECK_FALSE(split_char);
}

std::string RandomUtf8(std::mt19937& rng, int n_chars) {
  std::string s;
  for (int i = 0; i < n_chars; ++i) {
    const uint32_t kind = rng() % 10;
    uint32_t cp;
    if (kind < 4) cp = 0x20 + rng() % 0x5F;                 // ASCII
    else if (kind < 5) cp = "\t\n\r \x0b\x0c"[rng() % 6];   // whitespace
    else if (kind < 7) cp = 0x80 + rng() % 0x2F80;          // Latin .. Indic .. symbols
    else if (kind < 9) cp = 0x3000 + rng() % 0xCFFF;        // CJK, Hangul
    else cp = 0x10000 + rng() % 0x100000;                   // astral planes
    if (cp >= 0xD800 && cp <= 0xDFFF) cp = 'x';
    internal::AppendUtf8(cp, &s);
  }
  return s;
}

TEST_CASE("decode(encode(text)) == text for the test texts, whole and streamed") {
  for (const std::string& file : test::SharedVocabFiles()) {
    const std::string name = file;
    const Tokenizer& tok = test::SharedVocab(name);
    for (const auto& c : test::ReadVocabCases(test::VocabDir() + "/" + name)) {
      INFO(name, ": ", c.text);
      CheckRoundTrip(tok, c.text);
    }
  }
}

TEST_CASE("decode(encode(text)) == text for random well-formed UTF-8") {
  std::mt19937 rng(2024);
  for (const std::string& file : test::SharedVocabFiles()) {
    const std::string name = file;
    const Tokenizer& tok = test::SharedVocab(name);
    for (int i = 0; i < 150; ++i) {
      const std::string text = RandomUtf8(rng, 1 + static_cast<int>(rng() % 60));
      INFO(name, ": ", text);
      CheckRoundTrip(tok, text);
    }
  }
}

TEST_CASE("arbitrary bytes neither crash nor hang, and byte-level vocabularies keep them") {
  std::mt19937 rng(99);
  std::vector<std::string> inputs;
  for (int i = 0; i < 100; ++i) {
    std::string s(1 + rng() % 80, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    inputs.push_back(s);
  }
  // Long runs that make backtracking regexes work hard.
  inputs.push_back(std::string(300000, ' ') + "x");
  inputs.push_back(std::string(300000, '\n') + std::string(1000, '\t') + "!");
  inputs.push_back(std::string(200000, 'a'));
  inputs.push_back(std::string(100000, '9') + "\xF0\x9F");
  for (int i = 0; i < 20000; ++i) inputs.back() += "\xF0\x9F\xA6\x99\xCC\x81 ";
  for (const std::string& file : test::SharedVocabFiles()) {
    const std::string name = file;
    const Tokenizer& tok = test::SharedVocab(name);
    const auto start = std::chrono::steady_clock::now();
    for (const std::string& text : inputs) {
      auto ids = tok.Encode(text, {.add_bos = false, .parse_special = true});
      INFO(name, ": ", ids.status().ToString());
      REQUIRE(ids.ok());
      auto decoded = tok.Decode(*ids);
      REQUIRE(decoded.ok());
      // Byte-level BPE encodes every byte (DeepSeek LLM lacks tokens for a few bytes that
      // UTF-8 never uses; Qwen2 normalizes the well-formed parts).
      if (tok.model() == "gpt2" && name.find("deepseek-llm") == std::string::npos &&
          name.find("deepseek-coder") == std::string::npos) {
        CHECK(*decoded == Expected(tok, text));
      }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    INFO(name, ": ", seconds, " s");
    CHECK(seconds < 30.0);
  }
}

}  // namespace
}  // namespace r1
