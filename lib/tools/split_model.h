// split_model.h — writing a model as shards (gguf-split's layout), e.g. for hosts that limit
// file sizes; r1 opens the result by the path of any shard.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "r1/status.h"

namespace r1::tools {

struct SplitOptions {
  int64_t max_tensors = 0;  // > 0: at most this many tensors per shard
  uint64_t max_bytes = 0;   // > 0: start a new shard before tensor data would pass this size
  bool overwrite = false;   // replace existing shards (never an input file)
};

// Reads `in` (one file or a split model) and writes PREFIX-00001-of-0000N.gguf …: the first
// shard carries the metadata, every shard split.no/split.count/split.tensors.count, tensors in
// file order. One of max_tensors and max_bytes must be set; a tensor larger than max_bytes gets
// a shard of its own. Returns the paths written.
StatusOr<std::vector<std::string>> SplitModel(const std::string& in, const std::string& out_prefix,
                                              const SplitOptions& options);

}  // namespace r1::tools
