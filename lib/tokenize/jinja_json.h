// jinja_json.h — JSON text as a Jinja value, as Python's json.loads gives templates their
// tool schemas and call arguments (objects keep their key order).
#pragma once

#include <string_view>

#include "r1/status.h"
#include "tokenize/jinja_value.h"

namespace r1::internal::jinja {

// Nesting deeper than this is refused, well inside the renderer's own bound on value depth.
inline constexpr int kMaxJsonDepth = 64;

// InvalidArgument naming `what` when the text is not one JSON value or nests too deeply.
StatusOr<Value> JsonToValue(std::string_view json_text, std::string_view what);

}  // namespace r1::internal::jinja
