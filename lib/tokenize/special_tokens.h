// special_tokens.h — finds added tokens (control and user-defined) in text.
//
// Matching is leftmost-longest over all enabled tokens, as Hugging Face's added-token
// splitter does: scanning left to right, the first position where any token starts wins, and
// there the longest token. A byte trie keeps each attempt proportional to the token length.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace r1::internal {

class SpecialTokenMatcher {
 public:
  // A token that may be matched; `always` tokens match even when special parsing is off.
  void Add(std::string_view text, int32_t id, bool always);

  // One piece of the split: either text (id < 0) or a matched token.
  struct Piece {
    std::string_view text;
    int32_t id;
  };
  // Splits `text` into plain stretches and matched tokens, in order. With parse_special off,
  // only the `always` tokens are looked for. No token is matched that overlaps one of
  // `literal_ranges` (byte ranges [begin, end), sorted and disjoint): text there stays plain.
  void Split(std::string_view text, bool parse_special,
             const std::vector<std::pair<size_t, size_t>>& literal_ranges, std::vector<Piece>* pieces) const;

  bool empty() const { return terminal_.size() <= 1; }

 private:
  struct Terminal {
    int32_t id = -1;
    bool always = false;
  };
  // Longest enabled token starting at text[pos]: its length, or 0.
  size_t MatchAt(std::string_view text, size_t pos, bool parse_special, int32_t* id) const;

  // Node 0 is the root; edges keyed by (node << 8) | byte.
  absl::flat_hash_map<uint64_t, int32_t> edges_;
  std::vector<Terminal> terminal_ = {Terminal{}};
  std::array<bool, 256> first_byte_{};
};

}  // namespace r1::internal
