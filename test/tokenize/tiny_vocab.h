// tiny_vocab.h — small in-memory vocabularies for unit tests.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "r1/tokenizer.h"

namespace r1::test {

// A byte-level BPE vocabulary: ids 0-255 are the bytes, then one token per merge result (in
// merge order), then `added` tokens with their types.
struct TinyBpe {
  std::vector<std::pair<std::string, std::string>> merges;  // raw bytes, priority order
  std::vector<std::pair<std::string, TokenType>> added;
  std::string pre = "qwen2";
};
VocabSpec MakeBpeSpec(const TinyBpe& tiny);

// A SentencePiece vocabulary: <unk>, <s>, </s>, the 256 <0xXX> byte tokens, then `pieces`
// (text with U+2581 for space, score).
VocabSpec MakeSpmSpec(const std::vector<std::pair<std::string, float>>& pieces);

std::unique_ptr<Tokenizer> MustCreate(const VocabSpec& spec);

}  // namespace r1::test
