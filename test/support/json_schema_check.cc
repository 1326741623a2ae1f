// json_schema_check.cc — recursive validation of a parsed document against a parsed schema.
#include "support/json_schema_check.h"

#include <cctype>

#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace r1::test {
namespace {

using Json = nlohmann::ordered_json;

constexpr int kMaxDepth = 256;  // schema and document levels, $ref hops included

bool IsUnsupported(const std::string& key) {
  static const char* const kKeywords[] = {
      "pattern", "patternProperties", "not", "if", "then", "else", "dependentRequired",
      "dependentSchemas", "dependencies", "uniqueItems", "multipleOf", "contains", "minContains",
      "maxContains", "minProperties", "maxProperties", "propertyNames", "unevaluatedProperties",
      "unevaluatedItems", "$dynamicRef", "$recursiveRef"};
  for (const char* k : kKeywords) {
    if (key == k) return true;
  }
  return false;
}

bool HasType(const Json& v, const std::string& type) {
  if (type == "null") return v.is_null();
  if (type == "boolean") return v.is_boolean();
  if (type == "string") return v.is_string();
  if (type == "array") return v.is_array();
  if (type == "object") return v.is_object();
  if (type == "number") return v.is_number();
  if (type == "integer") {
    if (v.is_number_integer()) return true;
    if (!v.is_number_float()) return false;
    const double d = v.get<double>();
    return d > -9.2e18 && d < 9.2e18 && d == static_cast<double>(static_cast<int64_t>(d));
  }
  return false;
}

// Characters (code points) of a valid UTF-8 string.
size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool Digits(const std::string& s, size_t at, size_t n) {
  if (at + n > s.size()) return false;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}
int Number(const std::string& s, size_t at, size_t n) { return std::stoi(s.substr(at, n)); }

bool IsDate(const std::string& s, size_t at, size_t* end) {
  if (!Digits(s, at, 4) || at + 10 > s.size() || s[at + 4] != '-' || !Digits(s, at + 5, 2) || s[at + 7] != '-' ||
      !Digits(s, at + 8, 2)) {
    return false;
  }
  const int month = Number(s, at + 5, 2), day = Number(s, at + 8, 2);
  *end = at + 10;
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

bool IsTime(const std::string& s, size_t at) {
  if (!Digits(s, at, 2) || at + 8 > s.size() || s[at + 2] != ':' || !Digits(s, at + 3, 2) || s[at + 5] != ':' ||
      !Digits(s, at + 6, 2)) {
    return false;
  }
  if (Number(s, at, 2) > 23 || Number(s, at + 3, 2) > 59 || Number(s, at + 6, 2) > 60) return false;
  size_t i = at + 8;
  if (i < s.size() && s[i] == '.') {
    size_t digits = 0;
    while (i + 1 + digits < s.size() && Digits(s, i + 1 + digits, 1)) ++digits;
    if (digits == 0 || digits > 9) return false;
    i += 1 + digits;
  }
  if (i + 1 == s.size() && s[i] == 'Z') return true;
  if (i + 6 != s.size() || (s[i] != '+' && s[i] != '-') || !Digits(s, i + 1, 2) || s[i + 3] != ':' ||
      !Digits(s, i + 4, 2)) {
    return false;
  }
  return Number(s, i + 1, 2) <= 23 && Number(s, i + 4, 2) <= 59;
}

bool IsUuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (s[i] == '-')) return false;
    if (!dash && !isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

std::string FormatProblem(const std::string& format, const std::string& s) {
  size_t end = 0;
  bool ok = true;
  if (format == "date") ok = IsDate(s, 0, &end) && end == s.size();
  if (format == "time") ok = IsTime(s, 0);
  if (format == "date-time") ok = IsDate(s, 0, &end) && end < s.size() && s[end] == 'T' && IsTime(s, end + 1);
  if (format == "uuid") ok = IsUuid(s);
  return ok ? "" : "not a " + format;
}

class Checker {
 public:
  explicit Checker(const Json& root) : root_(root) {}

  // Empty when `doc` (at document pointer `at`) validates against `schema`.
  std::string Check(const Json& schema, const Json& doc, const std::string& at, int depth) {
    if (depth > kMaxDepth) return at + ": nested too deeply";
    if (schema.is_boolean()) return schema.get<bool>() ? "" : at + ": schema false accepts nothing";
    if (!schema.is_object()) return at + ": schema is not an object";
    for (const auto& [key, value] : schema.items()) {
      if (IsUnsupported(key)) return at + ": schema keyword '" + key + "' is not supported by this checker";
    }
    if (schema.contains("$ref")) {
      const Json* target = Resolve(schema["$ref"]);
      if (!target) return at + ": unresolvable $ref";
      if (std::string p = Check(*target, doc, at, depth + 1); !p.empty()) return p;
    }
    if (schema.contains("type")) {
      const Json& t = schema["type"];
      bool ok = false;
      if (t.is_string()) ok = HasType(doc, t.get<std::string>());
      if (t.is_array()) {
        for (const Json& e : t) ok = ok || (e.is_string() && HasType(doc, e.get<std::string>()));
      }
      if (!ok) return at + ": " + doc.dump() + " is not of type " + t.dump();
    }
    if (schema.contains("const") && schema["const"] != doc) return at + ": not the const value";
    if (schema.contains("enum")) {
      bool found = false;
      if (schema["enum"].is_array()) {
        for (const Json& v : schema["enum"]) found = found || v == doc;
      }
      if (!found) return at + ": " + doc.dump() + " is not among the enum values";
    }
    if (schema.contains("allOf") && schema["allOf"].is_array()) {
      for (const Json& sub : schema["allOf"]) {
        if (std::string p = Check(sub, doc, at, depth + 1); !p.empty()) return p;
      }
    }
    if (schema.contains("anyOf") && schema["anyOf"].is_array()) {
      std::string problems;
      bool any = false;
      for (const Json& sub : schema["anyOf"]) {
        std::string p = Check(sub, doc, at, depth + 1);
        any = any || p.empty();
        problems += "[" + p + "]";
      }
      if (!any) return at + ": no anyOf alternative matches: " + problems;
    }
    if (schema.contains("oneOf") && schema["oneOf"].is_array()) {
      int matches = 0;
      for (const Json& sub : schema["oneOf"]) matches += Check(sub, doc, at, depth + 1).empty();
      if (matches != 1) return at + ": " + std::to_string(matches) + " oneOf alternatives match, not 1";
    }
    if (doc.is_string()) return CheckString(schema, doc.get<std::string>(), at);
    if (doc.is_object()) return CheckObject(schema, doc, at, depth);
    if (doc.is_array()) return CheckArray(schema, doc, at, depth);
    return "";
  }

 private:
  const Json* Resolve(const Json& ref) const {
    if (!ref.is_string()) return nullptr;
    const std::string& text = ref.get_ref<const std::string&>();
    if (text.empty() || text[0] != '#') return nullptr;
    try {
      const Json::json_pointer pointer(text.substr(1));
      if (!root_.contains(pointer)) return nullptr;
      return &root_.at(pointer);
    } catch (const std::exception&) {
      return nullptr;
    }
  }

  static std::string CheckString(const Json& schema, const std::string& s, const std::string& at) {
    const size_t length = CodePoints(s);
    if (schema.contains("minLength") && schema["minLength"].is_number() &&
        static_cast<double>(length) < schema["minLength"].get<double>()) {
      return at + ": shorter than minLength";
    }
    if (schema.contains("maxLength") && schema["maxLength"].is_number() &&
        static_cast<double>(length) > schema["maxLength"].get<double>()) {
      return at + ": longer than maxLength";
    }
    if (schema.contains("format") && schema["format"].is_string()) {
      if (std::string p = FormatProblem(schema["format"].get<std::string>(), s); !p.empty()) return at + ": " + p;
    }
    return "";
  }

  std::string CheckObject(const Json& schema, const Json& doc, const std::string& at, int depth) {
    if (schema.contains("required") && schema["required"].is_array()) {
      for (const Json& name : schema["required"]) {
        if (name.is_string() && !doc.contains(name.get<std::string>())) {
          return at + ": missing required property '" + name.get<std::string>() + "'";
        }
      }
    }
    const Json* properties = schema.contains("properties") && schema["properties"].is_object() ? &schema["properties"] : nullptr;
    for (const auto& [key, value] : doc.items()) {
      const std::string child = at + "/" + key;
      if (properties && properties->contains(key)) {
        if (std::string p = Check((*properties)[key], value, child, depth + 1); !p.empty()) return p;
      } else if (schema.contains("additionalProperties")) {
        if (std::string p = Check(schema["additionalProperties"], value, child, depth + 1); !p.empty()) {
          return p == child + ": schema false accepts nothing" ? at + ": property '" + key + "' is not allowed" : p;
        }
      }
    }
    return "";
  }

  std::string CheckArray(const Json& schema, const Json& doc, const std::string& at, int depth) {
    if (schema.contains("minItems") && schema["minItems"].is_number() &&
        static_cast<double>(doc.size()) < schema["minItems"].get<double>()) {
      return at + ": fewer items than minItems";
    }
    if (schema.contains("maxItems") && schema["maxItems"].is_number() &&
        static_cast<double>(doc.size()) > schema["maxItems"].get<double>()) {
      return at + ": more items than maxItems";
    }
    const Json* prefix = nullptr;
    const Json* rest = nullptr;
    if (schema.contains("prefixItems") && schema["prefixItems"].is_array()) {
      prefix = &schema["prefixItems"];
      if (schema.contains("items")) rest = &schema["items"];
    } else if (schema.contains("items") && schema["items"].is_array()) {
      prefix = &schema["items"];
      if (schema.contains("additionalItems")) rest = &schema["additionalItems"];
    } else if (schema.contains("items")) {
      rest = &schema["items"];
    }
    for (size_t i = 0; i < doc.size(); ++i) {
      const Json* sub = prefix && i < prefix->size() ? &(*prefix)[i] : rest;
      if (!sub) continue;
      if (std::string p = Check(*sub, doc[i], at + "/" + std::to_string(i), depth + 1); !p.empty()) return p;
    }
    return "";
  }

  const Json& root_;
};

}  // namespace

std::string JsonSchemaProblem(std::string_view schema, std::string_view doc) {
  try {
    const Json parsed_schema = Json::parse(schema, nullptr, false);
    if (parsed_schema.is_discarded()) return "the schema is not JSON";
    const Json parsed_doc = Json::parse(doc, nullptr, false);
    if (parsed_doc.is_discarded()) return "the document is not JSON: " + std::string(doc.substr(0, 200));
    return Checker(parsed_schema).Check(parsed_schema, parsed_doc, "", 0);
  } catch (const std::exception& e) {
    return std::string("could not check: ") + e.what();
  }
}

namespace {

// A recognizer of RFC 8259's grammar over `t` from `*i`; advances past one value.
class JsonSyntax {
 public:
  explicit JsonSyntax(std::string_view t) : t_(t) {}
  bool Whole() {
    Space();
    if (!Value(0)) return false;
    Space();
    return i_ == t_.size();
  }

 private:
  void Space() {
    while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\t' || t_[i_] == '\n' || t_[i_] == '\r')) ++i_;
  }
  bool Eat(char c) {
    if (i_ < t_.size() && t_[i_] == c) return ++i_, true;
    return false;
  }
  bool Word(std::string_view w) {
    if (t_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }
  bool Digits() {
    const size_t start = i_;
    while (i_ < t_.size() && t_[i_] >= '0' && t_[i_] <= '9') ++i_;
    return i_ > start;
  }
  bool Number() {
    Eat('-');
    if (Eat('0')) {
    } else if (i_ < t_.size() && t_[i_] >= '1' && t_[i_] <= '9') {
      Digits();
    } else {
      return false;
    }
    if (Eat('.') && !Digits()) return false;
    if (Eat('e') || Eat('E')) {
      if (!Eat('+')) Eat('-');
      if (!Digits()) return false;
    }
    return true;
  }
  bool String() {
    if (!Eat('"')) return false;
    while (i_ < t_.size() && t_[i_] != '"') {
      const unsigned char c = static_cast<unsigned char>(t_[i_++]);
      if (c < 0x20) return false;
      if (c == '\\') {
        if (i_ >= t_.size()) return false;
        const char e = t_[i_++];
        if (e == 'u') {
          for (int k = 0; k < 4; ++k, ++i_) {
            if (i_ >= t_.size() || !std::isxdigit(static_cast<unsigned char>(t_[i_]))) return false;
          }
        } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
          return false;
        }
      }
    }
    return Eat('"');
  }
  bool Value(int depth) {
    if (depth > 512 || i_ >= t_.size()) return false;
    const char c = t_[i_];
    if (c == '{' || c == '[') {
      ++i_;
      const char close = c == '{' ? '}' : ']';
      Space();
      if (Eat(close)) return true;
      do {
        Space();
        if (c == '{') {
          if (!String()) return false;
          Space();
          if (!Eat(':')) return false;
          Space();
        }
        if (!Value(depth + 1)) return false;
        Space();
      } while (Eat(','));
      return Eat(close);
    }
    if (c == '"') return String();
    if (c == 't') return Word("true");
    if (c == 'f') return Word("false");
    if (c == 'n') return Word("null");
    return Number();
  }

  std::string_view t_;
  size_t i_ = 0;
};

}  // namespace

bool IsJsonSyntax(std::string_view text) { return JsonSyntax(text).Whole(); }

}  // namespace r1::test
