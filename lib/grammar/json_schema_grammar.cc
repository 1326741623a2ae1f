// json_schema_grammar.cc — walks a JSON Schema and writes one GBNF rule per distinct piece.
//
// Every value rule matches the value alone; containers place `ws` after their opening bracket,
// around ':' and after each member, so the bound on whitespace is in one rule. Identical rule
// bodies share one rule. $ref targets become named rules filled in from a queue, so recursive
// schemas give recursive grammars and a chain of references does not deepen the C++ stack.
#include "grammar/json_schema_grammar.h"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "grammar/gbnf_text.h"
#include "grammar/ordered_json.h"
#include "nlohmann/json.hpp"

namespace r1::grammar {
namespace {

using Json = nlohmann::ordered_json;

constexpr int kMaxDepth = 64;                     // nested schema levels
constexpr uint64_t kMaxRepeat = 4096;             // one {m,n} bound: items or characters
constexpr uint64_t kMaxRepeatBudget = 1u << 18;   // all {m,n} bounds together
constexpr size_t kMaxRules = 4096;
constexpr size_t kMaxGrammarBytes = size_t{1} << 20;
constexpr int kAnyValueDepth = 10;                // containers nested in a value of schema {}

// absl::StrCat without absl::string_view, which need not be std::string_view here.
void AppendPiece(std::string* out, std::string_view piece) { out->append(piece); }
void AppendPiece(std::string* out, const char* piece) { out->append(piece); }
void AppendPiece(std::string* out, const std::string& piece) { out->append(piece); }
template <typename T>
  requires std::is_integral_v<T>
void AppendPiece(std::string* out, T n) { out->append(std::to_string(n)); }

template <typename... Pieces>
void Append(std::string* out, const Pieces&... pieces) {
  (AppendPiece(out, pieces), ...);
}
template <typename... Pieces>
std::string Cat(const Pieces&... pieces) {
  std::string out;
  Append(&out, pieces...);
  return out;
}

// Rules that do not depend on the schema; written once each, when first used.
struct FixedRule {
  const char* name;
  const char* body;
};
constexpr FixedRule kFixedRules[] = {
    {"ws", R"(( " " | "\n" " "{0,16} )?)"},
    {"hex", R"([0-9a-fA-F])"},
    // Any character but '"', '\' and controls; or an escape. \u excludes surrogates.
    {"char", R"([^"\\\x00-\x1f] | "\\" ( ["\\/bfnrt] | "u" ( [0-9a-cA-Ce-fE-F] hex hex hex | [dD] [0-7] hex hex ) ))"},
    {"string", R"("\"" char* "\"")"},
    {"int-part", R"("0" | [1-9] [0-9]{0,14})"},
    {"frac", R"("." [0-9]{1,15})"},
    // Two exponent digits keep every number within double range (1e490 would not parse).
    {"exp", R"([eE] [-+]? [0-9]{1,2})"},
    {"integer", R"("-"? int-part)"},
    {"nonneg-integer", R"(int-part)"},
    {"number", R"("-"? int-part frac? exp?)"},
    {"nonneg-number", R"(int-part frac? exp?)"},
    {"boolean", R"("true" | "false")"},
    {"null", R"("null")"},
    {"date", R"([0-9]{4} "-" ( "0" [1-9] | "1" [0-2] ) "-" ( "0" [1-9] | [12] [0-9] | "3" [01] ))"},
    {"time",
     R"(( [01] [0-9] | "2" [0-3] ) ":" [0-5] [0-9] ":" ( [0-5] [0-9] | "60" ) ( "." [0-9]{1,9} )? ( "Z" | [-+] ( [01] [0-9] | "2" [0-3] ) ":" [0-5] [0-9] ))"},
    {"date-time", R"(date "T" time)"},
    {"uuid", R"(hex{8} "-" hex{4} "-" hex{4} "-" hex{4} "-" hex{12})"},
    {"date-string", R"("\"" date "\"")"},
    {"time-string", R"("\"" time "\"")"},
    {"date-time-string", R"("\"" date-time "\"")"},
    {"uuid-string", R"("\"" uuid "\"")"},
};

// Names of fixed rules each fixed rule refers to.
std::vector<std::string_view> FixedDependencies(std::string_view name) {
  if (name == "char") return {"hex"};
  if (name == "string") return {"char"};
  if (name == "integer" || name == "nonneg-integer") return {"int-part"};
  if (name == "number" || name == "nonneg-number") return {"int-part", "frac", "exp"};
  if (name == "date-time") return {"date", "time"};
  if (name == "uuid") return {"hex"};
  if (name == "date-string") return {"date"};
  if (name == "time-string") return {"time"};
  if (name == "date-time-string") return {"date-time"};
  if (name == "uuid-string") return {"uuid"};
  return {};
}

// Keywords that constrain in ways this converter does not honour.
const std::unordered_set<std::string_view>& UnsupportedKeywords() {
  static const auto* set = new std::unordered_set<std::string_view>{
      "pattern", "patternProperties", "not", "if", "then", "else", "dependentRequired",
      "dependentSchemas", "dependencies", "uniqueItems", "multipleOf", "contains", "minContains",
      "maxContains", "minProperties", "maxProperties", "propertyNames", "unevaluatedProperties",
      "unevaluatedItems", "$dynamicRef", "$recursiveRef", "$dynamicAnchor", "$recursiveAnchor",
      "contentSchema"};
  return *set;
}

// Keywords that constrain and are honoured (each with its limits).
const std::unordered_set<std::string_view>& SupportedKeywords() {
  static const auto* set = new std::unordered_set<std::string_view>{
      "type", "enum", "const", "$ref", "allOf", "anyOf", "oneOf", "properties", "required",
      "additionalProperties", "items", "prefixItems", "additionalItems", "minItems", "maxItems",
      "minLength", "maxLength", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"};
  return *set;
}

const std::unordered_set<std::string_view>& ObjectKeywords() {
  static const auto* set =
      new std::unordered_set<std::string_view>{"properties", "required", "additionalProperties"};
  return *set;
}
const std::unordered_set<std::string_view>& ArrayKeywords() {
  static const auto* set = new std::unordered_set<std::string_view>{
      "items", "prefixItems", "additionalItems", "minItems", "maxItems"};
  return *set;
}
const std::unordered_set<std::string_view>& StringKeywords() {
  static const auto* set = new std::unordered_set<std::string_view>{"minLength", "maxLength", "format"};
  return *set;
}
const std::unordered_set<std::string_view>& NumberKeywords() {
  static const auto* set = new std::unordered_set<std::string_view>{
      "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"};
  return *set;
}


// Compact JSON text of a value (invalid UTF-8 in strings replaced, never thrown).
std::string CompactJson(const Json& value) {
  return value.dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace);
}

std::string PointerToken(std::string_view token) {
  std::string out;
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Child(const std::string& pointer, std::string_view token) {
  return Cat(pointer, "/", PointerToken(token));
}

Status Error(const std::string& pointer, std::string_view what) {
  return absl::InvalidArgumentError(Cat(pointer.empty() ? std::string("/") : pointer, ": ", what));
}

// A non-negative integer keyword value (5 and 5.0 both count).
StatusOr<uint64_t> CountValue(const Json& v, const std::string& pointer, std::string_view keyword) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0) return static_cast<uint64_t>(v.get<int64_t>());
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (d >= 0 && d < 1e18 && d == static_cast<double>(static_cast<uint64_t>(d))) return static_cast<uint64_t>(d);
  }
  return Error(pointer, Cat("'", keyword, "' must be a non-negative integer"));
}

// JSON type name of a value, as "type" spells it ("integer" for integral numbers).
bool HasType(const Json& v, std::string_view type) {
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
    return d == static_cast<double>(static_cast<int64_t>(d)) && d > -9.2e18 && d < 9.2e18;
  }
  return false;
}

// Decodes %XX in a URI fragment.
std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    auto hex = [](char c) {
      return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    };
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

class Converter {
 public:
  explicit Converter(const Json& root) : root_(root) {
    for (const FixedRule& r : kFixedRules) names_.insert(r.name);
  }

  StatusOr<std::string> Run() {
    R1_ASSIGN_OR_RETURN(std::string root_expr, Visit(root_, "", 0));
    while (!pending_refs_.empty()) {
      PendingRef ref = pending_refs_.front();
      pending_refs_.pop_front();
      R1_ASSIGN_OR_RETURN(std::string body, Visit(*ref.target, ref.pointer, 0));
      R1_RETURN_IF_ERROR(AddRule(ref.name, body));
    }
    std::string out = Cat("root ::= ", root_expr, "\n");
    for (const auto& [name, body] : rules_) Append(&out, name, " ::= ", body, "\n");
    if (out.size() > kMaxGrammarBytes) return Error("", "the schema's grammar is too large");
    return out;
  }

 private:
  struct PendingRef {
    const Json* target;
    std::string pointer;
    std::string name;
  };

  // ---- rules ----

  Status AddRule(const std::string& name, const std::string& body) {
    bytes_ += name.size() + body.size() + 6;
    if (rules_.size() >= kMaxRules || bytes_ > kMaxGrammarBytes) {
      return Error("", "the schema's grammar is too large");
    }
    rules_.emplace_back(name, body);
    return absl::OkStatus();
  }

  std::string NewName(std::string_view base) {
    std::string name(base);
    for (int i = 1; names_.count(name); ++i) name = Cat(base, "-", i);
    names_.insert(name);
    return name;
  }

  // A rule with `body` (an existing one when a rule has that body already).
  StatusOr<std::string> Define(std::string_view base, const std::string& body) {
    if (auto it = by_body_.find(body); it != by_body_.end()) return it->second;
    std::string name = NewName(base);
    R1_RETURN_IF_ERROR(AddRule(name, body));
    by_body_.emplace(body, name);
    return name;
  }

  // The name of a fixed rule, adding it (and what it uses) on first use.
  std::string Fixed(std::string_view name) {
    if (fixed_used_.insert(std::string(name)).second) {
      for (std::string_view dep : FixedDependencies(name)) Fixed(dep);
      for (const FixedRule& r : kFixedRules) {
        if (name == r.name) rules_.emplace_back(r.name, r.body);
      }
    }
    return std::string(name);
  }

  Status ChargeRepeat(uint64_t n) {
    repeat_budget_ += n;
    if (repeat_budget_ > kMaxRepeatBudget) return Error("", "the schema's grammar is too large");
    return absl::OkStatus();
  }

  // Any JSON value, containers nested at most kAnyValueDepth deep.
  std::string AnyValue() {
    if (!any_value_defined_) {
      any_value_defined_ = true;
      const std::string scalars = Cat(Fixed("string"), " | ", Fixed("number"), " | ",
                                               Fixed("boolean"), " | ", Fixed("null"));
      Fixed("ws");
      for (int d = 0; d <= kAnyValueDepth; ++d) {
        const std::string v = Cat("any-value-", d);
        if (d == kAnyValueDepth) {
          rules_.emplace_back(v, scalars);
          continue;
        }
        const std::string inner = Cat("any-value-", d + 1);
        const std::string member = Cat("string ws \":\" ws ", inner, " ws");
        rules_.emplace_back(v, Cat("any-object-", d, " | any-array-", d, " | ", scalars));
        rules_.emplace_back(Cat("any-object-", d),
                            Cat("\"{\" ws ( ", member, " ( \",\" ws ", member, " )* )? \"}\""));
        rules_.emplace_back(Cat("any-array-", d),
                            Cat("\"[\" ws ( ", inner, " ws ( \",\" ws ", inner, " ws )* )? \"]\""));
      }
    }
    return "any-value-0";
  }

  // ---- schemas ----

  StatusOr<std::string> Visit(const Json& s, const std::string& ptr, int depth) {
    if (depth > kMaxDepth) return Error(ptr, Cat("schema nested deeper than ", kMaxDepth, " levels"));
    if (s.is_boolean()) {
      if (s.get<bool>()) return AnyValue();
      return Error(ptr, "schema 'false' accepts nothing");
    }
    if (!s.is_object()) return Error(ptr, "a schema must be an object or a boolean");

    // Which keywords constrain, and whether each is honoured.
    std::vector<std::string_view> constraining;
    for (const auto& [key, value] : s.items()) {
      if (UnsupportedKeywords().count(key)) return Error(ptr, Cat("'", key, "' is not supported"));
      // Unknown keywords are annotations; other formats too.
      if (!SupportedKeywords().count(key)) continue;
      if (key == "format" && !KnownFormat(value)) continue;
      constraining.push_back(key);
    }
    auto only = [&](std::string_view keyword) {
      for (std::string_view k : constraining) {
        if (k != keyword) return Error(ptr, Cat("'", k, "' beside '", keyword, "' is not supported"));
      }
      return absl::OkStatus();
    };

    if (s.contains("$ref")) {
      R1_RETURN_IF_ERROR(only("$ref"));
      return Ref(s["$ref"], Child(ptr, "$ref"));
    }
    if (s.contains("allOf")) return AllOf(s, ptr, depth);
    if (s.contains("anyOf") && s.contains("oneOf")) return Error(ptr, "'anyOf' beside 'oneOf' is not supported");
    for (const char* keyword : {"anyOf", "oneOf"}) {
      if (!s.contains(keyword)) continue;
      R1_RETURN_IF_ERROR(only(keyword));
      return Alternatives(s[keyword], Child(ptr, keyword), depth);
    }
    if (s.contains("enum") || s.contains("const")) return Literals(s, ptr);

    std::vector<std::string> types;
    if (s.contains("type")) {
      const Json& t = s["type"];
      if (t.is_string()) {
        types.push_back(t.get<std::string>());
      } else if (t.is_array() && !t.empty()) {
        for (const Json& e : t) {
          if (!e.is_string()) return Error(Child(ptr, "type"), "'type' must be a string or a list of strings");
          types.push_back(e.get<std::string>());
        }
      } else {
        return Error(Child(ptr, "type"), "'type' must be a string or a non-empty list of strings");
      }
    } else {
      R1_ASSIGN_OR_RETURN(std::optional<std::string> inferred, InferType(s, ptr));
      if (!inferred) return AnyValue();
      types.push_back(*inferred);
    }

    std::vector<std::string> alternatives;
    for (const std::string& type : types) {
      R1_ASSIGN_OR_RETURN(std::string expr, OfType(s, type, ptr, depth));
      bool seen = false;
      for (const auto& a : alternatives) seen = seen || a == expr;
      if (!seen) alternatives.push_back(expr);
    }
    return Union(alternatives);
  }

  static bool KnownFormat(const Json& format) {
    if (!format.is_string()) return false;
    const auto& f = format.get_ref<const std::string&>();
    return f == "date" || f == "time" || f == "date-time" || f == "uuid";
  }

  static StatusOr<std::optional<std::string>> InferType(const Json& s, const std::string& ptr) {
    std::optional<std::string> type;
    for (const auto& [key, value] : s.items()) {
      std::string kind;
      if (ObjectKeywords().count(key)) kind = "object";
      if (ArrayKeywords().count(key)) kind = "array";
      if (StringKeywords().count(key) && (key != "format" || KnownFormat(value))) kind = "string";
      if (NumberKeywords().count(key)) kind = "number";
      if (kind.empty()) continue;
      if (type && *type != kind) {
        return Error(ptr, Cat("keywords of both ", *type, " and ", kind, " without 'type' are not supported"));
      }
      type = kind;
    }
    return type;
  }

  StatusOr<std::string> Union(const std::vector<std::string>& alternatives) {
    if (alternatives.size() == 1) return alternatives[0];
    std::string body;
    for (const auto& a : alternatives) Append(&body, body.empty() ? "" : " | ", a);
    return Define("alt", body);
  }

  StatusOr<std::string> OfType(const Json& s, const std::string& type, const std::string& ptr, int depth) {
    // Keywords of another type do not apply to this one; the ones of this type must be honoured.
    if (type == "string") return StringOf(s, ptr);
    if (type == "integer" || type == "number") return NumberOf(s, type, ptr);
    if (type == "boolean") return Fixed("boolean");
    if (type == "null") return Fixed("null");
    if (type == "object") return ObjectOf(s, ptr, depth);
    if (type == "array") return ArrayOf(s, ptr, depth);
    return Error(Child(ptr, "type"), Cat("unknown type '", type, "'"));
  }

  StatusOr<std::string> StringOf(const Json& s, const std::string& ptr) {
    const bool has_length = s.contains("minLength") || s.contains("maxLength");
    if (s.contains("format") && KnownFormat(s["format"])) {
      if (has_length) return Error(ptr, "'format' beside 'minLength'/'maxLength' is not supported");
      return Fixed(Cat(s["format"].get<std::string>(), "-string"));
    }
    if (!has_length) return Fixed("string");
    uint64_t min = 0;
    std::optional<uint64_t> max;
    if (s.contains("minLength")) {
      R1_ASSIGN_OR_RETURN(min, CountValue(s["minLength"], Child(ptr, "minLength"), "minLength"));
      if (min > kMaxRepeat) return Error(Child(ptr, "minLength"), Cat("'minLength' above ", kMaxRepeat, " is not supported"));
    }
    if (s.contains("maxLength")) {
      R1_ASSIGN_OR_RETURN(uint64_t m, CountValue(s["maxLength"], Child(ptr, "maxLength"), "maxLength"));
      if (m < min) return Error(ptr, "'maxLength' below 'minLength' accepts nothing");
      max = std::min(m, kMaxRepeat);
    }
    R1_RETURN_IF_ERROR(ChargeRepeat(max.value_or(min)));
    Fixed("char");
    return Define("string", Cat("\"\\\"\" ", Repeat("char", min, max), " \"\\\"\""));
  }

  // `item` from min to max times (max absent: no upper bound).
  static std::string Repeat(std::string_view item, uint64_t min, std::optional<uint64_t> max) {
    if (max && *max == min) return min == 1 ? std::string(item) : Cat(item, "{", min, "}");
    if (!max) return min == 0 ? Cat(item, "*") : min == 1 ? Cat(item, "+") : Cat(item, "{", min, ",}");
    if (min == 0 && *max == 1) return Cat(item, "?");
    return Cat(item, "{", min, ",", *max, "}");
  }

  StatusOr<std::string> NumberOf(const Json& s, const std::string& type, const std::string& ptr) {
    // Bounds are not enforced; a lower bound >= 0 only rules out the sign.
    bool non_negative = false;
    for (const char* keyword : {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}) {
      if (!s.contains(keyword)) continue;
      const Json& v = s[keyword];
      const bool draft4_flag = v.is_boolean() && std::string_view(keyword).starts_with("exclusive");
      if (!v.is_number() && !draft4_flag) return Error(Child(ptr, keyword), Cat("'", keyword, "' must be a number"));
      if (v.is_number() && std::string_view(keyword).find("inimum") != std::string_view::npos && v.get<double>() >= 0) {
        non_negative = true;
      }
    }
    return Fixed(Cat(non_negative ? "nonneg-" : "", type));
  }

  StatusOr<std::string> Literals(const Json& s, const std::string& ptr) {
    std::vector<const Json*> values;
    if (s.contains("enum")) {
      const Json& e = s["enum"];
      if (!e.is_array()) return Error(Child(ptr, "enum"), "'enum' must be an array");
      for (const Json& v : e) values.push_back(&v);
    }
    if (s.contains("const")) {
      const Json& c = s["const"];
      if (s.contains("enum")) {
        bool listed = false;
        for (const Json* v : values) listed = listed || *v == c;
        if (!listed) return Error(ptr, "'const' is not among 'enum' values; nothing is accepted");
      }
      values = {&c};
    }
    // Values must also have one of the schema's types; other keywords beside enum/const are
    // only accepted when they are about types.
    for (const auto& [key, value] : s.items()) {
      if (key == "enum" || key == "const" || key == "type" || !SupportedKeywords().count(key)) continue;
      if (key == "format" && !KnownFormat(value)) continue;
      return Error(ptr, Cat("'", key, "' beside 'enum'/'const' is not supported"));
    }
    std::vector<std::string> alternatives;
    for (const Json* v : values) {
      if (s.contains("type")) {
        const Json& t = s["type"];
        bool ok = false;
        if (t.is_string()) ok = HasType(*v, t.get<std::string>());
        if (t.is_array()) {
          for (const Json& e : t) ok = ok || (e.is_string() && HasType(*v, e.get<std::string>()));
        }
        if (!ok) continue;
      }
      std::string literal = GbnfLiteral(CompactJson(*v));
      bool seen = false;
      for (const auto& a : alternatives) seen = seen || a == literal;
      if (!seen) alternatives.push_back(std::move(literal));
    }
    if (alternatives.empty()) return Error(ptr, "no 'enum'/'const' value is accepted");
    std::string body;
    for (const auto& a : alternatives) Append(&body, body.empty() ? "" : " | ", a);
    return Define("enum", body);
  }

  StatusOr<std::string> Alternatives(const Json& list, const std::string& ptr, int depth) {
    if (!list.is_array() || list.empty()) return Error(ptr, "must be a non-empty array of schemas");
    std::vector<std::string> alternatives;
    for (size_t i = 0; i < list.size(); ++i) {
      if (list[i].is_boolean() && !list[i].get<bool>()) continue;
      R1_ASSIGN_OR_RETURN(std::string expr, Visit(list[i], Child(ptr, std::to_string(i)), depth + 1));
      bool seen = false;
      for (const auto& a : alternatives) seen = seen || a == expr;
      if (!seen) alternatives.push_back(expr);
    }
    if (alternatives.empty()) return Error(ptr, "no alternative accepts anything");
    return Union(alternatives);
  }

  // allOf of object schemas (and references to them): one object schema with every property
  // and every required name. Anything else would need an intersection of grammars.
  StatusOr<std::string> AllOf(const Json& s, const std::string& ptr, int depth) {
    const Json& list = s["allOf"];
    const std::string list_ptr = Child(ptr, "allOf");
    if (!list.is_array() || list.empty()) return Error(list_ptr, "must be a non-empty array of schemas");
    Json merged = Json::object();
    std::vector<std::pair<const Json*, std::string>> parts = {{&s, ptr}};
    for (size_t i = 0; i < list.size(); ++i) parts.emplace_back(&list[i], Child(list_ptr, std::to_string(i)));
    std::vector<std::pair<const Json*, std::string>> closed_parts;  // additionalProperties: false
    for (auto [part, part_ptr] : parts) {
      if (part->is_object() && part->contains("$ref") && part != &s) {
        for (const auto& [key, value] : part->items()) {
          if (key != "$ref" && SupportedKeywords().count(key)) {
            return Error(part_ptr, Cat("'", key, "' beside '$ref' is not supported"));
          }
        }
        R1_ASSIGN_OR_RETURN(const Json* target, Resolve((*part)["$ref"], Child(part_ptr, "$ref")));
        part = target;
      }
      if (part->is_boolean() && part->get<bool>()) continue;
      if (!part->is_object()) return Error(part_ptr, "'allOf' is supported for object schemas only");
      for (const auto& [key, value] : part->items()) {
        if (key == "allOf" && part == &s) continue;
        if (!SupportedKeywords().count(key)) continue;
        if (key == "type") {
          if (value != "object") return Error(part_ptr, "'allOf' is supported for object schemas only");
        } else if (key == "properties") {
          if (!value.is_object()) return Error(Child(part_ptr, key), "'properties' must be an object");
          Json& props = merged["properties"];
          if (props.is_null()) props = Json::object();
          for (const auto& [name, sub] : value.items()) {
            if (props.contains(name) && props[name] != sub) {
              return Error(Child(Child(part_ptr, key), name), "differing schemas for one property in 'allOf'");
            }
            props[name] = sub;
          }
        } else if (key == "required") {
          if (!value.is_array()) return Error(Child(part_ptr, key), "'required' must be an array");
          Json& required = merged["required"];
          if (required.is_null()) required = Json::array();
          for (const Json& name : value) {
            bool seen = false;
            for (const Json& r : required) seen = seen || r == name;
            if (!seen) required.push_back(name);
          }
        } else if (key == "additionalProperties" && value.is_boolean() && !value.get<bool>()) {
          closed_parts.emplace_back(part, part_ptr);
        } else {
          return Error(part_ptr, Cat("'", key, "' in an 'allOf' part is not supported"));
        }
      }
    }
    // A closed part admits no property that it does not list itself.
    for (const auto& [part, part_ptr] : closed_parts) {
      const Json* own = part->contains("properties") ? &(*part)["properties"] : nullptr;
      auto listed = [&](const std::string& name) { return own && own->is_object() && own->contains(name); };
      bool extra = false;
      if (merged.contains("properties")) {
        for (const auto& [name, sub] : merged["properties"].items()) extra = extra || !listed(name);
      }
      if (merged.contains("required")) {
        for (const Json& name : merged["required"]) extra = extra || !name.is_string() || !listed(name.get<std::string>());
      }
      if (extra) return Error(part_ptr, "'additionalProperties': false in an 'allOf' part that others extend is not supported");
    }
    merged["type"] = "object";
    if (!merged.contains("properties") && !merged.contains("required")) merged["additionalProperties"] = false;
    return Visit(merged, ptr, depth + 1);
  }

  StatusOr<const Json*> Resolve(const Json& ref, const std::string& ptr) {
    if (!ref.is_string()) return Error(ptr, "'$ref' must be a string");
    const std::string& text = ref.get_ref<const std::string&>();
    if (text.empty() || text[0] != '#') {
      return Error(ptr, Cat("'$ref' to '", text, "' is not supported (only references within the schema, '#/...')"));
    }
    const std::string path = PercentDecode(std::string_view(text).substr(1));
    const Json* at = &root_;
    if (!path.empty() && path[0] != '/') return Error(ptr, Cat("'$ref' '", text, "' is not a JSON pointer"));
    size_t pos = 0;
    while (pos < path.size()) {
      size_t next = path.find('/', pos + 1);
      if (next == std::string::npos) next = path.size();
      std::string token;
      for (size_t i = pos + 1; i < next; ++i) {
        if (path[i] == '~' && i + 1 < next && (path[i + 1] == '0' || path[i + 1] == '1')) {
          token += path[++i] == '0' ? '~' : '/';
        } else {
          token += path[i];
        }
      }
      pos = next;
      if (at->is_object() && at->contains(token)) {
        at = &(*at)[token];
      } else if (at->is_array() && !token.empty() && token.size() < 10 &&
                 token.find_first_not_of("0123456789") == std::string::npos && std::stoul(token) < at->size()) {
        at = &(*at)[std::stoul(token)];
      } else {
        return Error(ptr, Cat("'$ref' '", text, "' does not resolve"));
      }
    }
    return at;
  }

  StatusOr<std::string> Ref(const Json& ref, const std::string& ptr) {
    R1_ASSIGN_OR_RETURN(const Json* target, Resolve(ref, ptr));
    const std::string& text = ref.get_ref<const std::string&>();
    if (auto it = ref_names_.find(text); it != ref_names_.end()) return it->second;
    // Name the rule after the last pointer token, reduced to GBNF name characters.
    std::string base = "ref";
    const std::string last = text.substr(text.rfind('/') == std::string::npos ? 1 : text.rfind('/') + 1);
    std::string cleaned;
    for (char c : last) {
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) cleaned += c;
      else if (!cleaned.empty() && cleaned.back() != '-') cleaned += '-';
      if (cleaned.size() >= 40) break;
    }
    if (!cleaned.empty()) base = Cat("ref-", cleaned);
    std::string name = NewName(base);
    ref_names_.emplace(text, name);
    if (ref_names_.size() > kMaxRules) return Error(ptr, "too many references");
    pending_refs_.push_back({target, std::string(text.substr(1)), name});
    return name;
  }

  StatusOr<std::string> ObjectOf(const Json& s, const std::string& ptr, int depth) {
    Fixed("ws");
    const Json* properties = nullptr;
    if (s.contains("properties")) {
      properties = &s["properties"];
      if (!properties->is_object()) return Error(Child(ptr, "properties"), "'properties' must be an object");
    }
    std::vector<std::string> required;
    if (s.contains("required")) {
      const Json& r = s["required"];
      if (!r.is_array()) return Error(Child(ptr, "required"), "'required' must be an array of strings");
      for (const Json& name : r) {
        if (!name.is_string()) return Error(Child(ptr, "required"), "'required' must be an array of strings");
        if (std::find(required.begin(), required.end(), name.get<std::string>()) == required.end()) {
          required.push_back(name.get<std::string>());
        }
      }
    }
    const std::string additional_ptr = Child(ptr, "additionalProperties");
    const Json* additional = s.contains("additionalProperties") ? &s["additionalProperties"] : nullptr;
    const bool closed = additional && additional->is_boolean() && !additional->get<bool>();

    // Without properties: a map from any key to the additional schema.
    if ((!properties || properties->empty()) && required.empty()) {
      if (closed) return Define("object", "\"{\" ws \"}\"");
      std::string value;
      if (additional) {
        R1_ASSIGN_OR_RETURN(value, Visit(*additional, additional_ptr, depth + 1));
      } else {
        value = AnyValue();
      }
      const std::string member = Cat(Fixed("string"), " ws \":\" ws ", value, " ws");
      return Define("object", Cat("\"{\" ws ( ", member, " ( \",\" ws ", member, " )* )? \"}\""));
    }

    // Listed properties, each with its value rule; required ones first.
    struct Property {
      std::string name;
      std::string member;  // key, colon and value
      bool required;
    };
    std::vector<Property> props;
    auto is_required = [&](const std::string& name) {
      return std::find(required.begin(), required.end(), name) != required.end();
    };
    auto add = [&](const std::string& name, const std::string& value) -> Status {
      R1_ASSIGN_OR_RETURN(std::string member,
                          Define("kv", Cat(GbnfLiteral(CompactJson(Json(name))), " ws \":\" ws ", value, " ws")));
      props.push_back({name, member, is_required(name)});
      return absl::OkStatus();
    };
    if (properties) {
      for (const auto& [name, sub] : properties->items()) {
        const std::string sub_ptr = Child(Child(ptr, "properties"), name);
        if (sub.is_boolean() && !sub.get<bool>()) {
          if (is_required(name)) return Error(sub_ptr, "a required property whose schema is 'false' accepts nothing");
          continue;
        }
        R1_ASSIGN_OR_RETURN(std::string value, Visit(sub, sub_ptr, depth + 1));
        R1_RETURN_IF_ERROR(add(name, value));
      }
    }
    for (const std::string& name : required) {
      if (properties && properties->contains(name)) continue;
      if (closed) return Error(ptr, Cat("required property '", name, "' is not allowed by 'additionalProperties'"));
      std::string value;
      if (additional && !additional->is_boolean()) {
        R1_ASSIGN_OR_RETURN(value, Visit(*additional, additional_ptr, depth + 1));
      } else {
        value = AnyValue();
      }
      R1_RETURN_IF_ERROR(add(name, value));
    }
    std::stable_partition(props.begin(), props.end(), [](const Property& p) { return p.required; });

    std::vector<const Property*> optional;
    std::string body = "\"{\" ws ";
    bool first = true;
    for (const Property& p : props) {
      if (!p.required) {
        optional.push_back(&p);
        continue;
      }
      Append(&body, first ? "" : "\",\" ws ", p.member, " ");
      first = false;
    }
    if (!first) {
      // After a required member every optional one brings its own comma.
      for (const Property* p : optional) Append(&body, "( \",\" ws ", p->member, " )? ");
    } else if (!optional.empty()) {
      // No required member: the first present optional one has no comma. tail-i is the
      // comma-led optional members from i on; first-i starts at the first present one from i on.
      std::vector<std::string> tails(optional.size() + 1);
      for (size_t i = optional.size(); i-- > 1;) {
        std::string tail = Cat("( \",\" ws ", optional[i]->member, " )?");
        if (!tails[i + 1].empty()) Append(&tail, " ", tails[i + 1]);
        R1_ASSIGN_OR_RETURN(tails[i], Define("tail", tail));
      }
      std::string next_first;
      for (size_t i = optional.size(); i-- > 0;) {
        std::string alt = optional[i]->member;
        if (!tails[i + 1].empty()) Append(&alt, " ", tails[i + 1]);
        if (!next_first.empty()) Append(&alt, " | ", next_first);
        R1_ASSIGN_OR_RETURN(next_first, Define("first", alt));
      }
      Append(&body, next_first, "? ");
    }
    Append(&body, "\"}\"");
    return Define("object", body);
  }

  StatusOr<std::string> ArrayOf(const Json& s, const std::string& ptr, int depth) {
    Fixed("ws");
    // Positional schemas (prefixItems, or a draft-7 items array), then the schema of the rest
    // (items, or additionalItems after an items array); none when the rest is forbidden.
    const Json* prefix = nullptr;
    std::string prefix_key;
    const Json* rest = nullptr;
    std::string rest_key;
    if (s.contains("prefixItems")) {
      prefix = &s["prefixItems"], prefix_key = "prefixItems";
      if (s.contains("items")) rest = &s["items"], rest_key = "items";
    } else if (s.contains("items") && s["items"].is_array()) {
      prefix = &s["items"], prefix_key = "items";
      if (s.contains("additionalItems")) rest = &s["additionalItems"], rest_key = "additionalItems";
    } else if (s.contains("items")) {
      rest = &s["items"], rest_key = "items";
    }
    if (prefix && !prefix->is_array()) return Error(Child(ptr, prefix_key), "must be an array of schemas");
    const bool rest_forbidden = rest && rest->is_boolean() && !rest->get<bool>();

    uint64_t min = 0;
    std::optional<uint64_t> max;
    if (s.contains("minItems")) {
      R1_ASSIGN_OR_RETURN(min, CountValue(s["minItems"], Child(ptr, "minItems"), "minItems"));
      if (min > kMaxRepeat) return Error(Child(ptr, "minItems"), Cat("'minItems' above ", kMaxRepeat, " is not supported"));
    }
    if (s.contains("maxItems")) {
      R1_ASSIGN_OR_RETURN(uint64_t m, CountValue(s["maxItems"], Child(ptr, "maxItems"), "maxItems"));
      if (m < min) return Error(ptr, "'maxItems' below 'minItems' accepts nothing");
      max = std::min(m, kMaxRepeat);
    }
    const uint64_t prefix_size = prefix ? prefix->size() : 0;
    if (prefix_size > kMaxRepeat) return Error(Child(ptr, prefix_key), "too many positional schemas");
    if (rest_forbidden && (!max || *max > prefix_size)) max = prefix_size;
    if (max && *max < min) return Error(ptr, "'minItems' exceeds the items allowed; nothing is accepted");
    R1_RETURN_IF_ERROR(ChargeRepeat(max.value_or(min) + prefix_size));

    // Element rules: positions 1..p from prefix, the rest from `rest`.
    std::vector<std::string> positional;
    const uint64_t used_prefix = max ? std::min(prefix_size, *max) : prefix_size;
    for (uint64_t i = 0; i < used_prefix; ++i) {
      const Json& sub = (*prefix)[i];
      const std::string sub_ptr = Child(Child(ptr, prefix_key), std::to_string(i));
      if (sub.is_boolean() && !sub.get<bool>()) {
        if (i < min) return Error(sub_ptr, "a required position whose schema is 'false' accepts nothing");
        max = i;  // no array reaches past this position
        break;
      }
      R1_ASSIGN_OR_RETURN(std::string expr, Visit(sub, sub_ptr, depth + 1));
      positional.push_back(expr);
    }
    const uint64_t p = positional.size();
    std::string rest_expr;
    const bool rest_allowed = !max || *max > p;
    if (rest_allowed) {
      if (rest) {
        R1_ASSIGN_OR_RETURN(rest_expr, Visit(*rest, Child(ptr, rest_key), depth + 1));
      } else {
        rest_expr = AnyValue();
      }
    }

    // One element at position i (0-based): a comma before all but the first.
    auto element = [](const std::string& expr, uint64_t i) {
      return Cat(i == 0 ? "" : "\",\" ws ", expr, " ws");
    };
    std::string body;
    // Mandatory positions.
    const uint64_t mandatory_prefix = std::min(min, p);
    for (uint64_t i = 0; i < mandatory_prefix; ++i) Append(&body, element(positional[i], i), " ");
    if (min > p) {
      const uint64_t count = min - p;
      if (p == 0) {
        Append(&body, element(rest_expr, 0), " ");
        if (count > 1) {
          R1_ASSIGN_OR_RETURN(std::string more, Define("item", element(rest_expr, 1)));
          Append(&body, Repeat(more, count - 1, count - 1), " ");
        }
      } else {
        R1_ASSIGN_OR_RETURN(std::string more, Define("item", element(rest_expr, 1)));
        Append(&body, Repeat(more, count, count), " ");
      }
    }
    // Optional positions: the remaining prefix, then the rest up to max.
    std::string tail;
    const uint64_t after = std::max(min, p);  // positions filled before the rest's optional part
    if (rest_allowed && (!max || *max > after)) {
      std::optional<uint64_t> extra;
      if (max) extra = *max - after;
      if (after == 0) {
        std::string more;
        if (!extra || *extra > 1) {
          R1_ASSIGN_OR_RETURN(more, Define("item", element(rest_expr, 1)));
        }
        std::string seq = element(rest_expr, 0);
        if (!more.empty()) {
          std::optional<uint64_t> more_max;
          if (extra) more_max = *extra - 1;
          Append(&seq, " ", Repeat(more, 0, more_max));
        }
        R1_ASSIGN_OR_RETURN(tail, Define("items", seq));
        tail += "?";
      } else {
        R1_ASSIGN_OR_RETURN(std::string more, Define("item", element(rest_expr, 1)));
        tail = Repeat(more, 0, extra);
      }
    }
    for (uint64_t i = p; i-- > mandatory_prefix;) {
      std::string seq = element(positional[i], i);
      if (!tail.empty()) Append(&seq, " ", tail);
      R1_ASSIGN_OR_RETURN(std::string rule, Define("items", seq));
      tail = rule + "?";
    }
    Append(&body, tail);
    return Define("array", Cat("\"[\" ws ", body, body.empty() || body.back() == ' ' ? "" : " ", "\"]\""));
  }

  const Json& root_;
  std::vector<std::pair<std::string, std::string>> rules_;
  std::unordered_map<std::string, std::string> by_body_;
  std::unordered_set<std::string> names_ = {"root"};
  std::unordered_set<std::string> fixed_used_;
  std::unordered_map<std::string, std::string> ref_names_;
  std::deque<PendingRef> pending_refs_;
  size_t bytes_ = 0;
  uint64_t repeat_budget_ = 0;
  bool any_value_defined_ = false;
};

}  // namespace

StatusOr<std::string> JsonSchemaToGbnf(std::string_view schema) {
  try {
    std::optional<Json> root = ParseOrderedJson(schema);
    if (!root) return absl::InvalidArgumentError("the JSON Schema is not valid JSON");
    return Converter(*root).Run();
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(Cat("the JSON Schema could not be read: ", e.what()));
  }
}

std::string AnyJsonObjectGbnf() {
  StatusOr<std::string> gbnf = JsonSchemaToGbnf(R"({"type":"object"})");
  return gbnf.ok() ? *gbnf : std::string();
}

}  // namespace r1::grammar
