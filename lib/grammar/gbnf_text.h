// gbnf_text.h — writing GBNF text: string literals, and rule names prefixed so that several
// grammars (one per tool's argument schema) can live in one text without their names meeting.
#pragma once

#include <string>
#include <string_view>

namespace r1::grammar {

// A GBNF string literal matching exactly `bytes` (quotes, backslashes and control bytes escaped).
std::string GbnfLiteral(std::string_view bytes);

// `gbnf` with `prefix` put before each rule name, where it is defined and where it is used;
// literals, character classes, repetition counts and comments are left as they are.
std::string PrefixGbnfRules(std::string_view gbnf, std::string_view prefix);

}  // namespace r1::grammar
