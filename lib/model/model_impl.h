// model_impl.h — what a loaded Model holds.
#pragma once

#include <memory>
#include <string>

#include "gguf/gguf_reader.h"
#include "gguf/gguf_split.h"
#include "model/weights.h"
#include "runtime/mapped_file.h"
#include "r1/model.h"
#include "r1/tokenizer.h"

namespace r1 {

class LayerFamily;

struct Model::Impl {
  std::string path;
  GgufModelFiles files;              // the mapped file, or every shard of a split model
  const GgufFile* gguf = nullptr;    // files.model(): the metadata and every shard's tensors
  ModelConfig config;
  const LayerFamily* family = nullptr;  // the architecture's layer, chosen once at load
  std::unique_ptr<ModelWeights> weights;
  std::unique_ptr<Tokenizer> tokenizer;  // null when the file has no tokenizer metadata
  int default_threads = 1;
  uint64_t fingerprint = 0;  // hash of the file's size, metadata and tensor table (state files)
};

}  // namespace r1
