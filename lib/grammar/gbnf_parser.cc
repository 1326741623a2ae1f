// gbnf_parser.cc — recursive descent over GBNF, then the checks a matcher relies on.
#include "grammar/gbnf_parser.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"

namespace r1::grammar {
namespace {

constexpr uint32_t kMaxCodePoint = 0x10FFFF;

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A rule while parsing: alternatives as separate sequences, flattened at the end.
struct RuleDraft {
  std::string name;  // the source rule it belongs to (generated rules share their owner's)
  std::vector<std::vector<Element>> alternatives;
  bool defined = false;
  size_t defined_at = 0;     // byte offset of the definition (of the owner, when generated)
  size_t referenced_at = 0;  // first reference, for "undefined rule"
};

class Parser {
 public:
  Parser(std::string_view text, const GbnfLimits& limits) : text_(text), limits_(limits) {}

  StatusOr<std::shared_ptr<const Grammar>> Run(std::string_view root_name);

 private:
  // --- errors and positions ---
  Status ErrorAt(size_t pos, const std::string& what) const {
    int line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < pos && i < text_.size(); ++i) {
      if (text_[i] == '\n') ++line, line_start = i + 1;
    }
    int column = 1;  // counted in characters, not bytes
    for (size_t i = line_start; i < pos && i < text_.size(); ++i) {
      if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++column;
    }
    return absl::InvalidArgumentError(absl::StrFormat("line %d, column %d: %s", line, column, what));
  }
  Status Error(const std::string& what) const { return ErrorAt(pos_, what); }

  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }

  // Spaces, tabs and comments; newlines too when `newline_ok` (inside groups, after `|`).
  void SkipSpace(bool newline_ok) {
    while (!AtEnd()) {
      const char c = Peek();
      if (c == ' ' || c == '\t') {
        ++pos_;
      } else if (c == '#') {
        while (!AtEnd() && Peek() != '\n') ++pos_;
      } else if (newline_ok && (c == '\n' || c == '\r')) {
        ++pos_;
      } else {
        break;
      }
    }
  }

  // --- rules ---
  uint32_t RuleIndex(std::string_view name) {
    auto [it, inserted] = rule_ids_.try_emplace(std::string(name), 0);
    if (inserted) {
      it->second = static_cast<uint32_t>(rules_.size());
      rules_.push_back({.name = std::string(name)});
      rules_.back().referenced_at = pos_;
    }
    return it->second;
  }
  StatusOr<uint32_t> NewGeneratedRule() {
    if (rules_.size() >= limits_.max_rules) {
      return Error(absl::StrFormat("grammar is too large (over %u rules)", limits_.max_rules));
    }
    rules_.push_back({.name = rules_[current_rule_].name, .defined = true,
                      .defined_at = rules_[current_rule_].defined_at});
    return static_cast<uint32_t>(rules_.size() - 1);
  }
  Status CountElements(size_t n) {
    element_count_ += n;
    if (element_count_ > limits_.max_elements) {
      return Error(absl::StrFormat("grammar is too large (over %u elements)", limits_.max_elements));
    }
    return absl::OkStatus();
  }
  uint32_t ClassIndex(CharClass cls) {
    std::string key;
    for (const auto& r : cls.ranges) {
      key.append(reinterpret_cast<const char*>(&r.lo), 4).append(reinterpret_cast<const char*>(&r.hi), 4);
    }
    auto [it, inserted] = class_ids_.try_emplace(std::move(key), 0);
    if (inserted) {
      for (const auto& r : cls.ranges) {
        for (uint32_t c = r.lo; c <= r.hi && c < 128; ++c) cls.ascii[c >> 6] |= uint64_t{1} << (c & 63);
      }
      it->second = static_cast<uint32_t>(classes_.size());
      classes_.push_back(std::move(cls));
    }
    return it->second;
  }

  Status ParseRule();
  Status ParseAlternates(uint32_t rule, int depth);
  StatusOr<std::vector<Element>> ParseSequence(int depth);
  StatusOr<uint32_t> ParseChar();  // one character of a literal or class, escapes resolved
  StatusOr<uint32_t> ParseEscape();
  StatusOr<uint32_t> ParseCount();
  Status ParseLiteral(std::vector<Element>* seq);
  Status ParseClass(std::vector<Element>* seq);
  Status ApplyRepetition(std::vector<Element>* seq, size_t item_start, uint32_t min, uint32_t max,
                         bool unbounded);

  // Line and column of every rule's definition, in one pass over the text.
  std::vector<std::pair<int, int>> DefinitionLocations() const {
    std::vector<std::pair<size_t, size_t>> order;  // (offset, rule)
    for (size_t r = 0; r < rules_.size(); ++r) order.push_back({rules_[r].defined_at, r});
    std::sort(order.begin(), order.end());
    std::vector<std::pair<int, int>> out(rules_.size());
    int line = 1, column = 1;
    size_t i = 0;
    for (const auto& [offset, rule] : order) {
      for (; i < offset && i < text_.size(); ++i) {
        if (text_[i] == '\n') {
          ++line, column = 1;
        } else if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) {
          ++column;
        }
      }
      out[rule] = {line, column};
    }
    return out;
  }

  // --- checks after parsing ---
  Status CheckLeftRecursion(const Grammar& g) const;

  std::string_view text_;
  GbnfLimits limits_;
  size_t pos_ = 0;
  std::vector<RuleDraft> rules_;
  absl::flat_hash_map<std::string, uint32_t> rule_ids_;
  std::vector<CharClass> classes_;
  absl::flat_hash_map<std::string, uint32_t> class_ids_;
  uint32_t current_rule_ = 0;
  size_t element_count_ = 0;
};

Status Parser::ParseRule() {
  const size_t start = pos_;
  while (!AtEnd() && IsNameChar(Peek())) ++pos_;
  if (pos_ == start) return Error("expecting a rule name");
  const std::string_view name = text_.substr(start, pos_ - start);
  const uint32_t rule = RuleIndex(name);
  if (rules_[rule].defined) return ErrorAt(start, absl::StrFormat("rule '%s' is defined twice", name));
  rules_[rule].defined = true;
  rules_[rule].defined_at = start;
  current_rule_ = rule;
  SkipSpace(false);
  if (text_.substr(pos_, 3) != "::=") return Error("expecting '::='");
  pos_ += 3;
  SkipSpace(true);
  R1_RETURN_IF_ERROR(ParseAlternates(rule, 0));
  if (Peek() == '\r') ++pos_;
  if (Peek() == '\n') {
    ++pos_;
  } else if (!AtEnd()) {
    return Error(absl::StrFormat("unexpected '%c'; expecting the end of the rule", Peek()));
  }
  return absl::OkStatus();
}

Status Parser::ParseAlternates(uint32_t rule, int depth) {
  if (depth > static_cast<int>(limits_.max_nesting)) return Error("groups are nested too deeply");
  while (true) {
    R1_ASSIGN_OR_RETURN(std::vector<Element> seq, ParseSequence(depth));
    rules_[rule].alternatives.push_back(std::move(seq));
    R1_RETURN_IF_ERROR(CountElements(1));  // the kEnd closing the alternative
    if (Peek() != '|') return absl::OkStatus();
    ++pos_;
    SkipSpace(true);
  }
}

StatusOr<std::vector<Element>> Parser::ParseSequence(int depth) {
  const bool nested = depth > 0;
  std::vector<Element> seq;
  size_t item_start = std::string::npos;  // where the last item (what a postfix applies to) begins
  while (!AtEnd()) {
    const char c = Peek();
    const size_t before = seq.size();
    if (c == '"') {
      R1_RETURN_IF_ERROR(ParseLiteral(&seq));
      item_start = before;
    } else if (c == '[') {
      R1_RETURN_IF_ERROR(ParseClass(&seq));
      item_start = before;
    } else if (c == '.') {
      ++pos_;
      seq.push_back({Element::kChar, ClassIndex({.ranges = {{0, kMaxCodePoint}}})});
      item_start = before;
    } else if (IsNameChar(c)) {
      const size_t start = pos_;
      while (!AtEnd() && IsNameChar(Peek())) ++pos_;
      const std::string_view name = text_.substr(start, pos_ - start);
      const size_t saved = pos_;
      pos_ = start;  // so that a new entry records where it was first referenced
      const uint32_t rule = RuleIndex(name);
      pos_ = saved;
      if (rules_.size() > limits_.max_rules) {
        return Error(absl::StrFormat("grammar is too large (over %u rules)", limits_.max_rules));
      }
      seq.push_back({Element::kRule, rule});
      item_start = before;
    } else if (c == '(') {
      ++pos_;
      SkipSpace(true);
      R1_ASSIGN_OR_RETURN(uint32_t group, NewGeneratedRule());
      R1_RETURN_IF_ERROR(ParseAlternates(group, depth + 1));
      if (Peek() != ')') return Error("expecting ')'");
      ++pos_;
      seq.push_back({Element::kRule, group});
      item_start = before;
    } else if (c == '*' || c == '+' || c == '?' || c == '{') {
      if (item_start == std::string::npos) {
        return Error(absl::StrFormat("'%c' must follow something to repeat", c));
      }
      ++pos_;
      uint32_t min = 0, max = 0;
      bool unbounded = false;
      if (c == '*') {
        unbounded = true;
      } else if (c == '+') {
        min = 1, unbounded = true;
      } else if (c == '?') {
        max = 1;
      } else {
        SkipSpace(nested);
        R1_ASSIGN_OR_RETURN(min, ParseCount());
        SkipSpace(nested);
        max = min;
        if (Peek() == ',') {
          ++pos_;
          SkipSpace(nested);
          if (Peek() >= '0' && Peek() <= '9') {
            const size_t max_at = pos_;
            R1_ASSIGN_OR_RETURN(max, ParseCount());
            if (max < min) return ErrorAt(max_at, "repetition maximum is below its minimum");
          } else {
            unbounded = true;
          }
          SkipSpace(nested);
        }
        if (Peek() != '}') return Error("expecting '}'");
        ++pos_;
      }
      R1_RETURN_IF_ERROR(ApplyRepetition(&seq, item_start, min, max, unbounded));
    } else if (c == '<' || c == '!') {
      return Error("token references (<...>) are not supported");
    } else {
      break;  // '|', ')', end of line, or something the caller reports
    }
    R1_RETURN_IF_ERROR(CountElements(seq.size() > before ? seq.size() - before : 0));
    SkipSpace(nested);
  }
  return seq;
}

StatusOr<uint32_t> Parser::ParseCount() {
  const size_t start = pos_;
  uint64_t value = 0;
  while (!AtEnd() && Peek() >= '0' && Peek() <= '9') {
    value = std::min<uint64_t>(value * 10 + (Peek() - '0'), uint64_t{1} << 40);
    ++pos_;
  }
  if (pos_ == start) return Error("expecting a number");
  if (value > limits_.max_repetition) {
    return ErrorAt(start, absl::StrFormat("repetition count %d is over the limit of %u", value,
                                          limits_.max_repetition));
  }
  return static_cast<uint32_t>(value);
}

// x* is S ::= x S | (empty);  x{m,n} is m copies of x then a chain of n-m optional x's, each
// a rule, so the size stays linear in n and nested repetitions do not multiply.
Status Parser::ApplyRepetition(std::vector<Element>* seq, size_t item_start, uint32_t min,
                               uint32_t max, bool unbounded) {
  Element item;
  if (seq->size() - item_start == 1) {
    item = (*seq)[item_start];
  } else {
    R1_ASSIGN_OR_RETURN(uint32_t wrapped, NewGeneratedRule());
    rules_[wrapped].alternatives.push_back({seq->begin() + item_start, seq->end()});
    item = {Element::kRule, wrapped};
  }
  seq->resize(item_start);
  const uint64_t copies = min;
  R1_RETURN_IF_ERROR(CountElements(copies + 8));
  for (uint32_t i = 0; i < min; ++i) seq->push_back(item);
  if (unbounded) {
    R1_ASSIGN_OR_RETURN(uint32_t star, NewGeneratedRule());
    rules_[star].alternatives.push_back({item, {Element::kRule, star}});
    rules_[star].alternatives.push_back({});
    seq->push_back({Element::kRule, star});
  } else if (max > min) {
    uint32_t tail = 0;
    for (uint32_t k = 0; k < max - min; ++k) {
      R1_RETURN_IF_ERROR(CountElements(4));
      R1_ASSIGN_OR_RETURN(uint32_t opt, NewGeneratedRule());
      if (k == 0) {
        rules_[opt].alternatives.push_back({item});
      } else {
        rules_[opt].alternatives.push_back({item, {Element::kRule, tail}});
      }
      rules_[opt].alternatives.push_back({});
      tail = opt;
    }
    seq->push_back({Element::kRule, tail});
  }
  return absl::OkStatus();
}

StatusOr<uint32_t> Parser::ParseEscape() {
  const size_t at = pos_;
  ++pos_;  // the backslash
  if (AtEnd()) return Error("unfinished escape");
  const char c = Peek();
  ++pos_;
  int digits = 0;
  switch (c) {
    case 'n': return uint32_t{'\n'};
    case 'r': return uint32_t{'\r'};
    case 't': return uint32_t{'\t'};
    case '\\': case '"': case '[': case ']': case '-': case '^': case '/': case '\'':
      return static_cast<uint32_t>(c);
    case 'x': digits = 2; break;
    case 'u': digits = 4; break;
    case 'U': digits = 8; break;
    default:
      return ErrorAt(at, absl::StrFormat("unknown escape '\\%c'", c));
  }
  uint32_t value = 0;
  for (int i = 0; i < digits; ++i) {
    const int h = HexValue(Peek());
    if (h < 0) return Error(absl::StrFormat("expecting %d hex digits after '\\%c'", digits, c));
    value = value * 16 + h;
    ++pos_;
  }
  if (value > kMaxCodePoint) return ErrorAt(at, "code point is beyond U+10FFFF");
  return value;
}

StatusOr<uint32_t> Parser::ParseChar() {
  if (Peek() == '\\') return ParseEscape();
  const unsigned char b = static_cast<unsigned char>(Peek());
  int len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
  if (len == 0 || pos_ + len > text_.size()) return Error("invalid UTF-8");
  uint32_t cp = len == 1 ? b : (b & (0x7F >> len));
  for (int i = 1; i < len; ++i) {
    const unsigned char cb = static_cast<unsigned char>(text_[pos_ + i]);
    if ((cb & 0xC0) != 0x80) return Error("invalid UTF-8");
    cp = (cp << 6) | (cb & 0x3F);
  }
  static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[len] || cp > kMaxCodePoint || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return Error("invalid UTF-8");
  }
  pos_ += len;
  return cp;
}

Status Parser::ParseLiteral(std::vector<Element>* seq) {
  ++pos_;  // opening quote
  while (Peek() != '"') {
    if (AtEnd() || Peek() == '\n' || Peek() == '\r') return Error("unterminated string literal");
    R1_ASSIGN_OR_RETURN(uint32_t cp, ParseChar());
    seq->push_back({Element::kChar, ClassIndex({.ranges = {{cp, cp}}})});
    if (seq->size() > limits_.max_elements) return Error("string literal is too long");
  }
  ++pos_;
  return absl::OkStatus();
}

Status Parser::ParseClass(std::vector<Element>* seq) {
  ++pos_;  // '['
  bool negated = false;
  if (Peek() == '^') negated = true, ++pos_;
  std::vector<CharClass::Range> ranges;
  while (Peek() != ']') {
    if (AtEnd() || Peek() == '\n' || Peek() == '\r') return Error("unterminated character class");
    R1_ASSIGN_OR_RETURN(uint32_t lo, ParseChar());
    uint32_t hi = lo;
    if (Peek() == '-' && Peek(1) != ']' && pos_ + 1 < text_.size()) {
      ++pos_;
      const size_t at = pos_;
      R1_ASSIGN_OR_RETURN(hi, ParseChar());
      if (hi < lo) return ErrorAt(at, "character range ends before it starts");
    }
    ranges.push_back({lo, hi});
    if (ranges.size() > limits_.max_elements) return Error("character class is too long");
  }
  ++pos_;
  std::sort(ranges.begin(), ranges.end(), [](auto a, auto b) { return a.lo < b.lo; });
  std::vector<CharClass::Range> merged;
  for (const auto& r : ranges) {
    if (!merged.empty() && r.lo <= merged.back().hi + 1) {
      merged.back().hi = std::max(merged.back().hi, r.hi);
    } else {
      merged.push_back(r);
    }
  }
  if (negated) {
    std::vector<CharClass::Range> inverse;
    uint32_t next = 0;
    for (const auto& r : merged) {
      if (r.lo > next) inverse.push_back({next, r.lo - 1});
      next = r.hi + 1;
    }
    if (next <= kMaxCodePoint) inverse.push_back({next, kMaxCodePoint});
    merged = std::move(inverse);
  }
  seq->push_back({Element::kChar, ClassIndex({.ranges = std::move(merged)})});
  return absl::OkStatus();
}

// A rule is left-recursive when it can reach itself through references that are preceded
// only by rules that can match the empty string. Expanding it would never stop, so it is
// refused. Linear-time: nullable rules by counting, then an iterative depth-first search.
Status Parser::CheckLeftRecursion(const Grammar& g) const {
  const size_t n = g.rules.size();
  std::vector<char> nullable(n, 0);
  // Alternatives as (rule, start); pending = references not yet known nullable.
  std::vector<uint32_t> alt_rule, pending;
  std::vector<std::vector<uint32_t>> uses(n);  // rule -> alternatives referencing it
  std::vector<uint32_t> queue;
  for (uint32_t r = 0; r < n; ++r) {
    for (uint32_t start : g.rules[r].alternatives) {
      const uint32_t alt = static_cast<uint32_t>(alt_rule.size());
      alt_rule.push_back(r);
      uint32_t count = 0;
      bool has_char = false;
      for (uint32_t p = start; g.elements[p].kind != Element::kEnd; ++p) {
        if (g.elements[p].kind == Element::kChar) has_char = true;
        else ++count, uses[g.elements[p].value].push_back(alt);
      }
      pending.push_back(has_char ? UINT32_MAX : count);
      if (!has_char && count == 0 && !nullable[r]) nullable[r] = 1, queue.push_back(r);
    }
  }
  while (!queue.empty()) {
    const uint32_t r = queue.back();
    queue.pop_back();
    for (uint32_t alt : uses[r]) {
      if (pending[alt] == UINT32_MAX || pending[alt] == 0) continue;
      if (--pending[alt] == 0 && !nullable[alt_rule[alt]]) {
        nullable[alt_rule[alt]] = 1;
        queue.push_back(alt_rule[alt]);
      }
    }
  }
  // Edges: rule -> rules it can start with.
  std::vector<std::vector<uint32_t>> first(n);
  for (uint32_t r = 0; r < n; ++r) {
    for (uint32_t start : g.rules[r].alternatives) {
      for (uint32_t p = start; g.elements[p].kind == Element::kRule; ++p) {
        first[r].push_back(g.elements[p].value);
        if (!nullable[g.elements[p].value]) break;
      }
    }
  }
  std::vector<uint8_t> color(n, 0);  // 0 new, 1 on the path, 2 done
  std::vector<std::pair<uint32_t, size_t>> stack;
  for (uint32_t s = 0; s < n; ++s) {
    if (color[s]) continue;
    stack.push_back({s, 0});
    color[s] = 1;
    while (!stack.empty()) {
      auto& [r, i] = stack.back();
      if (i == first[r].size()) {
        color[r] = 2;
        stack.pop_back();
        continue;
      }
      const uint32_t next = first[r][i++];
      if (color[next] == 1) {
        const Rule& rule = g.rules[next];
        return absl::InvalidArgumentError(absl::StrFormat(
            "line %d, column %d: rule '%s' is left-recursive (it can reach itself without "
            "consuming input)",
            rule.line, rule.column, rule.name));
      }
      if (color[next] == 0) color[next] = 1, stack.push_back({next, 0});
    }
  }
  return absl::OkStatus();
}

StatusOr<std::shared_ptr<const Grammar>> Parser::Run(std::string_view root_name) {
  SkipSpace(true);
  while (!AtEnd()) {
    R1_RETURN_IF_ERROR(ParseRule());
    SkipSpace(true);
  }
  for (const RuleDraft& r : rules_) {
    if (!r.defined) return ErrorAt(r.referenced_at, absl::StrFormat("undefined rule '%s'", r.name));
  }
  auto root = rule_ids_.find(std::string(root_name));
  if (root == rule_ids_.end()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("line 1, column 1: the grammar has no '%s' rule", root_name));
  }
  auto g = std::make_shared<Grammar>();
  g->root = root->second;
  g->classes = std::move(classes_);
  g->elements.reserve(element_count_);
  g->rules.resize(rules_.size());
  const std::vector<std::pair<int, int>> locations = DefinitionLocations();
  for (size_t r = 0; r < rules_.size(); ++r) {
    Rule& rule = g->rules[r];
    rule.name = rules_[r].name;
    rule.line = locations[r].first;
    rule.column = locations[r].second;
    for (auto& alt : rules_[r].alternatives) {
      rule.alternatives.push_back(static_cast<uint32_t>(g->elements.size()));
      g->elements.insert(g->elements.end(), alt.begin(), alt.end());
      g->elements.push_back({Element::kEnd, static_cast<uint32_t>(r)});
    }
  }
  R1_RETURN_IF_ERROR(CheckLeftRecursion(*g));
  return std::shared_ptr<const Grammar>(std::move(g));
}

}  // namespace

StatusOr<std::shared_ptr<const Grammar>> ParseGbnf(std::string_view text, std::string_view root,
                                                   const GbnfLimits& limits) {
  Parser parser(text, limits);
  return parser.Run(root);
}

}  // namespace r1::grammar
