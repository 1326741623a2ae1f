#include "tokenize/special_tokens.h"

#include <algorithm>

namespace r1::internal {

void SpecialTokenMatcher::Add(std::string_view text, int32_t id, bool always) {
  if (text.empty()) return;
  int32_t node = 0;
  for (char c : text) {
    const uint64_t key = (static_cast<uint64_t>(node) << 8) | static_cast<uint8_t>(c);
    auto [it, inserted] = edges_.try_emplace(key, static_cast<int32_t>(terminal_.size()));
    if (inserted) terminal_.emplace_back();
    node = it->second;
  }
  // The same text twice: the first id keeps it.
  if (terminal_[node].id < 0) terminal_[node] = Terminal{id, always};
  first_byte_[static_cast<uint8_t>(text[0])] = true;
}

size_t SpecialTokenMatcher::MatchAt(std::string_view text, size_t pos, bool parse_special,
                                    int32_t* id) const {
  size_t best = 0;
  int32_t node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    auto it = edges_.find((static_cast<uint64_t>(node) << 8) | static_cast<uint8_t>(text[i]));
    if (it == edges_.end()) break;
    node = it->second;
    const Terminal& t = terminal_[node];
    if (t.id >= 0 && (parse_special || t.always)) {
      best = i + 1 - pos;
      *id = t.id;
    }
  }
  return best;
}

void SpecialTokenMatcher::Split(std::string_view text, bool parse_special,
                                const std::vector<std::pair<size_t, size_t>>& literal_ranges,
                                std::vector<Piece>* pieces) const {
  size_t plain_start = 0;
  size_t pos = 0;
  size_t next_literal = 0;  // the first literal range that does not end before pos
  while (pos < text.size()) {
    while (next_literal < literal_ranges.size() && literal_ranges[next_literal].second <= pos) ++next_literal;
    size_t limit = text.size();  // a match must end before the next literal range
    if (next_literal < literal_ranges.size()) {
      const auto [begin, end] = literal_ranges[next_literal];
      if (begin <= pos) {
        pos = std::min(end, text.size());
        continue;
      }
      limit = std::min(begin, text.size());
    }
    int32_t id = -1;
    const size_t len = first_byte_[static_cast<uint8_t>(text[pos])]
                           ? MatchAt(text.substr(0, limit), pos, parse_special, &id)
                           : 0;
    if (len == 0) {
      ++pos;
      continue;
    }
    if (pos > plain_start) pieces->push_back({text.substr(plain_start, pos - plain_start), -1});
    pieces->push_back({text.substr(pos, len), id});
    pos += len;
    plain_start = pos;
  }
  if (plain_start < text.size()) pieces->push_back({text.substr(plain_start), -1});
}

}  // namespace r1::internal
