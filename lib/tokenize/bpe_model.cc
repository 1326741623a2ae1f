#include "tokenize/bpe_model.h"

#include <algorithm>
#include <queue>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace r1::internal {

StatusOr<std::unique_ptr<BpeModel>> BpeModel::Create(
    const std::vector<Token>& tokens,
    const std::vector<std::pair<std::string, std::string>>& merges, bool ignore_merges,
    int32_t unk_id) {
  std::unique_ptr<BpeModel> model(new BpeModel());
  model->ignore_merges_ = ignore_merges;

  // bytes -> id. Ordinary entries win over added tokens with the same bytes, so only a merge
  // with no ordinary result can produce an added token (DeepSeek-V3 has a few in both sets).
  absl::flat_hash_map<std::string, int32_t> any_ids;
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t id = 0; id < tokens.size(); ++id) {
      const Token& t = tokens[id];
      if (t.bytes.empty() || t.normal != (pass == 0)) continue;
      any_ids.try_emplace(t.bytes, static_cast<int32_t>(id));
      if (pass == 0) model->normal_ids_.try_emplace(t.bytes, static_cast<int32_t>(id));
    }
  }
  for (int b = 0; b < 256; ++b) {
    const char byte = static_cast<char>(b);
    auto it = any_ids.find(absl::string_view(&byte, 1));
    // Some vocabularies lack bytes that never occur in UTF-8 (0xC0, 0xF5, ...): such a byte
    // becomes the unknown token, or is dropped when there is none, as the reference does with
    // characters it has no token for.
    model->byte_token_[b] = it == any_ids.end() ? unk_id : it->second;
  }

  model->merges_.reserve(merges.size());
  std::string joined;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right] = merges[rank];
    auto l = any_ids.find(left);
    auto r = any_ids.find(right);
    joined = left;
    joined += right;
    auto m = any_ids.find(joined);
    // A rule whose parts or result are not tokens can never fire; the reference refuses to
    // load such a vocabulary, we skip the rule.
    if (l == any_ids.end() || r == any_ids.end() || m == any_ids.end()) continue;
    // The first (highest-priority) rule for a pair wins.
    model->merges_.try_emplace(PairKey(l->second, r->second),
                               BpeModel::MergeRule{static_cast<int32_t>(rank), m->second});
  }
  return model;
}

void BpeModel::EncodeWord(std::string_view word, std::vector<int32_t>* ids) const {
  if (word.size() == 1) {
    const int32_t id = byte_token_[static_cast<uint8_t>(word[0])];
    if (id >= 0) ids->push_back(id);
    return;
  }
  if (ignore_merges_) {
    auto it = normal_ids_.find(absl::string_view(word.data(), word.size()));
    if (it != normal_ids_.end()) {
      ids->push_back(it->second);
      return;
    }
  }
  if (word.size() == 2) {
    // One possible merge: cheaper to check than a cache lookup.
    const int32_t a = byte_token_[static_cast<uint8_t>(word[0])];
    const int32_t b = byte_token_[static_cast<uint8_t>(word[1])];
    if (a >= 0 && b >= 0) {
      auto it = merges_.find(PairKey(a, b));
      if (it != merges_.end()) {
        ids->push_back(it->second.result);
      } else {
        ids->push_back(a);
        ids->push_back(b);
      }
      return;
    }
  }
  if (cache_.Lookup(word, ids)) return;
  const size_t first = ids->size();
  MergeWord(word, ids);
  cache_.Insert(word, ids->data() + first, ids->size() - first);
}

void BpeModel::MergeWord(std::string_view word, std::vector<int32_t>* ids) const {
  // Symbols form a doubly linked list over positions; a merged-away symbol has id -1.
  struct Symbol {
    int32_t id;
    int32_t prev;
    int32_t next;
  };
  struct Candidate {
    int32_t rank;
    int32_t left;    // position of the left symbol
    int32_t result;  // the token the pair becomes
    // Lowest rank first, then leftmost.
    bool operator<(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : left > o.left;
    }
  };
  std::vector<Symbol> symbols;
  symbols.reserve(word.size());
  for (char c : word) {
    const int32_t id = byte_token_[static_cast<uint8_t>(c)];
    if (id < 0) continue;  // a byte with no token: its neighbours become adjacent
    const auto i = static_cast<int32_t>(symbols.size());
    symbols.push_back({id, i - 1, i + 1});
  }
  const auto n = static_cast<int32_t>(symbols.size());
  if (n == 0) return;
  symbols.back().next = -1;
  std::vector<Candidate> storage;
  storage.reserve(n);
  std::priority_queue<Candidate> queue(std::less<Candidate>(), std::move(storage));
  auto find = [&](int32_t left) -> const MergeRule* {
    const int32_t right = symbols[left].next;
    if (right < 0) return nullptr;
    auto it = merges_.find(PairKey(symbols[left].id, symbols[right].id));
    return it == merges_.end() ? nullptr : &it->second;
  };
  auto consider = [&](int32_t left) {
    if (left < 0) return;
    if (const MergeRule* m = find(left)) queue.push({m->rank, left, m->result});
  };
  for (int32_t i = 0; i + 1 < n; ++i) consider(i);

  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& left = symbols[c.left];
    if (left.id < 0) continue;
    // A queued pair is still good when the symbols now at its place join into the same
    // token, even if they are not the pair that was queued: that is the reference's rule,
    // and it matters for vocabularies with several rules yielding one token (Llama 3).
    const MergeRule* m = find(c.left);
    if (m == nullptr || m->result != c.result) continue;
    Symbol& right = symbols[left.next];
    left.id = c.result;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = c.left;
    right.id = -1;
    consider(left.prev);
    consider(c.left);
  }
  for (int32_t i = 0; i >= 0; i = symbols[i].next) ids->push_back(symbols[i].id);
}

}  // namespace r1::internal
