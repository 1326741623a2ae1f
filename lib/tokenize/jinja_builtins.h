// jinja_builtins.h — Jinja's filters and tests, the Python str/dict methods chat templates
// call, and the size bound every string or list they build is held to.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "r1/status.h"
#include "tokenize/jinja_value.h"

namespace r1::internal::jinja {

// No string or list a template builds may exceed these, so hostile templates cannot exhaust
// memory by repeated doubling.
inline constexpr size_t kMaxStringBytes = 16 << 20;
inline constexpr size_t kMaxListItems = 1 << 20;

struct Args {
  std::vector<Value> pos;
  std::vector<std::pair<std::string, Value>> kw;
  // The argument at position `index`, else the keyword `name`, else nullptr.
  const Value* Get(size_t index, std::string_view name) const;
};

// InvalidArgument naming the filter for unknown filters and bad arguments.
StatusOr<Value> ApplyFilter(std::string_view name, const Value& input, const Args& args);
StatusOr<bool> ApplyTest(std::string_view name, const Value& input, const Args& args);
// obj.name(args): str.strip/split/startswith/..., dict.get/items/keys/values.
StatusOr<Value> CallMethod(const Value& obj, std::string_view name, const Args& args);

// Python's str.split(sep) (sep null: runs of whitespace), at most `maxsplit` splits (< 0: all).
std::vector<std::string> PySplit(std::string_view s, const std::string* sep, int64_t maxsplit);
// The byte offset where each UTF-8 character of s starts, plus s.size().
std::vector<size_t> CharStarts(std::string_view s);
// InvalidArgument when a string built by the template would exceed kMaxStringBytes.
Status CheckStringSize(size_t bytes);

}  // namespace r1::internal::jinja
