// model_drafter.h — a smaller model with the target's vocabulary as the drafter: it keeps its
// own session over the same tokens and guesses greedily.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "session/drafter.h"
#include "r1/tokenizer.h"

namespace r1 {

// OK when `draft` spells every token it shares with `target` the same (ids below both
// vocabularies' sizes; a draft may have fewer ids than the target), else InvalidArgument naming
// the first difference.
Status CheckDraftVocabulary(const Tokenizer& target, const Tokenizer& draft);

class ModelDrafter final : public Drafter {
 public:
  // A session of `draft` sized like the target's (`like`).
  static StatusOr<std::unique_ptr<Drafter>> Create(std::shared_ptr<const Model> draft, const Session& like,
                                                   const DraftOptions& options);

  Status CatchUp(absl::Span<const int32_t> history) override;
  // Stops before any id the target does not have; empty while the history holds an id the
  // draft does not have.
  StatusOr<std::vector<int32_t>> Propose(absl::Span<const int32_t> history, int64_t n) override;

 private:
  ModelDrafter(std::unique_ptr<Session> session, const DraftOptions& options, int32_t target_vocab);

  std::unique_ptr<Session> session_;
  int32_t target_vocab_;
};

}  // namespace r1
