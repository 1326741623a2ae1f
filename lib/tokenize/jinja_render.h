// jinja_render.h — renders a parsed Jinja template (a safe subset of Jinja2, as transformers
// renders chat templates) within fixed bounds, so that a hostile template ends with an error
// instead of hanging or exhausting memory.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "r1/status.h"
#include "tokenize/jinja_ast.h"
#include "tokenize/jinja_value.h"

namespace r1::internal::jinja {

struct RenderLimits {
  size_t max_output_bytes = 16 << 20;
  // Loop iterations, macro calls, expression evaluations and list items built, together
  // (a few seconds' work; real chat templates take about 50 per message).
  int64_t max_steps = 3'000'000;
  // Bytes of strings produced by expressions, together: bounds the time spent copying.
  int64_t max_string_work = int64_t{1} << 31;
  int max_call_depth = 32;
};

// Renders `tmpl` with `variables` (and the built-in globals range, namespace, dict,
// raise_exception and strftime_now). Errors: InvalidArgument with the template line for type
// errors and undefined attribute access; raise_exception(msg) gives InvalidArgument(msg);
// ResourceExhausted when a limit is reached.
StatusOr<std::string> Render(const Template& tmpl, const Dict& variables,
                             const RenderLimits& limits = {});

// Parse and Render in one.
StatusOr<std::string> RenderSource(std::string_view source, const Dict& variables,
                                   const RenderLimits& limits = {});

}  // namespace r1::internal::jinja
