// gbnf_parser.h — GBNF text (llama.cpp's grammar format) to a flattened Grammar.
//
// Supported: rules `name ::= ...`, alternatives, sequences, groups, `* + ?`, `{m}` `{m,}`
// `{m,n}`, string literals and character classes with escapes (\n \r \t \\ \" \[ \] \- \^ \/ \xHH
// \uHHHH \UHHHHHHHH), `.` (any character) and `#` comments. Not supported: token references
// (`<think>`, `<[id]>`), which are refused with an error.
//
// Errors are InvalidArgument "line L, column C: what is wrong". Besides syntax errors: an
// undefined rule, a missing start rule, left recursion (a rule that can reach itself without
// consuming input, which would never stop expanding), and a grammar over the size limits.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "grammar/gbnf_rules.h"
#include "r1/status.h"

namespace r1::grammar {

// Bounds that keep a hostile grammar from allocating without limit.
struct GbnfLimits {
  uint32_t max_repetition = 10000;    // m and n of {m,n}
  uint32_t max_elements = 1u << 20;   // elements of all rules after rewriting repetitions
  uint32_t max_rules = 1u << 18;      // rules, generated ones included
  uint32_t max_nesting = 256;         // depth of nested groups
};

StatusOr<std::shared_ptr<const Grammar>> ParseGbnf(std::string_view text,
                                                   std::string_view root = "root",
                                                   const GbnfLimits& limits = {});

}  // namespace r1::grammar
