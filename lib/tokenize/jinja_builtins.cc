// jinja_builtins.h: each filter, test and method follows its Jinja2 / Python definition for the
// value kinds templates use; anything else is an InvalidArgument error rather than a guess.
#include "tokenize/jinja_builtins.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "tokenize/chat_render.h"
#include "tokenize/utf8.h"
#include "utf8proc.h"

namespace r1::internal::jinja {
namespace {

using VK = Value::Kind;

Status Bad(std::string_view what, std::string_view name) {
  return absl::InvalidArgumentError(absl::StrCat(std::string(what), " '", std::string(name), "'"));
}

Status ArgError(std::string_view name, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(std::string(name), ": ", std::string(what)));
}


std::vector<std::string> Chars(std::string_view s) {
  std::vector<size_t> starts = CharStarts(s);
  std::vector<std::string> out;
  for (size_t k = 0; k + 1 < starts.size(); ++k) {
    out.emplace_back(s.substr(starts[k], starts[k + 1] - starts[k]));
  }
  return out;
}

// Case mapping by character, as Python's str.upper()/lower().
std::string MapCase(std::string_view s, bool upper) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t start = pos;
    const int32_t cp = DecodeUtf8(s, &pos);
    if (cp < 0) {
      out.append(s.substr(start, pos - start));
      continue;
    }
    AppendUtf8(static_cast<char32_t>(upper ? utf8proc_toupper(cp) : utf8proc_tolower(cp)), &out);
  }
  return out;
}

bool IsCased(std::string_view s, bool upper) {
  bool any = false;
  size_t pos = 0;
  while (pos < s.size()) {
    const int32_t cp = DecodeUtf8(s, &pos);
    if (cp < 0) continue;
    if (utf8proc_toupper(cp) != utf8proc_tolower(cp)) {
      any = true;
      if ((upper ? utf8proc_toupper(cp) : utf8proc_tolower(cp)) != cp) return false;
    }
  }
  return any;
}

std::string Capitalize(std::string_view s) {
  std::vector<std::string> chars = Chars(s);
  std::string out;
  for (size_t k = 0; k < chars.size(); ++k) out += MapCase(chars[k], k == 0);
  return out;
}

bool IsAsciiSpace(char c) {
  return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

// Python's str.strip(chars) family; chars null strips whitespace.
std::string Strip(std::string_view s, const Value* chars, bool left, bool right) {
  if (chars == nullptr || chars->kind == VK::kNone) {
    const std::string_view stripped = PythonStrip(s);
    if (stripped.empty()) return "";
    const size_t lead = static_cast<size_t>(stripped.data() - s.data());
    const size_t begin = left ? lead : 0;
    const size_t end = right ? lead + stripped.size() : s.size();
    return std::string(s.substr(begin, end - begin));
  }
  if (chars->kind != VK::kString) return std::string(s);
  const std::vector<std::string> set = Chars(chars->s);
  auto in_set = [&](std::string_view c) { return std::find(set.begin(), set.end(), c) != set.end(); };
  std::vector<std::string> cs = Chars(s);
  size_t b = 0, e = cs.size();
  if (left) {
    while (b < e && in_set(cs[b])) ++b;
  }
  if (right) {
    while (e > b && in_set(cs[e - 1])) --e;
  }
  std::string out;
  for (size_t k = b; k < e; ++k) out += cs[k];
  return out;
}

StatusOr<std::string> Replace(std::string_view s, std::string_view from, std::string_view to,
                              int64_t count) {
  std::string out;
  if (from.empty()) {
    // Python inserts `to` around every character.
    std::vector<std::string> cs = Chars(s);
    int64_t n = 0;
    for (size_t k = 0; k <= cs.size(); ++k) {
      if (count < 0 || n < count) {
        out += to;
        ++n;
      }
      if (k < cs.size()) out += cs[k];
      R1_RETURN_IF_ERROR(CheckStringSize(out.size()));
    }
    return out;
  }
  size_t pos = 0;
  int64_t n = 0;
  while (count < 0 || n < count) {
    const size_t hit = s.find(from, pos);
    if (hit == std::string_view::npos) break;
    out.append(s.substr(pos, hit - pos));
    out.append(to);
    R1_RETURN_IF_ERROR(CheckStringSize(out.size()));
    pos = hit + from.size();
    ++n;
  }
  out.append(s.substr(pos));
  return out;
}

StatusOr<Value> ToList(const Value& v, std::string_view who) {
  switch (v.kind) {
    case VK::kList: {
      Value list = v;
      list.is_tuple = false;
      return list;
    }
    case VK::kUndefined:
      return Value::MakeList({});
    case VK::kString: {
      List out;
      for (std::string& c : Chars(v.s)) out.push_back(Value::String(std::move(c)));
      return Value::MakeList(std::move(out));
    }
    case VK::kDict: {
      List out;
      for (const auto& [k, e] : v.dict->entries) out.push_back(Value::String(k));
      return Value::MakeList(std::move(out));
    }
    default:
      return ArgError(who, absl::StrCat("a ", KindName(v), " is not iterable"));
  }
}

Value Items(const Value& dict) {
  List out;
  for (const auto& [k, e] : dict.dict->entries) out.push_back(Value::MakeTuple({Value::String(k), e}));
  return Value::MakeList(std::move(out));
}

// Jinja's attribute lookup for map/selectattr: a dict key, dotted for nested keys.
Value GetAttrPath(const Value& v, std::string_view path) {
  Value cur = v;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    std::string_view part = path.substr(start, dot == std::string_view::npos ? path.npos : dot - start);
    if (cur.kind != VK::kDict) return Value::Undefined(std::string(part));
    const Value* next = cur.dict->Find(part);
    if (next == nullptr) return Value::Undefined(std::string(part));
    cur = *next;
    if (dot == std::string_view::npos) return cur;
    start = dot + 1;
  }
}

StatusOr<int64_t> IntArg(const Value* v, int64_t fallback, std::string_view who) {
  if (v == nullptr || v->kind == VK::kNone) return fallback;
  if (v->kind == VK::kInt) return v->i;
  if (v->kind == VK::kBool) return v->b ? 1 : 0;
  return ArgError(who, "expected an integer argument");
}

StatusOr<std::string> StrArg(const Value* v, std::string_view who) {
  if (v == nullptr || v->kind != VK::kString) return ArgError(who, "expected a string argument");
  return v->s;
}

Status NeedString(const Value& v, std::string_view who) {
  if (v.kind == VK::kString) return absl::OkStatus();
  return ArgError(who, absl::StrCat("expected a string, got ", KindName(v)));
}

// select/reject/selectattr/rejectattr: the items for which the test (args from `first`) holds
// (or, with `reject`, fails).
StatusOr<Value> Select(const Value& input, const Args& args, bool attr, bool reject,
                       std::string_view who) {
  R1_ASSIGN_OR_RETURN(Value items, ToList(input, who));
  size_t next = 0;
  std::string attribute;
  if (attr) {
    R1_ASSIGN_OR_RETURN(attribute, StrArg(args.Get(next++, ""), who));
  }
  std::string test;
  Args test_args;
  if (const Value* t = args.Get(next++, ""); t != nullptr) {
    R1_ASSIGN_OR_RETURN(test, StrArg(t, who));
    for (size_t k = next; k < args.pos.size(); ++k) test_args.pos.push_back(args.pos[k]);
  }
  List out;
  for (const Value& item : *items.list) {
    const Value subject = attr ? GetAttrPath(item, attribute) : item;
    bool keep;
    if (test.empty()) {
      keep = Truthy(subject);
    } else {
      R1_ASSIGN_OR_RETURN(keep, ApplyTest(test, subject, test_args));
    }
    if (keep != reject) out.push_back(item);
  }
  return Value::MakeList(std::move(out));
}

StatusOr<Value> Indent(const Value& input, const Args& args) {
  R1_RETURN_IF_ERROR(NeedString(input, "indent"));
  std::string pad = "    ";
  if (const Value* w = args.Get(0, "width"); w != nullptr) {
    if (w->kind == VK::kString) {
      pad = w->s;
    } else {
      R1_ASSIGN_OR_RETURN(int64_t n, IntArg(w, 4, "indent"));
      if (n < 0 || n > 256) return ArgError("indent", "width out of range");
      pad.assign(static_cast<size_t>(n), ' ');
    }
  }
  const Value* first = args.Get(1, "first");
  const Value* blank = args.Get(2, "blank");
  const bool indent_first = first != nullptr && Truthy(*first);
  const bool indent_blank = blank != nullptr && Truthy(*blank);
  std::string out;
  std::string_view s = input.s;
  size_t line = 0;
  while (true) {
    const size_t nl = s.find('\n');
    std::string_view text = s.substr(0, nl);
    if ((line > 0 || indent_first) && (indent_blank || !text.empty())) out += pad;
    out += text;
    R1_RETURN_IF_ERROR(CheckStringSize(out.size()));
    if (nl == std::string_view::npos) break;
    out.push_back('\n');
    s.remove_prefix(nl + 1);
    ++line;
  }
  return Value::String(std::move(out));
}

StatusOr<Value> Round(const Value& input, const Args& args) {
  if (!input.is_number()) return ArgError("round", "expected a number");
  R1_ASSIGN_OR_RETURN(int64_t precision, IntArg(args.Get(0, "precision"), 0, "round"));
  std::string method = "common";
  if (const Value* m = args.Get(1, "method"); m != nullptr) {
    R1_ASSIGN_OR_RETURN(method, StrArg(m, "round"));
  }
  if (precision < -308 || precision > 308) return ArgError("round", "precision out of range");
  const double scale = std::pow(10.0, static_cast<double>(precision));
  const double x = input.AsDouble() * scale;
  double r;
  if (method == "common") {
    // Python's round(int, n) keeps an int.
    if (input.kind != VK::kFloat && precision >= 0) return Value::Int(input.kind == VK::kBool ? input.b : input.i);
    r = std::nearbyint(x);  // to nearest, ties to even, as Python's round()
  } else if (method == "ceil") {
    r = std::ceil(x);
  } else if (method == "floor") {
    r = std::floor(x);
  } else {
    return ArgError("round", "method must be common, ceil or floor");
  }
  return Value::Float(r / scale);
}

StatusOr<Value> ToInt(const Value& input, const Args& args) {
  const Value* def = args.Get(0, "default");
  const Value fallback = def != nullptr ? *def : Value::Int(0);
  switch (input.kind) {
    case VK::kInt:
      return input;
    case VK::kBool:
      return Value::Int(input.b);
    case VK::kFloat:
      if (!std::isfinite(input.f) || std::fabs(input.f) >= 9.2e18) return fallback;
      return Value::Int(static_cast<int64_t>(input.f));
    case VK::kString: {
      std::string t(PythonStrip(input.s));
      if (t.empty()) return fallback;
      char* end = nullptr;
      errno = 0;
      const long long v = std::strtoll(t.c_str(), &end, 10);
      if (end == t.c_str() + t.size() && errno == 0) return Value::Int(v);
      const double d = std::strtod(t.c_str(), &end);
      if (end == t.c_str() + t.size() && std::isfinite(d) && std::fabs(d) < 9.2e18) {
        return Value::Int(static_cast<int64_t>(d));
      }
      return fallback;
    }
    default:
      return fallback;
  }
}

StatusOr<Value> ToFloat(const Value& input, const Args& args) {
  const Value* def = args.Get(0, "default");
  const Value fallback = def != nullptr ? *def : Value::Float(0);
  if (input.is_number()) return Value::Float(input.AsDouble());
  if (input.kind == VK::kString) {
    std::string t(PythonStrip(input.s));
    char* end = nullptr;
    const double d = std::strtod(t.c_str(), &end);
    if (!t.empty() && end == t.c_str() + t.size()) return Value::Float(d);
  }
  return fallback;
}

StatusOr<size_t> Length(const Value& v) {
  switch (v.kind) {
    case VK::kString:
      return CharStarts(v.s).size() - 1;
    case VK::kList:
      return v.list->size();
    case VK::kDict:
      return v.dict->entries.size();
    case VK::kUndefined:
      return 0;
    default:
      return ArgError("length", absl::StrCat("a ", KindName(v), " has no length"));
  }
}

StatusOr<Value> Join(const Value& input, const Args& args) {
  R1_ASSIGN_OR_RETURN(Value items, ToList(input, "join"));
  std::string sep;
  if (const Value* s = args.Get(0, "d"); s != nullptr) sep = ToStr(*s);
  const Value* attribute = args.Get(1, "attribute");
  std::string out;
  for (size_t k = 0; k < items.list->size(); ++k) {
    if (k) out += sep;
    const Value& item = (*items.list)[k];
    out += ToStr(attribute != nullptr ? GetAttrPath(item, ToStr(*attribute)) : item);
    R1_RETURN_IF_ERROR(CheckStringSize(out.size()));
  }
  return Value::String(std::move(out));
}

StatusOr<Value> Map(const Value& input, const Args& args) {
  R1_ASSIGN_OR_RETURN(Value items, ToList(input, "map"));
  List out;
  if (const Value* attribute = args.Get(99, "attribute"); attribute != nullptr) {
    const Value* def = args.Get(99, "default");
    for (const Value& item : *items.list) {
      Value v = GetAttrPath(item, ToStr(*attribute));
      if (v.is_undefined() && def != nullptr) v = *def;
      out.push_back(std::move(v));
    }
    return Value::MakeList(std::move(out));
  }
  R1_ASSIGN_OR_RETURN(std::string filter, StrArg(args.Get(0, ""), "map"));
  Args rest;
  for (size_t k = 1; k < args.pos.size(); ++k) rest.pos.push_back(args.pos[k]);
  rest.kw = args.kw;
  for (const Value& item : *items.list) {
    R1_ASSIGN_OR_RETURN(Value v, ApplyFilter(filter, item, rest));
    out.push_back(std::move(v));
  }
  return Value::MakeList(std::move(out));
}

StatusOr<Value> FirstOrLast(const Value& input, bool first) {
  if (input.kind == VK::kString) {
    std::vector<std::string> cs = Chars(input.s);
    if (cs.empty()) return Value::Undefined("first");
    return Value::String(first ? cs.front() : cs.back());
  }
  R1_ASSIGN_OR_RETURN(Value items, ToList(input, first ? "first" : "last"));
  if (items.list->empty()) return Value::Undefined(first ? "first" : "last");
  return first ? items.list->front() : items.list->back();
}

// Python's str.startswith/endswith, with a string or a list of strings.
StatusOr<bool> Affix(std::string_view s, const Value* arg, bool prefix) {
  if (arg == nullptr) return ArgError(prefix ? "startswith" : "endswith", "missing argument");
  auto test = [&](std::string_view a) {
    return a.size() <= s.size() && (prefix ? s.substr(0, a.size()) == a : s.substr(s.size() - a.size()) == a);
  };
  if (arg->kind == VK::kString) return test(arg->s);
  if (arg->kind == VK::kList) {
    for (const Value& a : *arg->list) {
      if (a.kind == VK::kString && test(a.s)) return true;
    }
    return false;
  }
  return ArgError(prefix ? "startswith" : "endswith", "expected a string");
}

}  // namespace

std::vector<size_t> CharStarts(std::string_view s) {
  std::vector<size_t> starts;
  size_t pos = 0;
  while (pos < s.size()) {
    starts.push_back(pos);
    (void)DecodeUtf8(s, &pos);
  }
  starts.push_back(s.size());
  return starts;
}

Status CheckStringSize(size_t bytes) {
  if (bytes <= kMaxStringBytes) return absl::OkStatus();
  return absl::ResourceExhaustedError("chat template built a string larger than 16 MiB");
}

const Value* Args::Get(size_t index, std::string_view name) const {
  if (index < pos.size()) return &pos[index];
  for (const auto& [k, v] : kw) {
    if (k == name) return &v;
  }
  return nullptr;
}

std::vector<std::string> PySplit(std::string_view s, const std::string* sep, int64_t maxsplit) {
  std::vector<std::string> out;
  if (sep == nullptr) {
    size_t pos = 0;
    while (true) {
      while (pos < s.size() && IsAsciiSpace(s[pos])) ++pos;
      if (pos >= s.size()) break;
      if (maxsplit >= 0 && static_cast<int64_t>(out.size()) >= maxsplit) {
        std::string_view rest = s.substr(pos);
        while (!rest.empty() && IsAsciiSpace(rest.back())) rest.remove_suffix(1);
        out.emplace_back(rest);
        break;
      }
      size_t end = pos;
      while (end < s.size() && !IsAsciiSpace(s[end])) ++end;
      out.emplace_back(s.substr(pos, end - pos));
      pos = end;
    }
    return out;
  }
  size_t pos = 0;
  while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
    const size_t hit = s.find(*sep, pos);
    if (hit == std::string_view::npos) break;
    out.emplace_back(s.substr(pos, hit - pos));
    pos = hit + sep->size();
  }
  out.emplace_back(s.substr(pos));
  return out;
}

StatusOr<Value> ApplyFilter(std::string_view name, const Value& input, const Args& args) {
  if (name == "safe" || name == "e" || name == "escape" || name == "forceescape") {
    if (name != "safe") return Bad("unsupported filter", name);
    return input;
  }
  if (name == "string") return Value::String(ToStr(input));
  if (name == "trim" || name == "upper" || name == "lower" || name == "capitalize" ||
      name == "title" || name == "replace") {
    const std::string s = ToStr(input);
    if (name == "trim") return Value::String(Strip(s, args.Get(0, "chars"), true, true));
    if (name == "upper") return Value::String(MapCase(s, true));
    if (name == "lower") return Value::String(MapCase(s, false));
    if (name == "capitalize") return Value::String(Capitalize(s));
    if (name == "title") {
      // Jinja capitalizes each word that follows whitespace, '-', or an opening bracket.
      std::string out;
      bool start = true;
      for (std::string& c : Chars(s)) {
        const bool boundary = c.size() == 1 && (IsAsciiSpace(c[0]) || c[0] == '-' || c[0] == '(' ||
                                                c[0] == '{' || c[0] == '[' || c[0] == '<');
        out += boundary ? c : MapCase(c, start);
        start = boundary;
      }
      return Value::String(std::move(out));
    }
    R1_ASSIGN_OR_RETURN(std::string from, StrArg(args.Get(0, "old"), "replace"));
    R1_ASSIGN_OR_RETURN(std::string to, StrArg(args.Get(1, "new"), "replace"));
    R1_ASSIGN_OR_RETURN(int64_t count, IntArg(args.Get(2, "count"), -1, "replace"));
    R1_ASSIGN_OR_RETURN(std::string out, Replace(s, from, to, count));
    return Value::String(std::move(out));
  }
  if (name == "length" || name == "count") {
    R1_ASSIGN_OR_RETURN(size_t n, Length(input));
    return Value::Int(static_cast<int64_t>(n));
  }
  if (name == "default" || name == "d") {
    const Value* def = args.Get(0, "default_value");
    const Value* boolean = args.Get(1, "boolean");
    const bool use_default = input.is_undefined() || (boolean != nullptr && Truthy(*boolean) && !Truthy(input));
    if (!use_default) return input;
    return def != nullptr ? *def : Value::String("");
  }
  if (name == "first" || name == "last") return FirstOrLast(input, name == "first");
  if (name == "join") return Join(input, args);
  if (name == "tojson") {
    // transformers' signature: tojson(x, ensure_ascii=False, indent=None, ...).
    const Value* ascii = args.Get(0, "ensure_ascii");
    R1_ASSIGN_OR_RETURN(int64_t indent, IntArg(args.Get(1, "indent"), -1, "tojson"));
    if (indent > 64) return ArgError("tojson", "indent out of range");
    R1_ASSIGN_OR_RETURN(std::string json, ToJson(input, static_cast<int>(indent),
                                                 ascii != nullptr && Truthy(*ascii)));
    R1_RETURN_IF_ERROR(CheckStringSize(json.size()));
    return Value::String(std::move(json));
  }
  if (name == "items") {
    if (input.is_undefined()) return Value::MakeList({});
    if (input.kind != VK::kDict) return ArgError("items", "expected a mapping");
    return Items(input);
  }
  if (name == "list") return ToList(input, "list");
  if (name == "int") return ToInt(input, args);
  if (name == "float") return ToFloat(input, args);
  if (name == "abs") {
    if (input.kind == VK::kFloat) return Value::Float(std::fabs(input.f));
    if (input.kind == VK::kInt && input.i != INT64_MIN) return Value::Int(input.i < 0 ? -input.i : input.i);
    if (input.kind == VK::kBool) return Value::Int(input.b);
    return ArgError("abs", "expected a number");
  }
  if (name == "round") return Round(input, args);
  if (name == "map") return Map(input, args);
  if (name == "select" || name == "reject") return Select(input, args, false, name == "reject", name);
  if (name == "selectattr" || name == "rejectattr") {
    return Select(input, args, true, name == "rejectattr", name);
  }
  if (name == "reverse") {
    if (input.kind == VK::kString) {
      std::vector<std::string> cs = Chars(input.s);
      std::string out;
      for (auto it = cs.rbegin(); it != cs.rend(); ++it) out += *it;
      return Value::String(std::move(out));
    }
    R1_ASSIGN_OR_RETURN(Value items, ToList(input, "reverse"));
    List out(items.list->rbegin(), items.list->rend());
    return Value::MakeList(std::move(out));
  }
  if (name == "indent") return Indent(input, args);
  return Bad("unknown filter", name);
}

StatusOr<bool> ApplyTest(std::string_view name, const Value& v, const Args& args) {
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.kind == VK::kNone;
  if (name == "boolean") return v.kind == VK::kBool;
  if (name == "true") return v.kind == VK::kBool && v.b;
  if (name == "false") return v.kind == VK::kBool && !v.b;
  if (name == "string") return v.kind == VK::kString;
  if (name == "number") return v.is_number();
  if (name == "integer") return v.kind == VK::kInt;
  if (name == "float") return v.kind == VK::kFloat;
  if (name == "mapping") return v.kind == VK::kDict;
  if (name == "iterable" || name == "sequence") {
    return v.kind == VK::kList || v.kind == VK::kDict || v.kind == VK::kString ||
           v.kind == VK::kUndefined;
  }
  if (name == "callable") return v.kind == VK::kCallable;
  if (name == "lower" || name == "upper") {
    return v.kind == VK::kString && IsCased(v.s, name == "upper");
  }
  if (name == "odd" || name == "even" || name == "divisibleby") {
    if (v.kind != VK::kInt && v.kind != VK::kBool) return ArgError(name, "expected an integer");
    const int64_t x = v.kind == VK::kBool ? v.b : v.i;
    if (name == "odd") return x % 2 != 0;
    if (name == "even") return x % 2 == 0;
    R1_ASSIGN_OR_RETURN(int64_t d, IntArg(args.Get(0, "num"), 0, "divisibleby"));
    if (d == 0) return ArgError("divisibleby", "division by zero");
    if (d == -1) return true;
    return x % d == 0;
  }
  const Value* other = args.Get(0, "b");
  if (name == "eq" || name == "equalto" || name == "==" || name == "ne" || name == "!=" ||
      name == "lt" || name == "<" || name == "gt" || name == ">" || name == "le" ||
      name == "<=" || name == "ge" || name == ">=" || name == "in" || name == "sameas") {
    if (other == nullptr) return ArgError(name, "missing argument");
    if (name == "eq" || name == "equalto" || name == "==") return Equal(v, *other);
    if (name == "ne" || name == "!=") return !Equal(v, *other);
    if (name == "sameas") {
      if (v.kind != other->kind) return false;
      if (v.kind == VK::kList) return v.list == other->list;
      if (v.kind == VK::kDict) return v.dict == other->dict;
      return Equal(v, *other);
    }
    if (name == "in") {
      if (other->kind == VK::kString) return v.kind == VK::kString && other->s.find(v.s) != std::string::npos;
      if (other->kind == VK::kList) {
        return std::any_of(other->list->begin(), other->list->end(), [&](const Value& e) { return Equal(e, v); });
      }
      if (other->kind == VK::kDict) return v.kind == VK::kString && other->dict->Find(v.s) != nullptr;
      return ArgError("in", "right side is not a container");
    }
    if (name == "lt" || name == "<") return Less(v, *other);
    if (name == "gt" || name == ">") return Less(*other, v);
    R1_ASSIGN_OR_RETURN(bool less, Less(name == "le" || name == "<=" ? *other : v,
                                        name == "le" || name == "<=" ? v : *other));
    return !less;
  }
  return Bad("unknown test", name);
}

StatusOr<Value> CallMethod(const Value& obj, std::string_view name, const Args& args) {
  if (obj.kind == VK::kDict && !obj.is_namespace) {
    if (name == "get") {
      const Value* key = args.Get(0, "key");
      if (key == nullptr) return ArgError("get", "missing key");
      const Value* def = args.Get(1, "default");
      const Value* found = key->kind == VK::kString ? obj.dict->Find(key->s) : nullptr;
      if (found != nullptr) return *found;
      return def != nullptr ? *def : Value::None();
    }
    if (name == "items") return Items(obj);
    if (name == "keys" || name == "values") {
      List out;
      for (const auto& [k, e] : obj.dict->entries) out.push_back(name == "keys" ? Value::String(k) : e);
      return Value::MakeList(std::move(out));
    }
  }
  if (obj.kind == VK::kString) {
    const std::string& s = obj.s;
    if (name == "strip") return Value::String(Strip(s, args.Get(0, "chars"), true, true));
    if (name == "lstrip") return Value::String(Strip(s, args.Get(0, "chars"), true, false));
    if (name == "rstrip") return Value::String(Strip(s, args.Get(0, "chars"), false, true));
    if (name == "upper") return Value::String(MapCase(s, true));
    if (name == "lower") return Value::String(MapCase(s, false));
    if (name == "capitalize") return Value::String(Capitalize(s));
    if (name == "title") {
      std::string out;
      bool prev_cased = false;
      for (std::string& c : Chars(s)) {
        const std::string up = MapCase(c, true), low = MapCase(c, false);
        const bool cased = up != low;
        out += cased ? (prev_cased ? low : up) : c;
        prev_cased = cased;
      }
      return Value::String(std::move(out));
    }
    if (name == "startswith" || name == "endswith") {
      R1_ASSIGN_OR_RETURN(bool r, Affix(s, args.Get(0, "prefix"), name == "startswith"));
      return Value::Bool(r);
    }
    if (name == "split") {
      const Value* sep = args.Get(0, "sep");
      std::string sep_text;
      if (sep != nullptr && sep->kind != VK::kNone) {
        R1_ASSIGN_OR_RETURN(sep_text, StrArg(sep, "split"));
        if (sep_text.empty()) return ArgError("split", "empty separator");
      }
      R1_ASSIGN_OR_RETURN(int64_t maxsplit, IntArg(args.Get(1, "maxsplit"), -1, "split"));
      List out;
      for (std::string& part : PySplit(s, sep != nullptr && sep->kind != VK::kNone ? &sep_text : nullptr, maxsplit)) {
        out.push_back(Value::String(std::move(part)));
      }
      return Value::MakeList(std::move(out));
    }
    if (name == "replace") {
      R1_ASSIGN_OR_RETURN(std::string from, StrArg(args.Get(0, "old"), "replace"));
      R1_ASSIGN_OR_RETURN(std::string to, StrArg(args.Get(1, "new"), "replace"));
      R1_ASSIGN_OR_RETURN(int64_t count, IntArg(args.Get(2, "count"), -1, "replace"));
      R1_ASSIGN_OR_RETURN(std::string out, Replace(s, from, to, count));
      return Value::String(std::move(out));
    }
    if (name == "find" || name == "count") {
      R1_ASSIGN_OR_RETURN(std::string sub, StrArg(args.Get(0, "sub"), name));
      if (name == "find") {
        const size_t hit = s.find(sub);
        if (hit == std::string::npos) return Value::Int(-1);
        return Value::Int(static_cast<int64_t>(CharStarts(s.substr(0, hit)).size() - 1));
      }
      if (sub.empty()) return Value::Int(static_cast<int64_t>(CharStarts(s).size()));
      int64_t n = 0;
      for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
      return Value::Int(n);
    }
    if (name == "join") {
      Args join_args;
      join_args.pos.push_back(obj);
      if (args.pos.empty()) return ArgError("join", "missing argument");
      return Join(args.pos[0], join_args);
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("a ", KindName(obj), " has no method '", std::string(name), "'"));
}

}  // namespace r1::internal::jinja
