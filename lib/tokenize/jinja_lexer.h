// jinja_lexer.h — splits Jinja source into text and tag tokens, applying the whitespace rules
// transformers renders chat templates with: trim_blocks and lstrip_blocks on, plus the `-`
// (strip) and `+` (keep) markers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "r1/status.h"

namespace r1::internal::jinja {

struct Token {
  enum class Kind {
    kText,        // literal output
    kVarBegin,    // {{
    kVarEnd,      // }}
    kBlockBegin,  // {%
    kBlockEnd,    // %}
    kName,
    kString,      // text holds the decoded string
    kInt,
    kFloat,
    kOp,          // punctuation and operators: ( ) [ ] { } . , : | ~ + - * / // % ** = == != < > <= >=
    kEof,
  };
  Kind kind;
  std::string text;
  int line = 1;
};

// InvalidArgument, with the line, for an unterminated tag, comment or string, or an unknown
// character inside a tag.
StatusOr<std::vector<Token>> Lex(std::string_view source);

}  // namespace r1::internal::jinja
