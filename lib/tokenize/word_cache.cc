#include "tokenize/word_cache.h"

#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"

namespace r1::internal {

WordCache::Shard& WordCache::ShardFor(std::string_view word) const {
  const size_t h = absl::HashOf(absl::string_view(word.data(), word.size()));
  return shards_[(h >> 7) % kShards];
}

bool WordCache::Lookup(std::string_view word, std::vector<int32_t>* ids) const {
  if (word.size() > kMaxWordBytes) return false;
  Shard& shard = ShardFor(word);
  std::lock_guard<std::mutex> lock(shard.mu);
  auto it = shard.map.find(absl::string_view(word.data(), word.size()));
  if (it == shard.map.end()) return false;
  ids->insert(ids->end(), it->second.begin(), it->second.end());
  return true;
}

void WordCache::Insert(std::string_view word, const int32_t* ids, size_t n_ids) const {
  if (word.size() > kMaxWordBytes) return;
  Shard& shard = ShardFor(word);
  std::lock_guard<std::mutex> lock(shard.mu);
  if (shard.map.size() >= max_entries_per_shard_) shard.map.clear();
  shard.map.try_emplace(std::string(word), ids, ids + n_ids);
}

}  // namespace r1::internal
