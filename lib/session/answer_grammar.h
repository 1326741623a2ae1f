// answer_grammar.h — the grammar of a generation's answer: which tokens it allows next, and
// when it applies (from the first token, or once the model's thought has closed).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/types/span.h"
#include "grammar/grammar_constraint.h"
#include "r1/session.h"
#include "r1/status.h"

namespace r1 {

class AnswerGrammar {
 public:
  // nullptr when the options ask for no grammar. InvalidArgument for a bad grammar or schema,
  // or both given.
  static StatusOr<std::unique_ptr<AnswerGrammar>> Create(const GenerateOptions& options,
                                                         std::shared_ptr<const grammar::TokenVocabulary> vocab);
  // A tool call the model must make: r1 writes `opening`, the grammar shapes what follows,
  // r1 writes `closing` once it is finished.
  static StatusOr<std::unique_ptr<AnswerGrammar>> ForToolCall(std::string_view gbnf, std::vector<int32_t> opening,
                                                              std::vector<int32_t> closing,
                                                              std::shared_ptr<const grammar::TokenVocabulary> vocab);

  // Whether the grammar governs the next token: always with grammar_from_first_token, else
  // only in the answer channel (after "</think>", or from the start for a model that does not think).
  bool Governs(Channel channel) const { return from_first_token_ || channel == Channel::kContent; }
  // Complete, with nothing more allowed: the answer is done.
  bool finished() const { return constraint_->finished(); }
  bool complete() const { return constraint_->complete(); }

  // `logits` with every token the grammar forbids at -infinity (a buffer of this object's,
  // valid until the next call); empty when it forbids them all.
  absl::Span<const float> Mask(absl::Span<const float> logits);
  // Keeps `token` out of the answer whatever its text: the think markers, which would switch
  // the stream's channel in the middle of a governed answer.
  void Forbid(int32_t token) { forbidden_.push_back(token); }
  Status Accept(int32_t token) { return constraint_->Accept(token); }
  // Tokens r1 writes itself: the opening before the grammar's first token, the closing once it
  // is finished; each once, then nothing.
  std::vector<int32_t> TakeWrittenTokens();

 private:
  AnswerGrammar(std::unique_ptr<grammar::GrammarConstraint> constraint, bool from_first_token)
      : constraint_(std::move(constraint)), from_first_token_(from_first_token) {}

  std::unique_ptr<grammar::GrammarConstraint> constraint_;
  bool from_first_token_;
  std::vector<float> masked_;
  std::vector<int32_t> forbidden_;
  std::vector<int32_t> opening_, closing_;
  bool opened_ = false, closed_ = false;
};

}  // namespace r1
