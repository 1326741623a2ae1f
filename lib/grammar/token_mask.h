// token_mask.h — the vocabulary as bytes, and which tokens a grammar state allows next.
//
// TokenVocabulary holds each token's output bytes and a byte trie over them, built once per
// tokenizer. TokenMasker walks the trie depth-first from an automaton state, following each
// edge's byte transition and skipping a whole subtree as soon as the grammar refuses its
// prefix; every token whose node is reached is allowed. Results are cached per state, since
// states repeat constantly (every character inside a JSON string leads back to the same one).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "grammar/grammar_automaton.h"
#include "r1/status.h"
#include "r1/tokenizer.h"

namespace r1::grammar {

class TokenVocabulary {
 public:
  enum class Kind : uint8_t {
    kText,             // allowed when the grammar can take its bytes
    kEndOfGeneration,  // allowed when the text so far is a complete match
    kNever,            // control, unknown, unused and empty tokens
  };
  struct Node {  // a trie node: its outgoing edges and the tokens whose bytes end here
    uint32_t edge_begin, edge_end;
    uint32_t token_begin, token_end;
    uint32_t subtree_token_end;  // node_tokens[token_begin, subtree_token_end): its whole subtree
  };

  static std::shared_ptr<const TokenVocabulary> FromPieces(std::vector<std::string> pieces,
                                                           std::vector<Kind> kinds);

  int32_t size() const { return static_cast<int32_t>(pieces_.size()); }
  std::string_view bytes(int32_t id) const { return pieces_[id]; }
  Kind kind(int32_t id) const { return kinds_[id]; }
  const std::vector<int32_t>& end_of_generation() const { return eog_; }

  const std::vector<Node>& nodes() const { return nodes_; }  // nodes()[0] is the root
  const std::vector<uint8_t>& edge_bytes() const { return edge_bytes_; }
  const std::vector<uint32_t>& edge_targets() const { return edge_targets_; }
  const std::vector<int32_t>& node_tokens() const { return node_tokens_; }
  // The bytes on the edges below each node (256 bits per node).
  const uint64_t* subtree_bytes(uint32_t node) const { return &subtree_bytes_[node * 4]; }
  // Every path below the node, read from a character boundary, is valid UTF-8 (possibly
  // ending inside a character).
  bool subtree_valid_utf8(uint32_t node) const { return subtree_utf8_[node] & 1; }

 private:
  void BuildTrie();
  uint32_t BuildNode(const std::vector<int32_t>& sorted, size_t lo, size_t hi, size_t depth);

  std::vector<std::string> pieces_;
  std::vector<Kind> kinds_;
  std::vector<int32_t> eog_;
  std::vector<Node> nodes_;
  std::vector<uint8_t> edge_bytes_;
  std::vector<uint32_t> edge_targets_;
  std::vector<int32_t> node_tokens_;
  std::vector<uint64_t> subtree_bytes_;
  std::vector<uint8_t> subtree_utf8_;  // bit u: every path below is valid from UTF-8 state u
};

StatusOr<std::shared_ptr<const TokenVocabulary>> BuildTokenVocabulary(const Tokenizer& tokenizer);

// A set of token ids as a bitset.
struct AllowedTokens {
  std::vector<uint64_t> bits;
  int64_t count = 0;
  bool Contains(int32_t id) const { return (bits[id >> 6] >> (id & 63)) & 1; }
  void Add(int32_t id) {
    uint64_t& w = bits[id >> 6];
    const uint64_t bit = uint64_t{1} << (id & 63);
    count += (w & bit) == 0;
    w |= bit;
  }
};

class TokenMasker {
 public:
  explicit TokenMasker(std::shared_ptr<const TokenVocabulary> vocab, size_t max_cached = 128);

  // The tokens allowed in `*state` (end-of-generation ones when it is complete). May compact
  // the automaton, renumbering `*state`. The reference is valid until the next call.
  const AllowedTokens& Allowed(GrammarAutomaton& automaton, int32_t* state, bool use_cache = true);

  const TokenVocabulary& vocab() const { return *vocab_; }
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }

 private:
  void Walk(GrammarAutomaton& automaton, int32_t* state, AllowedTokens* out);

  struct Frame {
    uint32_t edge, edge_end;
    int32_t state;
    const int32_t* row;  // the state's transitions
  };
  std::shared_ptr<const TokenVocabulary> vocab_;
  size_t max_cached_;
  absl::flat_hash_map<int32_t, std::unique_ptr<AllowedTokens>> cache_;
  uint64_t cache_generation_ = 0;
  AllowedTokens scratch_;
  std::vector<Frame> frames_;
  uint64_t hits_ = 0, misses_ = 0;
};

}  // namespace r1::grammar
