// spm_model.h — SentencePiece-style BPE (the GGUF "llama" tokenizer model).
//
// The text (spaces already written as U+2581) starts as one symbol per character; the
// adjacent pair whose concatenation is the highest-scoring vocabulary entry is merged first
// (leftmost among equal scores). Symbols that end up outside the vocabulary fall back to
// <0xXX> byte tokens, or to the unknown token when the vocabulary has no byte tokens.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "r1/status.h"

namespace r1::internal {

class SpmModel {
 public:
  struct Token {
    std::string text;  // vocabulary text (U+2581 for space)
    float score;
    bool mergeable;    // an ordinary entry BPE may produce
  };

  // `byte_tokens[b]` is the id of <0xXX> (-1 when absent); `unk_id` is -1 when absent.
  static std::unique_ptr<SpmModel> Create(const std::vector<Token>& tokens,
                                          const std::array<int32_t, 256>& byte_tokens,
                                          int32_t unk_id);

  // Appends the ids for `text` to *ids. Fails only when a byte has neither a token nor a
  // byte fallback nor an unknown token to stand for it.
  Status Encode(std::string_view text, std::vector<int32_t>* ids) const;

 private:
  SpmModel() = default;
  int32_t Find(std::string_view text) const;

  absl::flat_hash_map<std::string, int32_t> ids_;
  std::vector<float> scores_;
  std::array<int32_t, 256> byte_tokens_{};
  int32_t unk_id_ = -1;
};

}  // namespace r1::internal
