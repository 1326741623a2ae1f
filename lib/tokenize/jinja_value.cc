// jinja_value.h: Python's semantics for the template values.
#include "tokenize/jinja_value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tokenize/utf8.h"

namespace r1::internal::jinja {

const Value* Dict::Find(std::string_view key) const {
  for (const auto& [k, v] : entries) {
    if (k == key) return &v;
  }
  return nullptr;
}

void Dict::Set(std::string_view key, Value value) {
  for (auto& [k, v] : entries) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  entries.emplace_back(std::string(key), std::move(value));
}

Value Value::Undefined(std::string name) {
  Value v;
  v.s = std::move(name);
  return v;
}
Value Value::None() {
  Value v;
  v.kind = Kind::kNone;
  return v;
}
Value Value::Bool(bool x) {
  Value v;
  v.kind = Kind::kBool;
  v.b = x;
  return v;
}
Value Value::Int(int64_t x) {
  Value v;
  v.kind = Kind::kInt;
  v.i = x;
  return v;
}
Value Value::Float(double x) {
  Value v;
  v.kind = Kind::kFloat;
  v.f = x;
  return v;
}
Value Value::String(std::string x) {
  Value v;
  v.kind = Kind::kString;
  v.s = std::move(x);
  return v;
}
namespace {

int32_t ChildDepth(const Value& child) { return child.is_namespace ? 1 : child.depth + 1; }

}  // namespace

Value Value::MakeList(List x) {
  Value v;
  v.kind = Kind::kList;
  for (const Value& e : x) v.depth = std::max(v.depth, ChildDepth(e));
  v.list = std::make_shared<const List>(std::move(x));
  return v;
}
Value Value::MakeTuple(List x) {
  Value v = MakeList(std::move(x));
  v.is_tuple = true;
  return v;
}
Value Value::MakeDict(Dict x) {
  Value v;
  v.kind = Kind::kDict;
  for (const auto& [k, e] : x.entries) v.depth = std::max(v.depth, ChildDepth(e));
  v.dict = std::make_shared<Dict>(std::move(x));
  return v;
}

bool Truthy(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNone:
      return false;
    case Value::Kind::kBool:
      return v.b;
    case Value::Kind::kInt:
      return v.i != 0;
    case Value::Kind::kFloat:
      return v.f != 0;
    case Value::Kind::kString:
      return !v.s.empty();
    case Value::Kind::kList:
      return !v.list->empty();
    case Value::Kind::kDict:
      return !v.dict->entries.empty();
    case Value::Kind::kCallable:
      return true;
  }
  return false;
}

std::string FloatRepr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  // Python prints the shortest round-trip digits, positionally for exponents -4..15.
  char digits[32];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), v, std::chars_format::scientific);
  std::string sci(digits, end);
  const size_t e = sci.find('e');
  const int exp = std::stoi(sci.substr(e + 1));
  if (exp < -4 || exp >= 16) {
    std::string mant = sci.substr(0, e);
    return absl::StrFormat("%se%s%02d", mant, exp < 0 ? "-" : "+", std::abs(exp));
  }
  auto [end2, ec2] = std::to_chars(digits, digits + sizeof(digits), v, std::chars_format::fixed);
  std::string out(digits, end2);
  if (out.find('.') == std::string::npos) out += ".0";
  return out;
}

namespace {

void AppendPyStringRepr(std::string_view s, std::string* out) {
  const bool dq = s.find('\'') != std::string_view::npos && s.find('"') == std::string_view::npos;
  const char q = dq ? '"' : '\'';
  out->push_back(q);
  for (unsigned char c : s) {
    if (c == '\\') {
      *out += "\\\\";
    } else if (c == q) {
      out->push_back('\\');
      out->push_back(q);
    } else if (c == '\n') {
      *out += "\\n";
    } else if (c == '\r') {
      *out += "\\r";
    } else if (c == '\t') {
      *out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      *out += absl::StrFormat("\\x%02x", c);
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
  out->push_back(q);
}

// Beyond this the caller's size check refuses the text anyway; stopping here also bounds the
// time spent on a namespace that contains itself several times over.
constexpr size_t kMaxReprBytes = size_t{17} << 20;

void AppendRepr(const Value& v, int depth, std::string* out) {
  if (out->size() > kMaxReprBytes) return;
  if (depth > 64) {
    // Python prints a container that contains itself as [...]; deep nesting ends the same way.
    *out += "...";
    return;
  }
  switch (v.kind) {
    case Value::Kind::kString:
      AppendPyStringRepr(v.s, out);
      return;
    case Value::Kind::kList: {
      out->push_back(v.is_tuple ? '(' : '[');
      for (size_t k = 0; k < v.list->size(); ++k) {
        if (k) *out += ", ";
        AppendRepr((*v.list)[k], depth + 1, out);
      }
      if (v.is_tuple && v.list->size() == 1) out->push_back(',');
      out->push_back(v.is_tuple ? ')' : ']');
      return;
    }
    case Value::Kind::kDict: {
      if (v.is_namespace) {
        *out += "<Namespace ";
      }
      out->push_back('{');
      bool first = true;
      for (const auto& [k, e] : v.dict->entries) {
        if (!first) *out += ", ";
        first = false;
        AppendPyStringRepr(k, out);
        *out += ": ";
        AppendRepr(e, depth + 1, out);
      }
      out->push_back('}');
      if (v.is_namespace) out->push_back('>');
      return;
    }
    case Value::Kind::kUndefined:
      *out += "Undefined";
      return;
    default:
      *out += ToStr(v);
  }
}

void AppendJsonString(std::string_view s, bool ascii, std::string* out) {
  out->push_back('"');
  for (size_t pos = 0; pos < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[pos]);
    if (ascii && c >= 0x80) {
      // ensure_ascii: \uXXXX, with a surrogate pair above the BMP.
      int32_t cp = DecodeUtf8(s, &pos);
      if (cp < 0) cp = 0xFFFD;
      if (cp >= 0x10000) {
        cp -= 0x10000;
        *out += absl::StrFormat("\\u%04x\\u%04x", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
      } else {
        *out += absl::StrFormat("\\u%04x", cp);
      }
      continue;
    }
    ++pos;
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      case '\b': *out += "\\b"; break;
      case '\f': *out += "\\f"; break;
      default:
        if (c < 0x20) {
          *out += absl::StrFormat("\\u%04x", c);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

Status AppendJson(const Value& v, int indent, bool ascii, int depth, std::string* out) {
  if (depth > 256) return absl::InvalidArgumentError("tojson: value nested too deeply");
  if (out->size() > kMaxReprBytes) {
    return absl::ResourceExhaustedError("tojson: the JSON text is larger than 16 MiB");
  }
  auto newline = [&](int d) {
    out->push_back('\n');
    out->append(static_cast<size_t>(indent) * d, ' ');
  };
  switch (v.kind) {
    case Value::Kind::kNone:
      *out += "null";
      return absl::OkStatus();
    case Value::Kind::kBool:
      *out += v.b ? "true" : "false";
      return absl::OkStatus();
    case Value::Kind::kInt:
      *out += absl::StrCat(v.i);
      return absl::OkStatus();
    case Value::Kind::kFloat:
      if (std::isnan(v.f)) {
        *out += "NaN";
      } else if (std::isinf(v.f)) {
        *out += v.f > 0 ? "Infinity" : "-Infinity";
      } else {
        *out += FloatRepr(v.f);
      }
      return absl::OkStatus();
    case Value::Kind::kString:
      AppendJsonString(v.s, ascii, out);
      return absl::OkStatus();
    case Value::Kind::kList: {
      if (v.list->empty()) {
        *out += "[]";
        return absl::OkStatus();
      }
      out->push_back('[');
      for (size_t k = 0; k < v.list->size(); ++k) {
        if (k) *out += indent >= 0 ? "," : ", ";
        if (indent >= 0) newline(depth + 1);
        R1_RETURN_IF_ERROR(AppendJson((*v.list)[k], indent, ascii, depth + 1, out));
      }
      if (indent >= 0) newline(depth);
      out->push_back(']');
      return absl::OkStatus();
    }
    case Value::Kind::kDict: {
      if (v.dict->entries.empty()) {
        *out += "{}";
        return absl::OkStatus();
      }
      out->push_back('{');
      bool first = true;
      for (const auto& [k, e] : v.dict->entries) {
        if (!first) *out += indent >= 0 ? "," : ", ";
        first = false;
        if (indent >= 0) newline(depth + 1);
        AppendJsonString(k, ascii, out);
        *out += ": ";
        R1_RETURN_IF_ERROR(AppendJson(e, indent, ascii, depth + 1, out));
      }
      if (indent >= 0) newline(depth);
      out->push_back('}');
      return absl::OkStatus();
    }
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("tojson: a value of type ", KindName(v), " is not JSON serializable"));
  }
}

}  // namespace

std::string ToStr(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kUndefined:
      return "";
    case Value::Kind::kNone:
      return "None";
    case Value::Kind::kBool:
      return v.b ? "True" : "False";
    case Value::Kind::kInt:
      return absl::StrCat(v.i);
    case Value::Kind::kFloat:
      return FloatRepr(v.f);
    case Value::Kind::kString:
      return v.s;
    case Value::Kind::kCallable:
      return absl::StrCat("<function ", v.s, ">");
    default: {
      std::string out;
      AppendRepr(v, 0, &out);
      return out;
    }
  }
}

std::string Repr(const Value& v) {
  std::string out;
  AppendRepr(v, 0, &out);
  return out;
}

StatusOr<std::string> ToJson(const Value& v, int indent, bool ensure_ascii) {
  std::string out;
  R1_RETURN_IF_ERROR(AppendJson(v, indent, ensure_ascii, 0, &out));
  return out;
}

namespace {

bool EqualAt(const Value& a, const Value& b, int depth, int64_t* budget);

}  // namespace

bool Equal(const Value& a, const Value& b) {
  int64_t budget = 1 << 20;
  return EqualAt(a, b, 0, &budget);
}

namespace {

bool EqualAt(const Value& a, const Value& b, int depth, int64_t* budget) {
  // Past this depth or this many comparisons (only namespaces that contain themselves get
  // there) only identity counts.
  if (depth > 64 || --*budget < 0) return a.list == b.list && a.dict == b.dict && a.kind == b.kind;
  if (a.is_number() && b.is_number()) {
    if (a.kind != Value::Kind::kFloat && b.kind != Value::Kind::kFloat) {
      return (a.kind == Value::Kind::kBool ? a.b : a.i) == (b.kind == Value::Kind::kBool ? b.b : b.i);
    }
    return a.AsDouble() == b.AsDouble();
  }
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNone:
      return true;
    case Value::Kind::kString:
      return a.s == b.s;
    case Value::Kind::kList: {
      if (a.list == b.list) return true;
      if (a.list->size() != b.list->size()) return false;
      for (size_t k = 0; k < a.list->size(); ++k) {
        if (!EqualAt((*a.list)[k], (*b.list)[k], depth + 1, budget)) return false;
      }
      return true;
    }
    case Value::Kind::kDict: {
      if (a.dict == b.dict) return true;
      if (a.dict->entries.size() != b.dict->entries.size()) return false;
      for (const auto& [k, v] : a.dict->entries) {
        const Value* o = b.dict->Find(k);
        if (o == nullptr || !EqualAt(v, *o, depth + 1, budget)) return false;
      }
      return true;
    }
    case Value::Kind::kCallable:
      return a.macro == b.macro && a.s == b.s;
    default:
      return false;
  }
}

}  // namespace

StatusOr<bool> Less(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.kind != Value::Kind::kFloat && b.kind != Value::Kind::kFloat) {
      return (a.kind == Value::Kind::kBool ? a.b : a.i) < (b.kind == Value::Kind::kBool ? b.b : b.i);
    }
    return a.AsDouble() < b.AsDouble();
  }
  if (a.is_string() && b.is_string()) return a.s < b.s;
  if (a.kind == Value::Kind::kList && b.kind == Value::Kind::kList) {
    const size_t n = std::min(a.list->size(), b.list->size());
    for (size_t k = 0; k < n; ++k) {
      if (Equal((*a.list)[k], (*b.list)[k])) continue;
      return Less((*a.list)[k], (*b.list)[k]);
    }
    return a.list->size() < b.list->size();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("cannot order a ", KindName(a), " and a ", KindName(b)));
}

const char* KindName(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kUndefined: return "undefined";
    case Value::Kind::kNone: return "none";
    case Value::Kind::kBool: return "bool";
    case Value::Kind::kInt: return "int";
    case Value::Kind::kFloat: return "float";
    case Value::Kind::kString: return "string";
    case Value::Kind::kList: return "list";
    case Value::Kind::kDict: return v.is_namespace ? "namespace" : "dict";
    case Value::Kind::kCallable: return "function";
  }
  return "value";
}

}  // namespace r1::internal::jinja
