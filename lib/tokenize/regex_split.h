// regex_split.h — one compiled pre-tokenizer regex (PCRE2, JIT-compiled) and the "isolated"
// split it performs: every match is a piece, and so is every non-empty stretch between matches.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "r1/status.h"

namespace r1::internal {

class RegexSplit {
 public:
  // Compiles `pattern` with Unicode properties (PCRE2_UCP). `\s`/`\S` mean Unicode's
  // White_Space set, as in the original tokenizers' regex engines. Ill-formed UTF-8 in the
  // subject never matches and so ends up in the stretches between matches.
  static StatusOr<std::unique_ptr<RegexSplit>> Compile(std::string_view pattern);
  ~RegexSplit();
  RegexSplit(const RegexSplit&) = delete;
  RegexSplit& operator=(const RegexSplit&) = delete;

  // Appends the pieces of `text` to *pieces; the pieces are views into `text` and cover it
  // exactly, in order. Safe to call from several threads at once.
  Status Split(std::string_view text, std::vector<std::string_view>* pieces) const;

 private:
  RegexSplit() = default;
  struct Compiled;
  std::unique_ptr<Compiled> compiled_;
};

// The PCRE2 form of a pattern written for engines whose \s is Unicode's White_Space
// (Oniguruma, Rust regex): \s and \S become explicit classes. Exposed for tests.
std::string ExpandWhitespaceClasses(std::string_view pattern);

}  // namespace r1::internal
