// The tokenizer test vectors of every shared vocabulary: ids from Hugging Face's tokenizers.
#include <doctest/doctest.h>

#include <string>

#include "support/test_util.h"
#include "vocab_test_util.h"

R1_TEST_NEEDS_SHARED_DIR();

namespace r1 {
namespace {

std::string Escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7F) out += static_cast<char>(c);
    else out += "\\x" + std::string(1, "0123456789abcdef"[c >> 4]) + "0123456789abcdef"[c & 15];
  }
  return out;
}

TEST_CASE("every vocabulary's .inp texts encode to the .out ids") {
  const auto files = test::SharedVocabFiles();
  CHECK(files.size() >= 9);  // the five R1-family vocabularies and llama.cpp's four
  for (const std::string& file : files) {
    const std::string name = file;
    const Tokenizer& tok = test::SharedVocab(name);
    const auto cases = test::ReadVocabCases(test::VocabDir() + "/" + file);
    int passed = 0;
    for (size_t i = 0; i < cases.size(); ++i) {
      INFO(name, " text ", i, ": \"", Escape(cases[i].text), "\"");
      auto ids = tok.Encode(cases[i].text, {.add_bos = false});
      REQUIRE(ids.ok());
      CHECK(*ids == cases[i].ids);
      passed += *ids == cases[i].ids;
    }
    CHECK(passed == static_cast<int>(cases.size()));
  }
}

}  // namespace
}  // namespace r1
