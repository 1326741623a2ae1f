// tensor_type_override.h — `--tensor-type PATTERN=TYPE`: per-tensor types over a quantization
// scheme, as llama-quantize takes them and the dynamic quants (e.g. experts at IQ2_XXS, the
// rest higher) are made with.
#pragma once

#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "r1/dtype.h"
#include "r1/status.h"

namespace r1::tools {

struct TensorTypeOverride {
  std::string pattern;  // as given
  std::regex regex;     // ECMAScript, searched anywhere in the tensor name (llama-quantize's)
  DType type;
};

// "PATTERN=TYPE" with TYPE a weight type r1 writes (any case: q8_0, IQ4_XS …); InvalidArgument
// naming the problem for a missing '=', an empty or malformed pattern, or an unknown type.
StatusOr<TensorTypeOverride> ParseTensorTypeOverride(std::string_view spec);

// The type of the first override whose pattern occurs in `name`, or nullptr.
const TensorTypeOverride* FindTensorTypeOverride(const std::vector<TensorTypeOverride>& overrides,
                                                 std::string_view name);

}  // namespace r1::tools
