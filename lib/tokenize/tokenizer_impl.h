// tokenizer_impl.h — the data behind r1::Tokenizer, shared by its implementation files.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "r1/status.h"
#include "r1/tokenizer.h"
#include "tokenize/bpe_model.h"
#include "tokenize/pre_tokenizer.h"
#include "tokenize/special_tokens.h"
#include "tokenize/spm_model.h"

namespace r1 {

struct Tokenizer::Impl {
  enum class Kind { kBpe, kSpm };
  Kind kind = Kind::kBpe;
  std::string model_name;
  std::string pre_name;
  std::string chat_template;

  std::vector<std::string> texts;   // id -> stored text
  std::vector<std::string> pieces;  // id -> decoded bytes (control tokens: their text)
  std::vector<TokenType> types;     // id -> type
  std::vector<bool> end_of_generation;
  absl::flat_hash_map<std::string, int32_t> text_ids;

  std::optional<int32_t> bos, eos;
  bool add_bos = false;
  bool add_eos = false;
  bool add_space_prefix = false;  // SentencePiece only

  internal::SpecialTokenMatcher specials;
  std::unique_ptr<internal::PreTokenizer> pre_tokenizer;  // byte-level BPE
  std::unique_ptr<internal::BpeModel> bpe;
  std::unique_ptr<internal::SpmModel> spm;

  bool InRange(int32_t id) const { return id >= 0 && id < static_cast<int32_t>(types.size()); }

  // Appends the ids of a stretch of plain text. `after_added` is true at the start of the
  // input and right after an added token (SentencePiece puts a space there).
  Status EncodeText(std::string_view text, bool after_added, std::vector<int32_t>* ids) const;

  // Appends what token `id` (in range) decodes to. *at_text_start carries the SentencePiece
  // prefix-space state from token to token.
  void AppendPiece(int32_t id, const DecodeOptions& options, bool* at_text_start,
                   std::string* out) const;
};

}  // namespace r1
