// grammar_constraint.h — a GBNF grammar applied to sampling as a mask over token ids.
//
//   R1_ASSIGN_OR_RETURN(auto vocab, BuildTokenVocabulary(tokenizer));      // once per tokenizer
//   R1_ASSIGN_OR_RETURN(auto constraint, GrammarConstraint::Create(gbnf, vocab));
//   loop: constraint->Mask(logits); id = sample(logits); constraint->Accept(id);
//
// Thread-compatible: one thread at a time per constraint; a TokenVocabulary may be shared.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "absl/types/span.h"
#include "grammar/gbnf_rules.h"
#include "grammar/grammar_automaton.h"
#include "grammar/token_mask.h"
#include "r1/status.h"
#include "r1/tokenizer.h"

namespace r1::grammar {

// Checks a GBNF text; the error message says "line L, column C: what is wrong".
Status CheckGbnf(std::string_view gbnf);

class GrammarConstraint {
 public:
  // Parses `gbnf` (start rule "root"); InvalidArgument with line/column on a bad grammar.
  static StatusOr<std::unique_ptr<GrammarConstraint>> Create(
      std::string_view gbnf, std::shared_ptr<const TokenVocabulary> vocab);

  // Sets the logit of every token the grammar does not allow next to -infinity and returns
  // how many stay allowed (0 = dead end). Allowed: non-control tokens whose bytes the grammar
  // can take next (possibly ending inside a character it could still complete), and
  // end-of-generation tokens when the text so far is a complete match. Logits past the
  // vocabulary are masked too.
  int64_t Mask(absl::Span<float> logits);
  // Advances by a token; InvalidArgument (state unchanged) when the grammar does not allow it.
  // End-of-generation tokens are accepted when complete() and change nothing.
  Status Accept(int32_t token);
  bool complete() const;  // the text so far is a whole match of root
  bool finished() const;  // complete, and no further byte can follow

  // For tests and benchmarks.
  const AllowedTokens& Allowed(bool use_cache = true);
  const TokenMasker& masker() const { return masker_; }
  GrammarMatcher matcher() const { return automaton_.matcher(state_); }

 private:
  GrammarConstraint(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const TokenVocabulary> vocab);

  std::shared_ptr<const Grammar> grammar_;
  std::shared_ptr<const TokenVocabulary> vocab_;
  GrammarAutomaton automaton_;
  TokenMasker masker_;
  int32_t state_;
};

}  // namespace r1::grammar
