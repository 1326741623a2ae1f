// gguf_split.h — opening a model stored as one GGUF file or split into shards.
//
// Split models follow gguf-split's convention: files named PREFIX-00001-of-00003.gguf …, each
// carrying split.no (its 0-based index), split.count and split.tensors.count; the first holds
// the metadata, and the tensors are spread over all of them. A model opens by the path of any
// shard; every shard is mapped and checked, and the first shard's table gains every shard's
// tensors, so the rest of the library sees one file.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/gguf_reader.h"
#include "r1/status.h"
#include "runtime/mapped_file.h"

namespace r1 {

// The parts of a shard's file name: PREFIX-NNNNN-of-MMMMM.gguf (index 0-based, count ≥ 1).
struct SplitPathParts {
  std::string prefix;
  int index = 0;
  int count = 1;
};
// The parts of `path`, or nothing when it is not named like a shard.
std::optional<SplitPathParts> ParseSplitPath(std::string_view path);
// PREFIX-NNNNN-of-MMMMM.gguf for the 0-based `index`.
std::string SplitPath(std::string_view prefix, int index, int count);

// The most shards a model may have (gguf-split numbers them with five digits).
inline constexpr int kMaxSplitCount = 99999;

// A model's files, mapped. files[0] is the first shard (or the only file): its metadata is the
// model's and its tensor table lists the tensors of every shard.
struct GgufModelFiles {
  std::vector<std::string> paths;
  std::vector<std::unique_ptr<MappedFile>> maps;
  std::vector<std::unique_ptr<GgufFile>> files;

  const GgufFile& model() const { return *files[0]; }
  uint64_t total_bytes() const;
};

// Opens `path`. A file named like a shard, or one whose metadata says it is split, opens with
// all its shards: each must exist, agree on split.count, carry its own split.no, and together
// hold split.tensors.count tensors, each exactly once. Errors name the shard at fault.
StatusOr<GgufModelFiles> OpenGgufModelFiles(const std::string& path, bool use_mmap = true);

}  // namespace r1
