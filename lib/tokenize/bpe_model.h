// bpe_model.h — byte-level BPE merging of one pre-tokenized word.
//
// The word starts as one symbol per byte. Adjacent pairs that have a merge rule sit in a
// priority queue keyed by (rank, position); the best pair is merged, its neighbours' pairs are
// queued, and stale entries are skipped when popped. That is O(n log n) per word instead of
// rescanning all pairs after every merge, and it picks the same merges in the same order as
// the reference (lowest rank first, leftmost first among equal ranks).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "r1/status.h"
#include "tokenize/word_cache.h"

namespace r1::internal {

class BpeModel {
 public:
  struct Token {
    std::string bytes;  // what the token stands for
    bool normal;        // an ordinary vocabulary entry (may come out of BPE unasked)
  };

  // `tokens[id]` for every id (entries with empty bytes are not BPE tokens); merges as
  // (left bytes, right bytes) in priority order. A byte value without a token encodes as
  // `unk_id`, or not at all when that is -1.
  static StatusOr<std::unique_ptr<BpeModel>> Create(
      const std::vector<Token>& tokens,
      const std::vector<std::pair<std::string, std::string>>& merges, bool ignore_merges,
      int32_t unk_id);

  // Appends the ids of `word` (raw bytes, non-empty) to *ids.
  void EncodeWord(std::string_view word, std::vector<int32_t>* ids) const;

  size_t n_merges() const { return merges_.size(); }

 private:
  struct MergeRule {
    int32_t rank;
    int32_t result;
  };
  BpeModel() = default;
  static uint64_t PairKey(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
  }
  void MergeWord(std::string_view word, std::vector<int32_t>* ids) const;

  std::array<int32_t, 256> byte_token_{};
  absl::flat_hash_map<std::string, int32_t> normal_ids_;  // for ignore_merges
  absl::flat_hash_map<uint64_t, MergeRule> merges_;
  bool ignore_merges_ = false;
  WordCache cache_;
};

}  // namespace r1::internal
