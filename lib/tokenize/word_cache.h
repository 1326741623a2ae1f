// word_cache.h — a bounded, thread-safe map from a pre-tokenized word to its token ids.
//
// Text repeats words constantly, and BPE on a word costs far more than a lookup. The map is
// split into shards, each behind its own mutex, so concurrent encoders rarely wait on each
// other; a shard that fills up is emptied (cheap, and recently used words come back at once).
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace r1::internal {

class WordCache {
 public:
  // Words longer than this are not cached: they are rare, and would crowd out common ones.
  static constexpr size_t kMaxWordBytes = 64;

  explicit WordCache(size_t max_entries_per_shard = 8192)
      : max_entries_per_shard_(max_entries_per_shard) {}

  // Appends the cached ids of `word` to *ids and returns true, or returns false.
  bool Lookup(std::string_view word, std::vector<int32_t>* ids) const;
  void Insert(std::string_view word, const int32_t* ids, size_t n_ids) const;

 private:
  static constexpr size_t kShards = 16;
  struct Shard {
    std::mutex mu;
    absl::flat_hash_map<std::string, std::vector<int32_t>> map;
  };
  Shard& ShardFor(std::string_view word) const;

  size_t max_entries_per_shard_;
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace r1::internal
