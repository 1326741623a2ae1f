// gguf_vocab.h — reading a tokenizer from GGUF metadata (tokenizer.ggml.*).
#pragma once

#include <memory>

#include "gguf/gguf_reader.h"
#include "r1/status.h"
#include "r1/tokenizer.h"

namespace r1 {

// The tokenizer.* keys of `file` as a VocabSpec. Errors name the file and the key.
StatusOr<VocabSpec> ReadVocabSpec(const GgufFile& file);

// ReadVocabSpec + Tokenizer::Create.
StatusOr<std::unique_ptr<Tokenizer>> TokenizerFromGguf(const GgufFile& file);

}  // namespace r1
