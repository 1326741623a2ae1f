// grammar_automaton.h — matcher states interned as ids, with byte transitions memoized.
//
// Advancing a GrammarMatcher allocates; the token mask advances states once per trie edge,
// hundreds of thousands of times per token. Interning each distinct state and remembering
// state x byte -> state turns almost all of that into array lookups: a lazily built DFA over
// the bytes the grammar has actually seen. Two things keep the number of expensive matcher
// steps small:
//   - an unfinished UTF-8 character is a light state (the state before it, plus the bits so
//     far) checked against the character classes without copying any stacks;
//   - a finished character leads to a state that depends only on which stacks take it (its
//     signature), so e.g. every CJK character inside a JSON string costs one matcher step.
//
// The number of states is bounded; when over budget the owner calls Compact, which keeps only
// the states still in use and renumbers them (generation() changes, so caches keyed by id
// know to drop their entries).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/types/span.h"
#include "grammar/grammar_matcher.h"

namespace r1::grammar {

class GrammarAutomaton {
 public:
  static constexpr int32_t kDead = -1;
  static constexpr int32_t kUnknown = -2;

  // Over budget at `max_states` states or about `max_bytes` of memory, whichever comes first.
  explicit GrammarAutomaton(const GrammarMatcher& start, size_t max_states = 1 << 15,
                            size_t max_bytes = size_t{64} << 20);

  int32_t start() const { return start_; }
  // The state after `byte`, or kDead.
  int32_t Next(int32_t state, uint8_t byte) {
    const int32_t known = Row(state)[byte];
    return known != kUnknown ? known : Compute(state, byte);
  }
  // The memoized transitions of a state (kUnknown where not computed yet); stable until Compact.
  const int32_t* Row(int32_t state) {
    State& s = *states_[state];
    if (s.next == nullptr) s.next = NewTransitionRow(), bytes_ += 256 * sizeof(int32_t);
    return s.next.get();
  }
  // Bytes known to lead from the state back to itself (256 bits).
  const uint64_t* SelfLoops(int32_t state) const { return states_[state]->self_loops; }

  // Every valid non-ASCII character leads from this (whole-character) state back to itself.
  bool NonAsciiLoops(int32_t state) {
    State& s = *states_[state];
    if (s.non_ascii_loops < 0) s.non_ascii_loops = ComputeNonAsciiLoops(state);
    return s.non_ascii_loops > 0;
  }

  bool complete(int32_t state) const { return states_[state]->complete; }
  bool finished(int32_t state) const { return states_[state]->finished; }
  // The matcher of a state (rebuilt for one inside a character; for merged ones, a matcher
  // with the same futures).
  GrammarMatcher matcher(int32_t state) const;

  size_t num_states() const { return states_.size(); }
  bool over_budget() const { return states_.size() >= max_states_ || bytes_ >= max_bytes_; }
  uint64_t generation() const { return generation_; }
  // Forgets every state but the ones `keep` points at, which are renumbered in place.
  void Compact(absl::Span<int32_t* const> keep);

  int32_t Compute(int32_t state, uint8_t byte);

 private:
  struct State {
    std::unique_ptr<GrammarMatcher> matcher;  // whole-character states only
    int32_t base = -1;                        // inside a character: the state before it
    uint32_t utf8_value = 0;
    uint8_t utf8_remaining = 0, utf8_length = 0;
    bool complete = false, finished = false;
    int8_t non_ascii_loops = -1;  // unknown
    int8_t uniform = -1;          // matcher->UniformAboveAscii(), once known
    uint64_t self_loops[4] = {0, 0, 0, 0};
    std::unique_ptr<int32_t[]> next;  // 256 entries once the state has been left once
    absl::flat_hash_map<std::string, int32_t> by_signature;  // finished character -> state
  };
  static std::unique_ptr<int32_t[]> NewTransitionRow();
  int32_t InternWhole(const GrammarMatcher& m);
  int32_t InternPartial(int32_t base, uint32_t value, int remaining, int length);
  int32_t AdvanceByCodePoint(int32_t base, uint32_t cp);
  bool ComputeNonAsciiLoops(int32_t state);
  bool Uniform(int32_t state) {
    State& s = *states_[state];
    if (s.uniform < 0) s.uniform = s.matcher->UniformAboveAscii() ? 1 : 0;
    return s.uniform > 0;
  }
  int32_t Remap(int32_t id, const std::vector<std::unique_ptr<State>>& old,
                absl::flat_hash_map<int32_t, int32_t>* renumbered);

  std::vector<std::unique_ptr<State>> states_;
  absl::flat_hash_map<std::string, int32_t> ids_;
  std::string key_;  // scratch
  int32_t start_ = 0;
  size_t max_states_;
  size_t max_bytes_;
  size_t bytes_ = 0;  // approximate memory held by the states
  uint64_t generation_ = 0;
};

}  // namespace r1::grammar
