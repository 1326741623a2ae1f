#include "tokenize/jinja_json.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_format.h"
#include "grammar/ordered_json.h"

namespace r1::internal::jinja {
namespace {

StatusOr<Value> Convert(const nlohmann::ordered_json& j, int depth, std::string_view what) {
  if (depth > kMaxJsonDepth) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s nests deeper than %d levels", std::string(what), kMaxJsonDepth));
  }
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null:
      return Value::None();
    case nlohmann::ordered_json::value_t::boolean:
      return Value::Bool(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
      return Value::Int(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      const uint64_t u = j.get<uint64_t>();
      // Python's ints are unbounded; beyond int64 the nearest float is the closest we hold.
      if (u > static_cast<uint64_t>(INT64_MAX)) return Value::Float(static_cast<double>(u));
      return Value::Int(static_cast<int64_t>(u));
    }
    case nlohmann::ordered_json::value_t::number_float:
      return Value::Float(j.get<double>());
    case nlohmann::ordered_json::value_t::string:
      return Value::String(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      List list;
      list.reserve(j.size());
      for (const auto& item : j) {
        R1_ASSIGN_OR_RETURN(Value v, Convert(item, depth + 1, what));
        list.push_back(std::move(v));
      }
      return Value::MakeList(std::move(list));
    }
    case nlohmann::ordered_json::value_t::object: {
      Dict dict;
      dict.entries.reserve(j.size());
      // ParseOrderedJson already merged repeated keys, so entries can be appended directly.
      for (const auto& [key, item] : j.items()) {
        R1_ASSIGN_OR_RETURN(Value v, Convert(item, depth + 1, what));
        dict.entries.emplace_back(key, std::move(v));
      }
      return Value::MakeDict(std::move(dict));
    }
    default:
      break;
  }
  return absl::InvalidArgumentError(absl::StrFormat("%s is not JSON", std::string(what)));
}

}  // namespace

StatusOr<Value> JsonToValue(std::string_view json_text, std::string_view what) {
  std::optional<nlohmann::ordered_json> parsed = ParseOrderedJson(json_text);
  if (!parsed) {
    return absl::InvalidArgumentError(absl::StrFormat("%s is not valid JSON", std::string(what)));
  }
  return Convert(*parsed, 0, what);
}

}  // namespace r1::internal::jinja
