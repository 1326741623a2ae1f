// grammar_matcher.h — where a text stands in a grammar: a set of pushdown stacks.
//
// Each stack holds positions in Grammar::elements; its top is the character class the next
// code point must match, the entries below are where to continue when the rules above finish
// (a reference that ends its alternative pushes nothing, so repetitions run in constant
// depth). An empty stack means root has been matched completely. Input arrives as bytes of
// UTF-8; an unfinished character is kept and only bytes that some stack could still complete
// into a character it accepts are taken. Ill-formed UTF-8 is refused.
//
// A GrammarMatcher is a value: copy it to try something without changing the original.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "grammar/gbnf_rules.h"

namespace r1::grammar {

class GrammarMatcher {
 public:
  // Stacks alive at once; more means an ambiguous grammar, and the input is refused.
  static constexpr size_t kMaxStacks = 4096;
  // Positions in all stacks together; deep non-tail recursion times ambiguity is refused
  // beyond it, so one state never holds more than a few hundred KiB.
  static constexpr size_t kMaxEntries = size_t{1} << 16;

  // At the start of the grammar's root rule.
  explicit GrammarMatcher(std::shared_ptr<const Grammar> grammar);

  // Each returns false and leaves the state unchanged when the grammar cannot take the input.
  bool AcceptByte(uint8_t byte);
  bool AcceptBytes(std::string_view bytes);  // all or nothing
  bool AcceptCodePoint(uint32_t cp);

  // The text so far is a whole match of root (and does not end inside a character).
  bool complete() const;
  // Complete, and nothing may follow.
  bool finished() const;
  // No continuation at all (only after a refused start, e.g. an over-ambiguous grammar).
  bool dead() const { return stacks_.empty(); }
  bool inside_character() const { return utf8_remaining_ != 0; }
  // Positions held, over all stacks (for memory accounting).
  size_t num_entries() const { return entries_; }

  // Appends an encoding of the state: equal encodings mean the same set of futures.
  void AppendKey(std::string* key) const;

  // Every stack takes either all non-ASCII characters or none, so all of them lead to the
  // same state.
  bool UniformAboveAscii() const;

  // The bytes of an unfinished character at the end of the text (empty if none), and the
  // state before them.
  std::string PendingBytes() const;
  GrammarMatcher WithoutPendingCharacter() const;

  // For the automaton, which handles unfinished characters itself (on a matcher that is not
  // inside one):
  // Whether some stack could take a character in [lo, hi].
  bool CanTakeSomeOf(uint32_t lo, uint32_t hi) const;
  // Whether an unfinished UTF-8 sequence (see Utf8PossibleRange) can still become a character
  // some stack takes; surrogates are never characters.
  bool PartialCharacterViable(uint32_t value, int remaining, int length) const;
  // Appends which stacks take `cp`, one bit each; AcceptCodePoint's result depends on nothing
  // else, so characters with equal signatures lead to the same state. False when none does.
  bool AppendSignature(uint32_t cp, std::string* signature) const;
  // The code points an unfinished UTF-8 sequence (`value` so far, `remaining` continuation
  // bytes to come, `length` in all) can still become, clipped to valid ones; false if none.
  static bool Utf8PossibleRange(uint32_t value, int remaining, int length, uint32_t* lo, uint32_t* hi);
  // The total length of a sequence starting with `lead` (0 if it cannot start one).
  static int Utf8Length(uint8_t lead) {
    return lead < 0x80 ? 1 : (lead >> 5) == 6 ? 2 : (lead >> 4) == 14 ? 3 : (lead >> 3) == 30 ? 4 : 0;
  }

  const Grammar& grammar() const { return *grammar_; }

 private:
  using Stack = std::vector<uint32_t>;
  // Replaces positions that are rule references or ends of alternatives by what they lead
  // to, until every stack's top is a character class (or the stack is empty). False when
  // over the work budget.
  bool Expand(Stack stack, std::vector<Stack>* out) const;
  bool Canonicalize(std::vector<Stack>* stacks, size_t* entries) const;

  std::shared_ptr<const Grammar> grammar_;
  std::vector<Stack> stacks_;  // sorted, distinct
  size_t entries_ = 0;         // sum of the stacks' sizes
  uint32_t utf8_value_ = 0;    // bits of the unfinished character so far
  uint8_t utf8_remaining_ = 0;  // continuation bytes still expected
  uint8_t utf8_length_ = 0;     // total bytes of the unfinished character
};

}  // namespace r1::grammar
