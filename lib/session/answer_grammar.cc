// answer_grammar.cc — a generation's grammar from its options (GBNF, or a JSON Schema translated to GBNF).
#include "session/answer_grammar.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "grammar/json_schema_grammar.h"

namespace r1 {

StatusOr<std::unique_ptr<AnswerGrammar>> AnswerGrammar::Create(const GenerateOptions& options,
                                                               std::shared_ptr<const grammar::TokenVocabulary> vocab) {
  if (options.grammar.empty() && options.json_schema.empty()) return std::unique_ptr<AnswerGrammar>();
  if (!options.grammar.empty() && !options.json_schema.empty()) {
    return absl::InvalidArgumentError("give a grammar or a JSON schema, not both");
  }
  std::string gbnf = options.grammar;
  if (gbnf.empty()) {
    StatusOr<std::string> translated = grammar::JsonSchemaToGbnf(options.json_schema);
    if (!translated.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("JSON schema: ", translated.status().message()));
    }
    gbnf = *std::move(translated);
  }
  StatusOr<std::unique_ptr<grammar::GrammarConstraint>> constraint =
      grammar::GrammarConstraint::Create(gbnf, std::move(vocab));
  if (!constraint.ok()) return absl::InvalidArgumentError(absl::StrCat("grammar: ", constraint.status().message()));
  return std::unique_ptr<AnswerGrammar>(new AnswerGrammar(*std::move(constraint), options.grammar_from_first_token));
}

StatusOr<std::unique_ptr<AnswerGrammar>> AnswerGrammar::ForToolCall(
    std::string_view gbnf, std::vector<int32_t> opening, std::vector<int32_t> closing,
    std::shared_ptr<const grammar::TokenVocabulary> vocab) {
  StatusOr<std::unique_ptr<grammar::GrammarConstraint>> constraint = grammar::GrammarConstraint::Create(gbnf, std::move(vocab));
  if (!constraint.ok()) return absl::InvalidArgumentError(absl::StrCat("tool call: ", constraint.status().message()));
  std::unique_ptr<AnswerGrammar> g(new AnswerGrammar(*std::move(constraint), /*from_first_token=*/false));
  g->opening_ = std::move(opening);
  g->closing_ = std::move(closing);
  return g;
}

std::vector<int32_t> AnswerGrammar::TakeWrittenTokens() {
  if (!opened_) {
    opened_ = true;
    return std::move(opening_);
  }
  if (finished() && !closed_) {
    closed_ = true;
    return std::move(closing_);
  }
  return {};
}

absl::Span<const float> AnswerGrammar::Mask(absl::Span<const float> logits) {
  masked_.assign(logits.begin(), logits.end());
  int64_t allowed = constraint_->Mask(absl::MakeSpan(masked_));
  for (const int32_t id : forbidden_) {
    if (id >= 0 && static_cast<size_t>(id) < masked_.size() && masked_[id] != -std::numeric_limits<float>::infinity()) {
      masked_[id] = -std::numeric_limits<float>::infinity();
      --allowed;
    }
  }
  if (allowed == 0) return {};
  return masked_;
}

}  // namespace r1
