#include "tokenize/spm_model.h"

#include <queue>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "tokenize/utf8.h"

namespace r1::internal {

std::unique_ptr<SpmModel> SpmModel::Create(const std::vector<Token>& tokens,
                                           const std::array<int32_t, 256>& byte_tokens,
                                           int32_t unk_id) {
  std::unique_ptr<SpmModel> model(new SpmModel());
  model->scores_.resize(tokens.size());
  for (size_t id = 0; id < tokens.size(); ++id) {
    model->scores_[id] = tokens[id].score;
    if (tokens[id].mergeable && !tokens[id].text.empty()) {
      model->ids_.try_emplace(tokens[id].text, static_cast<int32_t>(id));
    }
  }
  model->byte_tokens_ = byte_tokens;
  model->unk_id_ = unk_id;
  return model;
}

int32_t SpmModel::Find(std::string_view text) const {
  auto it = ids_.find(absl::string_view(text.data(), text.size()));
  return it == ids_.end() ? -1 : it->second;
}

Status SpmModel::Encode(std::string_view text, std::vector<int32_t>* ids) const {
  if (text.empty()) return absl::OkStatus();
  // Symbols are spans of the text in a linked list; a merged-away symbol has length 0.
  struct Symbol {
    int32_t start;
    int32_t len;
    int32_t prev;
    int32_t next;
  };
  std::vector<Symbol> symbols;
  symbols.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    const size_t start = pos;
    DecodeUtf8(text, &pos);  // ill-formed bytes become their own symbols
    const auto i = static_cast<int32_t>(symbols.size());
    symbols.push_back({static_cast<int32_t>(start), static_cast<int32_t>(pos - start), i - 1,
                       pos < text.size() ? i + 1 : -1});
  }

  struct Candidate {
    float score;
    int32_t left;
    int32_t len;  // combined length when queued; a mismatch later means it is stale
    int32_t id;
    // Highest score first, then leftmost.
    bool operator<(const Candidate& o) const {
      return score != o.score ? score < o.score : left > o.left;
    }
  };
  std::priority_queue<Candidate> queue;
  auto consider = [&](int32_t left) {
    if (left < 0) return;
    const int32_t right = symbols[left].next;
    if (right < 0) return;
    const int32_t len = symbols[left].len + symbols[right].len;
    const int32_t id = Find(text.substr(symbols[left].start, len));
    if (id >= 0) queue.push({scores_[id], left, len, id});
  };
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(symbols.size()); ++i) consider(i);

  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& left = symbols[c.left];
    if (left.len == 0 || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    // Symbols only grow, so the same combined length means the same text.
    if (left.len + right.len != c.len) continue;
    left.len = c.len;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = c.left;
    right.len = 0;
    consider(left.prev);
    consider(c.left);
  }

  for (int32_t i = 0; i >= 0; i = symbols[i].next) {
    const std::string_view piece = text.substr(symbols[i].start, symbols[i].len);
    const int32_t id = Find(piece);
    if (id >= 0) {
      ids->push_back(id);
      continue;
    }
    bool all_bytes = true;
    for (char c : piece) all_bytes = all_bytes && byte_tokens_[static_cast<uint8_t>(c)] >= 0;
    if (all_bytes) {
      for (char c : piece) ids->push_back(byte_tokens_[static_cast<uint8_t>(c)]);
    } else if (unk_id_ >= 0) {
      ids->push_back(unk_id_);  // one unknown token per character, as SentencePiece emits
    } else {
      return absl::InvalidArgumentError(absl::StrFormat(
          "cannot encode byte 0x%02X: the vocabulary has no token, byte token or unknown "
          "token for it",
          static_cast<int>(static_cast<uint8_t>(piece[0]))));
    }
  }
  return absl::OkStatus();
}

}  // namespace r1::internal
