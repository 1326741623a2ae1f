// grammar_constraint.cc — the facade over parser, automaton and token masker.
#include "grammar/grammar_constraint.h"

#include <limits>
#include <utility>

#include "absl/strings/str_format.h"
#include "grammar/gbnf_parser.h"

namespace r1::grammar {

Status CheckGbnf(std::string_view gbnf) { return ParseGbnf(gbnf).status(); }

GrammarConstraint::GrammarConstraint(std::shared_ptr<const Grammar> grammar,
                                     std::shared_ptr<const TokenVocabulary> vocab)
    : grammar_(grammar),
      vocab_(vocab),
      automaton_(GrammarMatcher(std::move(grammar))),
      masker_(std::move(vocab)),
      state_(automaton_.start()) {}

StatusOr<std::unique_ptr<GrammarConstraint>> GrammarConstraint::Create(
    std::string_view gbnf, std::shared_ptr<const TokenVocabulary> vocab) {
  if (vocab == nullptr) return absl::InvalidArgumentError("no token vocabulary");
  R1_ASSIGN_OR_RETURN(std::shared_ptr<const Grammar> grammar, ParseGbnf(gbnf));
  return std::unique_ptr<GrammarConstraint>(new GrammarConstraint(std::move(grammar), std::move(vocab)));
}

const AllowedTokens& GrammarConstraint::Allowed(bool use_cache) {
  return masker_.Allowed(automaton_, &state_, use_cache);
}

int64_t GrammarConstraint::Mask(absl::Span<float> logits) {
  const AllowedTokens& allowed = Allowed();
  const size_t n = std::min(logits.size(), static_cast<size_t>(vocab_->size()));
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  int64_t kept = 0;
  for (size_t w = 0; w * 64 < n; ++w) {
    const uint64_t bits = allowed.bits[w];
    const size_t end = std::min(n, w * 64 + 64);
    if (bits == ~uint64_t{0} && end == w * 64 + 64) {
      kept += 64;
      continue;
    }
    for (size_t i = w * 64; i < end; ++i) {
      if ((bits >> (i & 63)) & 1) ++kept; else logits[i] = kNegInf;
    }
  }
  for (size_t i = n; i < logits.size(); ++i) logits[i] = kNegInf;
  return kept;
}

Status GrammarConstraint::Accept(int32_t token) {
  if (token < 0 || token >= vocab_->size()) {
    return absl::InvalidArgumentError(absl::StrFormat("token %d is outside the vocabulary", token));
  }
  switch (vocab_->kind(token)) {
    case TokenVocabulary::Kind::kEndOfGeneration:
      if (complete()) return absl::OkStatus();
      return absl::InvalidArgumentError(absl::StrFormat(
          "end-of-generation token %d before the grammar is complete", token));
    case TokenVocabulary::Kind::kNever:
      return absl::InvalidArgumentError(
          absl::StrFormat("token %d is a control or empty token, which a grammar never allows", token));
    case TokenVocabulary::Kind::kText:
      break;
  }
  if (automaton_.over_budget()) automaton_.Compact({&state_});
  int32_t s = state_;
  for (char c : vocab_->bytes(token)) {
    s = automaton_.Next(s, static_cast<uint8_t>(c));
    if (s == GrammarAutomaton::kDead) {
      return absl::InvalidArgumentError(
          absl::StrFormat("token %d is not allowed by the grammar here", token));
    }
  }
  state_ = s;
  return absl::OkStatus();
}

bool GrammarConstraint::complete() const { return automaton_.complete(state_); }
bool GrammarConstraint::finished() const { return automaton_.finished(state_); }

}  // namespace r1::grammar
