// pre_tokenizer.h — how a byte-level BPE vocabulary cuts text into words before merging,
// selected by the GGUF's tokenizer.ggml.pre name.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "r1/status.h"
#include "tokenize/regex_split.h"

namespace r1::internal {

// What the original (Hugging Face) tokenizer does before BPE, for one pre-tokenizer name.
struct PreTokenizerSpec {
  // Applied one after another: each regex splits every piece the previous one produced.
  std::vector<std::string> regexes;
  bool nfc = false;            // NFC-normalize the text first (Qwen2)
  bool ignore_merges = false;  // a word that is itself a vocabulary entry skips BPE (Llama 3)
};

// The spec for a tokenizer.ggml.pre name; NotFound for names this library does not know.
// An empty name means "default".
StatusOr<PreTokenizerSpec> PreTokenizerSpecFor(std::string_view name);

class PreTokenizer {
 public:
  static StatusOr<std::unique_ptr<PreTokenizer>> Create(const PreTokenizerSpec& spec);

  bool nfc() const { return spec_.nfc; }
  bool ignore_merges() const { return spec_.ignore_merges; }

  // Appends the words of `text` (views into it, covering it in order) to *words. `scratch`
  // is reused between calls to avoid allocation.
  Status Split(std::string_view text, std::vector<std::string_view>* words,
               std::vector<std::string_view>* scratch) const;

 private:
  PreTokenizer() = default;
  PreTokenizerSpec spec_;
  std::vector<std::unique_ptr<RegexSplit>> splits_;
};

}  // namespace r1::internal
