#include "tokenize/gguf_vocab.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_format.h"

namespace r1 {
namespace {

// An optional token id: absent, or the converters' "no such token" (-1, or 2^32 - 1 as an
// unsigned 32-bit value), -> nullopt. Any other id outside the vocabulary is an error: a file
// that names a control token it does not have is damaged, and guessing would end (or never
// end) generations at the wrong token.
StatusOr<std::optional<int32_t>> OptionalId(const GgufFile& file, std::string_view key, uint64_t n_vocab) {
  if (!file.Has(key)) return std::optional<int32_t>();
  R1_ASSIGN_OR_RETURN(int64_t value, file.GetInt(key));
  if (value == -1 || value == int64_t{UINT32_MAX}) return std::optional<int32_t>();
  if (value < 0 || static_cast<uint64_t>(value) >= n_vocab) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: %s is %d, outside the vocabulary of %d tokens", file.path(), key, value, n_vocab));
  }
  return std::optional<int32_t>(static_cast<int32_t>(value));
}

StatusOr<std::optional<bool>> OptionalBool(const GgufFile& file, std::string_view key) {
  if (!file.Has(key)) return std::optional<bool>();
  R1_ASSIGN_OR_RETURN(bool value, file.GetBool(key));
  return std::optional<bool>(value);
}

StatusOr<std::vector<std::string>> StringArray(const GgufFile& file, std::string_view key) {
  R1_ASSIGN_OR_RETURN(const GgufArray* array, file.GetArray(key));
  std::vector<std::string> out;
  out.reserve(array->size());
  for (uint64_t i = 0; i < array->size(); ++i) {
    R1_ASSIGN_OR_RETURN(std::string_view s, array->StringAt(i));
    out.emplace_back(s);
  }
  return out;
}

}  // namespace

StatusOr<VocabSpec> ReadVocabSpec(const GgufFile& file) {
  VocabSpec spec;
  R1_ASSIGN_OR_RETURN(std::string_view model, file.GetString("tokenizer.ggml.model"));
  spec.model = std::string(model);
  if (file.Has("tokenizer.ggml.pre")) {
    R1_ASSIGN_OR_RETURN(std::string_view pre, file.GetString("tokenizer.ggml.pre"));
    spec.pre = std::string(pre);
  }
  R1_ASSIGN_OR_RETURN(spec.tokens, StringArray(file, "tokenizer.ggml.tokens"));
  const uint64_t n = spec.tokens.size();

  if (file.Has("tokenizer.ggml.token_type")) {
    R1_ASSIGN_OR_RETURN(const GgufArray* types, file.GetArray("tokenizer.ggml.token_type"));
    if (types->size() != n) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: tokenizer.ggml.token_type has %d entries for %d tokens", file.path(),
          types->size(), n));
    }
    spec.token_types.reserve(n);
    for (uint64_t i = 0; i < n; ++i) {
      R1_ASSIGN_OR_RETURN(int64_t t, types->IntAt(i));
      spec.token_types.push_back(static_cast<int32_t>(t));
    }
  }
  if (file.Has("tokenizer.ggml.scores")) {
    R1_ASSIGN_OR_RETURN(const GgufArray* scores, file.GetArray("tokenizer.ggml.scores"));
    if (scores->size() != n) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: tokenizer.ggml.scores has %d entries for %d tokens", file.path(), scores->size(),
          n));
    }
    spec.scores.reserve(n);
    for (uint64_t i = 0; i < n; ++i) {
      R1_ASSIGN_OR_RETURN(double s, scores->FloatAt(i));
      spec.scores.push_back(static_cast<float>(s));
    }
  }
  if (file.Has("tokenizer.ggml.merges")) {
    R1_ASSIGN_OR_RETURN(spec.merges, StringArray(file, "tokenizer.ggml.merges"));
  }

  R1_ASSIGN_OR_RETURN(spec.bos_id, OptionalId(file, "tokenizer.ggml.bos_token_id", n));
  R1_ASSIGN_OR_RETURN(spec.eos_id, OptionalId(file, "tokenizer.ggml.eos_token_id", n));
  R1_ASSIGN_OR_RETURN(spec.eot_id, OptionalId(file, "tokenizer.ggml.eot_token_id", n));
  R1_ASSIGN_OR_RETURN(spec.eom_id, OptionalId(file, "tokenizer.ggml.eom_token_id", n));
  R1_ASSIGN_OR_RETURN(spec.unk_id, OptionalId(file, "tokenizer.ggml.unknown_token_id", n));
  R1_ASSIGN_OR_RETURN(spec.pad_id, OptionalId(file, "tokenizer.ggml.padding_token_id", n));
  // Ids r1 does not use, checked all the same: they are part of the vocabulary's description.
  // ("seperator" is the spelling the converters write.)
  for (std::string_view key : {"tokenizer.ggml.seperator_token_id", "tokenizer.ggml.cls_token_id",
                               "tokenizer.ggml.mask_token_id"}) {
    R1_RETURN_IF_ERROR(OptionalId(file, key, n).status());
  }
  R1_ASSIGN_OR_RETURN(spec.add_bos, OptionalBool(file, "tokenizer.ggml.add_bos_token"));
  R1_ASSIGN_OR_RETURN(spec.add_eos, OptionalBool(file, "tokenizer.ggml.add_eos_token"));
  R1_ASSIGN_OR_RETURN(spec.add_space_prefix, OptionalBool(file, "tokenizer.ggml.add_space_prefix"));
  if (file.Has("tokenizer.chat_template")) {
    R1_ASSIGN_OR_RETURN(std::string_view tmpl, file.GetString("tokenizer.chat_template"));
    spec.chat_template = std::string(tmpl);
  }
  return spec;
}

StatusOr<std::unique_ptr<Tokenizer>> TokenizerFromGguf(const GgufFile& file) {
  R1_ASSIGN_OR_RETURN(VocabSpec spec, ReadVocabSpec(file));
  StatusOr<std::unique_ptr<Tokenizer>> tokenizer = Tokenizer::Create(spec);
  if (!tokenizer.ok()) {
    return absl::Status(tokenizer.status().code(),
                        absl::StrFormat("%s: %s", file.path(), tokenizer.status().message()));
  }
  return tokenizer;
}

StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::Load(const std::string& gguf_path) {
  R1_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> file, GgufFile::Open(gguf_path));
  return TokenizerFromGguf(*file);
}

}  // namespace r1
