// gbnf_rename.h — GBNF with every rule name prefixed, so several grammars (one per tool's
// argument schema) can live in one text without their rule names meeting.
#pragma once

#include <string>
#include <string_view>

namespace r1::grammar {

// `gbnf` with `prefix` put before each rule name, where it is defined and where it is used;
// literals, character classes, repetition counts and comments are left as they are.
std::string PrefixGbnfRules(std::string_view gbnf, std::string_view prefix);

}  // namespace r1::grammar
