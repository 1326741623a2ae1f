#include "tiny_vocab.h"

#include <doctest/doctest.h>

#include <cstdio>

#include "tokenize/byte_level.h"

namespace r1::test {

VocabSpec MakeBpeSpec(const TinyBpe& tiny) {
  VocabSpec spec;
  spec.model = "gpt2";
  spec.pre = tiny.pre;
  for (int b = 0; b < 256; ++b) {
    spec.tokens.push_back(internal::ByteLevelEncode(std::string(1, static_cast<char>(b))));
    spec.token_types.push_back(static_cast<int32_t>(TokenType::kNormal));
  }
  for (const auto& [left, right] : tiny.merges) {
    const std::string joined = internal::ByteLevelEncode(left + right);
    bool seen = false;
    for (const std::string& t : spec.tokens) seen = seen || t == joined;
    if (!seen) {
      spec.tokens.push_back(joined);
      spec.token_types.push_back(static_cast<int32_t>(TokenType::kNormal));
    }
    spec.merges.push_back(internal::ByteLevelEncode(left) + " " + internal::ByteLevelEncode(right));
  }
  for (const auto& [text, type] : tiny.added) {
    spec.tokens.push_back(text);
    spec.token_types.push_back(static_cast<int32_t>(type));
  }
  return spec;
}

VocabSpec MakeSpmSpec(const std::vector<std::pair<std::string, float>>& pieces) {
  VocabSpec spec;
  spec.model = "llama";
  spec.tokens = {"<unk>", "<s>", "</s>"};
  spec.token_types = {2, 3, 3};
  spec.scores = {0, 0, 0};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    spec.tokens.push_back(name);
    spec.token_types.push_back(static_cast<int32_t>(TokenType::kByte));
    spec.scores.push_back(0);
  }
  for (const auto& [text, score] : pieces) {
    spec.tokens.push_back(text);
    spec.token_types.push_back(static_cast<int32_t>(TokenType::kNormal));
    spec.scores.push_back(score);
  }
  spec.bos_id = 1;
  spec.eos_id = 2;
  spec.unk_id = 0;
  return spec;
}

std::unique_ptr<Tokenizer> MustCreate(const VocabSpec& spec) {
  auto tok = Tokenizer::Create(spec);
  INFO(tok.status().ToString());
  REQUIRE(tok.ok());
  return std::move(*tok);
}

}  // namespace r1::test
