// ordered_json.cc — a SAX consumer that builds ordered_json with a key index per open object.
#include "grammar/ordered_json.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace r1 {
namespace {

using Json = nlohmann::ordered_json;

class OrderedBuilder : public nlohmann::json_sax<Json> {
 public:
  bool null() override { return Put(Json(nullptr)); }
  bool boolean(bool v) override { return Put(Json(v)); }
  bool number_integer(number_integer_t v) override { return Put(Json(v)); }
  bool number_unsigned(number_unsigned_t v) override { return Put(Json(v)); }
  bool number_float(number_float_t v, const string_t&) override { return Put(Json(v)); }
  bool string(string_t& v) override { return Put(Json(std::move(v))); }
  bool binary(binary_t& v) override { return Put(Json::binary(std::move(v))); }
  bool start_object(std::size_t) override { return Open(Json::object()); }
  bool start_array(std::size_t) override { return Open(Json::array()); }
  bool end_object() override { return Close(); }
  bool end_array() override { return Close(); }
  bool key(string_t& k) override {
    open_.back().key = std::move(k);
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

  std::optional<Json> Result() { return done_ ? std::optional<Json>(std::move(root_)) : std::nullopt; }

 private:
  struct OpenContainer {
    Json value;
    std::string key;                             // objects: the key of the value to come
    absl::flat_hash_map<std::string, size_t> index;  // objects: where each key is
  };

  // Adds a finished value to the innermost open container, or makes it the document.
  bool Put(Json v) {
    if (open_.empty()) {
      root_ = std::move(v);
      done_ = true;
      return true;
    }
    OpenContainer& parent = open_.back();
    if (parent.value.is_array()) {
      parent.value.get_ref<Json::array_t&>().push_back(std::move(v));
      return true;
    }
    // The vector beneath ordered_map, reached directly: its own lookups search linearly.
    auto& members = static_cast<Json::object_t::Container&>(parent.value.get_ref<Json::object_t&>());
    const auto [it, fresh] = parent.index.try_emplace(parent.key, members.size());
    if (fresh) {
      members.emplace_back(std::move(parent.key), std::move(v));
    } else {
      members[it->second].second = std::move(v);
    }
    return true;
  }
  bool Open(Json container) {
    open_.push_back({std::move(container), {}, {}});
    return true;
  }
  bool Close() {
    Json v = std::move(open_.back().value);
    open_.pop_back();
    return Put(std::move(v));
  }

  std::vector<OpenContainer> open_;
  Json root_;
  bool done_ = false;
};

}  // namespace

std::optional<Json> ParseOrderedJson(std::string_view text) {
  OrderedBuilder builder;
  if (!Json::sax_parse(text, &builder, Json::input_format_t::json, /*strict=*/true)) return std::nullopt;
  return builder.Result();
}

}  // namespace r1
