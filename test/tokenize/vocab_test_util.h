// vocab_test_util.h — loading the shared vocabularies and their test vectors.
#pragma once

#include <string>
#include <vector>

#include "r1/tokenizer.h"

namespace r1::test {

// The vocab folder of the shared test data ("" when absent).
std::string VocabDir();

// Every vocabulary in the vocab folder that comes with test vectors (<file>.inp), sorted.
std::vector<std::string> SharedVocabFiles();

// A tokenizer for ../shared/vocab/<file>, loaded once per test binary; fails the test when it
// does not load.
const Tokenizer& SharedVocab(const std::string& file);

// The texts of <file>.inp and the expected ids of <file>.out (llama.cpp's format).
struct VocabCase {
  std::string text;
  std::vector<int32_t> ids;
};
std::vector<VocabCase> ReadVocabCases(const std::string& gguf_path);

}  // namespace r1::test
