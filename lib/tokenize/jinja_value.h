// jinja_value.h — the values a Jinja chat template computes with, and the Python semantics
// (truthiness, str(), repr(), ==, <, json.dumps) its output depends on.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "r1/status.h"

namespace r1::internal::jinja {

struct Value;
using List = std::vector<Value>;
// String-keyed and insertion-ordered, as Python dicts iterate; templates' dicts are small, so a
// linear search beats hashing.
struct Dict {
  std::vector<std::pair<std::string, Value>> entries;
  const Value* Find(std::string_view key) const;
  void Set(std::string_view key, Value value);
};

struct Value {
  enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kCallable };
  Kind kind = Kind::kUndefined;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  // The text of a string; for an undefined value, the name that was looked up (for errors);
  // for a callable, the built-in function's name.
  std::string s;
  // Lists and dicts are shared: templates cannot change them (the sandbox has no mutating
  // methods), except a namespace(), whose attributes `set` assigns.
  std::shared_ptr<const List> list;
  std::shared_ptr<Dict> dict;
  bool is_namespace = false;
  bool is_tuple = false;  // a list that prints as a Python tuple
  // How deeply lists and dicts nest inside (0 for scalars; a namespace counts as a leaf, since
  // its contents can change). The renderer bounds it, so that freeing, printing or comparing a
  // value never recurses without limit.
  int32_t depth = 0;
  const void* macro = nullptr;  // a macro's definition (jinja_ast.h Node), else a built-in

  static Value Undefined(std::string name = {});
  static Value None();
  static Value Bool(bool v);
  static Value Int(int64_t v);
  static Value Float(double v);
  static Value String(std::string v);
  static Value MakeList(List v);
  static Value MakeTuple(List v);
  static Value MakeDict(Dict v);

  bool is_undefined() const { return kind == Kind::kUndefined; }
  bool is_string() const { return kind == Kind::kString; }
  bool is_number() const { return kind == Kind::kInt || kind == Kind::kFloat || kind == Kind::kBool; }
  double AsDouble() const { return kind == Kind::kFloat ? f : kind == Kind::kBool ? b : double(i); }
};

// Python's bool(): undefined, none, false, 0, and empty strings, lists and dicts are false.
bool Truthy(const Value& v);
// Python's str() (what {{ }} prints): undefined prints as nothing.
std::string ToStr(const Value& v);
// Python's repr(), which str() uses inside lists and dicts.
std::string Repr(const Value& v);
// json.dumps(v, ensure_ascii=ensure_ascii, indent=indent) (indent < 0: none), as
// transformers' tojson.
StatusOr<std::string> ToJson(const Value& v, int indent, bool ensure_ascii);
// Python's ==.
bool Equal(const Value& a, const Value& b);
// Python's <, for numbers, strings and lists; InvalidArgument for other pairs.
StatusOr<bool> Less(const Value& a, const Value& b);
// Python's float repr (shortest round-trip, "1.0", "1e+20").
std::string FloatRepr(double v);
// The kind's name in errors ("string", "list", ...).
const char* KindName(const Value& v);

}  // namespace r1::internal::jinja
