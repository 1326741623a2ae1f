// tensor_type_override.cc — parsing and matching `--tensor-type PATTERN=TYPE`.
#include "tools/tensor_type_override.h"

#include "absl/strings/str_format.h"
#include "tools/quant_schemes.h"

namespace r1::tools {

StatusOr<TensorTypeOverride> ParseTensorTypeOverride(std::string_view spec) {
  const size_t eq = spec.rfind('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == spec.size()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("tensor type '%s': expected PATTERN=TYPE, e.g. ffn_down_exps=IQ2_XXS", spec));
  }
  TensorTypeOverride o;
  o.pattern = std::string(spec.substr(0, eq));
  const std::string_view type_name = spec.substr(eq + 1);
  // Only types: a mixture names rules for a whole model, not one tensor's type.
  const std::optional<DType> type = ParseWeightType(type_name);
  if (!type) {
    return absl::InvalidArgumentError(absl::StrFormat("tensor type '%s': unknown weight type '%s'", spec, type_name));
  }
  o.type = *type;
  try {
    o.regex = std::regex(o.pattern, std::regex::ECMAScript | std::regex::optimize);
  } catch (const std::regex_error& e) {
    return absl::InvalidArgumentError(
        absl::StrFormat("tensor type '%s': '%s' is not a valid regular expression (%s)", spec, o.pattern, e.what()));
  }
  return o;
}

const TensorTypeOverride* FindTensorTypeOverride(const std::vector<TensorTypeOverride>& overrides,
                                                 std::string_view name) {
  for (const TensorTypeOverride& o : overrides) {
    if (std::regex_search(name.begin(), name.end(), o.regex)) return &o;
  }
  return nullptr;
}

}  // namespace r1::tools
