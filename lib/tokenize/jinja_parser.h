// jinja_parser.h — parses Jinja source into a Template (jinja_ast.h).
#pragma once

#include <string_view>

#include "r1/status.h"
#include "tokenize/jinja_ast.h"

namespace r1::internal::jinja {

// Bounds on what a template may ask of the parser, so that hostile source cannot exhaust the
// stack.
inline constexpr size_t kMaxSourceBytes = 1 << 20;
inline constexpr int kMaxNesting = 64;

// InvalidArgument, with the line, for source that is too large, nested too deeply, or not
// in the supported subset (include, extends, import, call blocks, filter blocks, ...).
StatusOr<Template> Parse(std::string_view source);

}  // namespace r1::internal::jinja
