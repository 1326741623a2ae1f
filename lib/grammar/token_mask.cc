// token_mask.cc — the vocabulary trie and the cached walk that computes allowed tokens.
#include "grammar/token_mask.h"

#include <algorithm>
#include <numeric>
#include <utility>

namespace r1::grammar {
namespace {

// A UTF-8 validating automaton: 0 at a character boundary, 1..7 inside one, -1 invalid.
//   1: one continuation byte left   2: two left   3: after E0 (A0..BF, then 1)
//   4: after ED (80..9F, then 1)    5: after F0 (90..BF, then 2)   6: three left
//   7: after F4 (80..8F, then 2)
int Utf8Step(int state, uint8_t b) {
  const bool cont = (b & 0xC0) == 0x80;
  switch (state) {
    case 0:
      if (b < 0x80) return 0;
      if (b >= 0xC2 && b <= 0xDF) return 1;
      if (b == 0xE0) return 3;
      if (b == 0xED) return 4;
      if (b >= 0xE1 && b <= 0xEF) return 2;
      if (b == 0xF0) return 5;
      if (b >= 0xF1 && b <= 0xF3) return 6;
      if (b == 0xF4) return 7;
      return -1;
    case 1: return cont ? 0 : -1;
    case 2: return cont ? 1 : -1;
    case 3: return b >= 0xA0 && b <= 0xBF ? 1 : -1;
    case 4: return b >= 0x80 && b <= 0x9F ? 1 : -1;
    case 5: return b >= 0x90 && b <= 0xBF ? 2 : -1;
    case 6: return cont ? 2 : -1;
    case 7: return b >= 0x80 && b <= 0x8F ? 2 : -1;
  }
  return -1;
}

}  // namespace

std::shared_ptr<const TokenVocabulary> TokenVocabulary::FromPieces(std::vector<std::string> pieces,
                                                                   std::vector<Kind> kinds) {
  auto vocab = std::shared_ptr<TokenVocabulary>(new TokenVocabulary());
  kinds.resize(pieces.size(), Kind::kText);
  for (size_t id = 0; id < pieces.size(); ++id) {
    if (kinds[id] == Kind::kText && pieces[id].empty()) kinds[id] = Kind::kNever;
    if (kinds[id] == Kind::kEndOfGeneration) vocab->eog_.push_back(static_cast<int32_t>(id));
  }
  vocab->pieces_ = std::move(pieces);
  vocab->kinds_ = std::move(kinds);
  vocab->BuildTrie();
  return vocab;
}

void TokenVocabulary::BuildTrie() {
  std::vector<int32_t> sorted;
  for (int32_t id = 0; id < size(); ++id) {
    if (kinds_[id] == Kind::kText) sorted.push_back(id);
  }
  std::sort(sorted.begin(), sorted.end(), [this](int32_t a, int32_t b) {
    return pieces_[a] != pieces_[b] ? pieces_[a] < pieces_[b] : a < b;
  });
  BuildNode(sorted, 0, sorted.size(), 0);
  // Children come after their parent in preorder, so one backward pass fills the subtree sets.
  subtree_bytes_.assign(nodes_.size() * 4, 0);
  subtree_utf8_.assign(nodes_.size(), 0xFF);
  for (size_t n = nodes_.size(); n-- > 0;) {
    for (int u = 0; u < 8; ++u) {
      bool valid = true;
      for (uint32_t e = nodes_[n].edge_begin; e < nodes_[n].edge_end && valid; ++e) {
        const int next = Utf8Step(u, edge_bytes_[e]);
        valid = next >= 0 && ((subtree_utf8_[edge_targets_[e]] >> next) & 1);
      }
      if (!valid) subtree_utf8_[n] &= static_cast<uint8_t>(~(1u << u));
    }
    uint64_t* mask = &subtree_bytes_[n * 4];
    for (uint32_t e = nodes_[n].edge_begin; e < nodes_[n].edge_end; ++e) {
      const uint8_t b = edge_bytes_[e];
      mask[b >> 6] |= uint64_t{1} << (b & 63);
      const uint64_t* below = &subtree_bytes_[edge_targets_[e] * 4];
      for (int w = 0; w < 4; ++w) mask[w] |= below[w];
    }
  }
}

// Nodes in preorder, each node's edges contiguous. `sorted[lo, hi)` share their first `depth`
// bytes; the ones exactly `depth` long sort first and end at this node.
uint32_t TokenVocabulary::BuildNode(const std::vector<int32_t>& sorted, size_t lo, size_t hi,
                                    size_t depth) {
  const uint32_t id = static_cast<uint32_t>(nodes_.size());
  nodes_.push_back({});
  size_t t = lo;
  const uint32_t token_begin = static_cast<uint32_t>(node_tokens_.size());
  while (t < hi && pieces_[sorted[t]].size() == depth) node_tokens_.push_back(sorted[t++]);
  struct Group {
    uint8_t byte;
    size_t lo, hi;
  };
  std::vector<Group> groups;
  for (size_t i = t; i < hi;) {
    const uint8_t b = static_cast<uint8_t>(pieces_[sorted[i]][depth]);
    size_t j = i + 1;
    while (j < hi && static_cast<uint8_t>(pieces_[sorted[j]][depth]) == b) ++j;
    groups.push_back({b, i, j});
    i = j;
  }
  const uint32_t edge_begin = static_cast<uint32_t>(edge_bytes_.size());
  edge_bytes_.resize(edge_begin + groups.size());
  edge_targets_.resize(edge_begin + groups.size());
  nodes_[id] = {edge_begin, static_cast<uint32_t>(edge_begin + groups.size()), token_begin,
                static_cast<uint32_t>(node_tokens_.size()), 0};
  for (size_t g = 0; g < groups.size(); ++g) {
    edge_bytes_[edge_begin + g] = groups[g].byte;
    edge_targets_[edge_begin + g] = BuildNode(sorted, groups[g].lo, groups[g].hi, depth + 1);
  }
  nodes_[id].subtree_token_end = static_cast<uint32_t>(node_tokens_.size());
  return id;
}

StatusOr<std::shared_ptr<const TokenVocabulary>> BuildTokenVocabulary(const Tokenizer& tokenizer) {
  const int32_t n = tokenizer.n_vocab();
  std::vector<std::string> pieces(n);
  std::vector<TokenVocabulary::Kind> kinds(n, TokenVocabulary::Kind::kText);
  for (int32_t id = 0; id < n; ++id) {
    R1_ASSIGN_OR_RETURN(std::string_view piece, tokenizer.TokenPiece(id));
    R1_ASSIGN_OR_RETURN(TokenType type, tokenizer.GetTokenType(id));
    if (tokenizer.IsEndOfGeneration(id)) {
      kinds[id] = TokenVocabulary::Kind::kEndOfGeneration;
    } else if (type == TokenType::kControl || type == TokenType::kUnknown ||
               type == TokenType::kUnused) {
      kinds[id] = TokenVocabulary::Kind::kNever;
    } else {
      pieces[id] = std::string(piece);  // byte-level BPE and <0xXX> already resolved to bytes
    }
  }
  return TokenVocabulary::FromPieces(std::move(pieces), std::move(kinds));
}

TokenMasker::TokenMasker(std::shared_ptr<const TokenVocabulary> vocab, size_t max_cached)
    : vocab_(std::move(vocab)), max_cached_(std::max<size_t>(max_cached, 1)) {}

const AllowedTokens& TokenMasker::Allowed(GrammarAutomaton& automaton, int32_t* state,
                                          bool use_cache) {
  if (automaton.over_budget()) automaton.Compact({state});
  if (cache_generation_ != automaton.generation()) {
    cache_.clear();
    cache_generation_ = automaton.generation();
  }
  if (use_cache) {
    auto it = cache_.find(*state);
    if (it != cache_.end()) {
      ++hits_;
      return *it->second;
    }
  }
  ++misses_;
  Walk(automaton, state, &scratch_);
  if (automaton.complete(*state)) {
    for (int32_t id : vocab_->end_of_generation()) scratch_.Add(id);
  }
  if (!use_cache) return scratch_;
  if (cache_generation_ != automaton.generation()) {  // compacted during the walk
    cache_.clear();
    cache_generation_ = automaton.generation();
  }
  if (cache_.size() >= max_cached_) cache_.clear();  // simple bound; hot states come back fast
  auto& slot = cache_[*state];
  slot = std::make_unique<AllowedTokens>(scratch_);
  return *slot;
}

// Depth-first over the trie. A subtree is skipped as soon as its prefix is refused, and taken
// whole without walking when everything in it leads the state back to itself: each ASCII byte
// is a known self-loop, and any other bytes form valid UTF-8 that the state takes whole
// (inside a JSON string, most of the vocabulary).
void TokenMasker::Walk(GrammarAutomaton& automaton, int32_t* state, AllowedTokens* out) {
  const TokenVocabulary& v = *vocab_;
  const TokenVocabulary::Node* nodes = v.nodes().data();
  const uint8_t* edge_bytes = v.edge_bytes().data();
  const uint32_t* edge_targets = v.edge_targets().data();
  const int32_t* node_tokens = v.node_tokens().data();
  out->bits.assign((static_cast<size_t>(v.size()) + 63) / 64, 0);
  out->count = 0;
  // Learn every ASCII transition of the starting state first, so that its self-loops are known
  // before the subtrees that could use them are reached.
  for (int b = 0; b < 128; ++b) {
    if (automaton.Row(*state)[b] == GrammarAutomaton::kUnknown) automaton.Compute(*state, static_cast<uint8_t>(b));
  }
  if (automaton.over_budget()) automaton.Compact({state});
  frames_.clear();
  frames_.push_back({nodes[0].edge_begin, nodes[0].edge_end, *state, automaton.Row(*state)});
  std::vector<int32_t*> keep;
  while (!frames_.empty()) {
    Frame& f = frames_.back();
    if (f.edge == f.edge_end) {
      frames_.pop_back();
      continue;
    }
    const uint32_t e = f.edge++;
    int32_t next = f.row[edge_bytes[e]];
    if (next == GrammarAutomaton::kUnknown) {
      next = automaton.Compute(f.state, edge_bytes[e]);
      if (automaton.over_budget()) {  // keep what the walk still needs, renumbered
        keep.clear();
        keep.push_back(state);
        for (Frame& g : frames_) keep.push_back(&g.state);
        automaton.Compact(keep);
        for (Frame& g : frames_) g.row = automaton.Row(g.state);
        next = automaton.Next(frames_.back().state, edge_bytes[e]);
      }
    }
    if (next == GrammarAutomaton::kDead) continue;
    const uint32_t c = edge_targets[e];
    const TokenVocabulary::Node& child = nodes[c];
    for (uint32_t t = child.token_begin; t < child.token_end; ++t) out->Add(node_tokens[t]);
    if (child.edge_begin == child.edge_end) continue;
    const uint64_t* below = v.subtree_bytes(c);
    const uint64_t* loops = automaton.SelfLoops(next);
    const bool ascii_loops = (below[0] & ~loops[0]) == 0 && (below[1] & ~loops[1]) == 0;
    if (ascii_loops && (((below[2] & ~loops[2]) == 0 && (below[3] & ~loops[3]) == 0) ||
                        (v.subtree_valid_utf8(c) && automaton.NonAsciiLoops(next)))) {
      for (uint32_t t = child.token_end; t < child.subtree_token_end; ++t) out->Add(node_tokens[t]);
      continue;
    }
    frames_.push_back({child.edge_begin, child.edge_end, next, automaton.Row(next)});
  }
}

}  // namespace r1::grammar
