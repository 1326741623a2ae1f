// ordered_json.h — JSON text to nlohmann::ordered_json (keys in document order) in linear time.
//
// ordered_json::parse checks each new key against all earlier keys of its object, which takes
// quadratic time on an object with many keys: a hostile schema or request could stall a
// thread for minutes. This parser dedupes through a hash set instead (a repeated key keeps its
// first place and takes its last value, as nlohmann::json keeps the last value).
#pragma once

#include <optional>
#include <string_view>

#include "nlohmann/json.hpp"

namespace r1 {

// nullopt when the text is not one JSON value.
std::optional<nlohmann::ordered_json> ParseOrderedJson(std::string_view text);

}  // namespace r1
