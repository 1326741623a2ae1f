// jinja_parser.h: recursive descent with Jinja's operator precedence (lowest first): `x if c
// else y`, or, and, not, comparisons and `in`, + -, ~, * / // %, **, unary -, then filters and
// tests, then attribute, subscript and call postfixes on a primary.
#include "tokenize/jinja_parser.h"

#include <charconv>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "tokenize/jinja_lexer.h"

namespace r1::internal::jinja {
namespace {

using K = Token::Kind;

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : toks_(std::move(tokens)) {}

  StatusOr<Template> Run() {
    Template t;
    std::string end;
    R1_RETURN_IF_ERROR(ParseBody(&t.body, {}, &end));
    return t;
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    return toks_[std::min(pos_ + ahead, toks_.size() - 1)];
  }
  const Token& Next() {
    const Token& t = Peek();
    if (pos_ < toks_.size() - 1) ++pos_;
    return t;
  }
  bool IsOp(std::string_view op, size_t ahead = 0) const {
    return Peek(ahead).kind == K::kOp && Peek(ahead).text == op;
  }
  bool IsName(std::string_view name, size_t ahead = 0) const {
    return Peek(ahead).kind == K::kName && Peek(ahead).text == name;
  }
  bool AcceptOp(std::string_view op) {
    if (!IsOp(op)) return false;
    Next();
    return true;
  }
  bool AcceptName(std::string_view name) {
    if (!IsName(name)) return false;
    Next();
    return true;
  }
  Status Error(std::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat("chat template line ", Peek().line, ": ", std::string(what)));
  }
  Status ExpectOp(std::string_view op) {
    if (AcceptOp(op)) return absl::OkStatus();
    return Error(absl::StrCat("expected '", std::string(op), "'"));
  }
  Status ExpectBlockEnd() {
    if (Peek().kind == K::kBlockEnd) {
      Next();
      return absl::OkStatus();
    }
    return Error("expected '%}'");
  }
  StatusOr<std::string> ExpectName() {
    if (Peek().kind != K::kName) return Error("expected a name");
    return Next().text;
  }

  // Parses nodes until a block tag whose keyword is in `ends` (or the end of the source when
  // `ends` is empty); *end receives that keyword, with the tag's `{%` and keyword consumed.
  Status ParseBody(Body* body, std::initializer_list<std::string_view> ends, std::string* end) {
    if (++depth_ > kMaxNesting) return Error("blocks nested too deeply");
    while (true) {
      const Token& t = Peek();
      if (t.kind == K::kEof) {
        if (ends.size() == 0) break;
        return Error(absl::StrCat("missing {% ", std::string(*(ends.end() - 1)), " %}"));
      }
      if (t.kind == K::kText) {
        auto n = MakeNode(Node::Kind::kText);
        n->text = Next().text;
        body->push_back(std::move(n));
        continue;
      }
      if (t.kind == K::kVarBegin) {
        Next();
        auto n = MakeNode(Node::Kind::kOutput);
        R1_ASSIGN_OR_RETURN(n->expr, ParseExpr());
        if (Peek().kind != K::kVarEnd) return Error("expected '}}'");
        Next();
        body->push_back(std::move(n));
        continue;
      }
      if (t.kind != K::kBlockBegin) return Error("unexpected token");
      Next();
      if (Peek().kind != K::kName) return Error("expected a statement keyword");
      const std::string kw = Peek().text;
      for (std::string_view e : ends) {
        if (kw == e) {
          Next();
          *end = kw;
          --depth_;
          return absl::OkStatus();
        }
      }
      Next();
      R1_ASSIGN_OR_RETURN(auto node, ParseStatement(kw));
      body->push_back(std::move(node));
    }
    --depth_;
    return absl::OkStatus();
  }

  std::unique_ptr<Node> MakeNode(Node::Kind kind) {
    auto n = std::make_unique<Node>();
    n->kind = kind;
    n->line = Peek().line;
    return n;
  }

  StatusOr<std::unique_ptr<Node>> ParseStatement(const std::string& kw) {
    std::string end;
    if (kw == "if") {
      auto n = MakeNode(Node::Kind::kIf);
      R1_ASSIGN_OR_RETURN(ExprPtr cond, ParseExpr());
      n->conds.push_back(std::move(cond));
      R1_RETURN_IF_ERROR(ExpectBlockEnd());
      while (true) {
        Body b;
        R1_RETURN_IF_ERROR(ParseBody(&b, {"elif", "else", "endif"}, &end));
        n->bodies.push_back(std::move(b));
        if (end == "endif") break;
        if (end == "else") {
          R1_RETURN_IF_ERROR(ExpectBlockEnd());
          Body e;
          R1_RETURN_IF_ERROR(ParseBody(&e, {"endif"}, &end));
          n->bodies.push_back(std::move(e));
          break;
        }
        R1_ASSIGN_OR_RETURN(ExprPtr c, ParseExpr());
        n->conds.push_back(std::move(c));
        R1_RETURN_IF_ERROR(ExpectBlockEnd());
      }
      R1_RETURN_IF_ERROR(ExpectBlockEnd());
      return n;
    }
    if (kw == "for") {
      auto n = MakeNode(Node::Kind::kFor);
      R1_RETURN_IF_ERROR(ParseTargets(&n->targets));
      if (!AcceptName("in")) return Error("expected 'in'");
      R1_ASSIGN_OR_RETURN(n->expr, ParseOr());
      if (AcceptName("if")) {
        R1_ASSIGN_OR_RETURN(n->cond, ParseOr());
      }
      AcceptName("recursive");
      R1_RETURN_IF_ERROR(ExpectBlockEnd());
      ++loop_depth_;
      R1_RETURN_IF_ERROR(ParseBody(&n->body, {"else", "endfor"}, &end));
      --loop_depth_;
      if (end == "else") {
        R1_RETURN_IF_ERROR(ExpectBlockEnd());
        R1_RETURN_IF_ERROR(ParseBody(&n->else_body, {"endfor"}, &end));
      }
      R1_RETURN_IF_ERROR(ExpectBlockEnd());
      return n;
    }
    if (kw == "set") {
      auto n = MakeNode(Node::Kind::kSet);
      if (Peek().kind == K::kName && IsOp(".", 1)) {
        n->ns_name = Next().text;
        Next();
        R1_ASSIGN_OR_RETURN(n->attr, ExpectName());
      } else {
        R1_RETURN_IF_ERROR(ParseTargets(&n->targets));
      }
      if (Peek().kind == K::kBlockEnd) {
        if (n->targets.size() != 1) return Error("a block set takes one name");
        n->kind = Node::Kind::kSetBlock;
        Next();
        R1_RETURN_IF_ERROR(ParseBody(&n->body, {"endset"}, &end));
        R1_RETURN_IF_ERROR(ExpectBlockEnd());
        return n;
      }
      R1_RETURN_IF_ERROR(ExpectOp("="));
      R1_ASSIGN_OR_RETURN(n->expr, ParseTupleOrExpr());
      R1_RETURN_IF_ERROR(ExpectBlockEnd());
      return n;
    }
    if (kw == "macro") {
      auto n = MakeNode(Node::Kind::kMacro);
      R1_ASSIGN_OR_RETURN(n->name, ExpectName());
      R1_RETURN_IF_ERROR(ExpectOp("("));
      while (!AcceptOp(")")) {
        if (!n->params.empty()) R1_RETURN_IF_ERROR(ExpectOp(","));
        if (AcceptOp(")")) break;
        R1_ASSIGN_OR_RETURN(std::string p, ExpectName());
        n->params.push_back(p);
        ExprPtr def;
        if (AcceptOp("=")) {
          R1_ASSIGN_OR_RETURN(def, ParseExpr());
        }
        n->defaults.push_back(std::move(def));
      }
      R1_RETURN_IF_ERROR(ExpectBlockEnd());
      R1_RETURN_IF_ERROR(ParseBody(&n->body, {"endmacro"}, &end));
      AcceptName(n->name);
      R1_RETURN_IF_ERROR(ExpectBlockEnd());
      return n;
    }
    if (kw == "break" || kw == "continue") {
      if (loop_depth_ == 0) return Error(absl::StrCat(kw, " outside a loop"));
      auto n = MakeNode(kw == "break" ? Node::Kind::kBreak : Node::Kind::kContinue);
      R1_RETURN_IF_ERROR(ExpectBlockEnd());
      return n;
    }
    if (kw == "generation") {
      auto n = MakeNode(Node::Kind::kBlock);
      R1_RETURN_IF_ERROR(ExpectBlockEnd());
      R1_RETURN_IF_ERROR(ParseBody(&n->body, {"endgeneration"}, &end));
      R1_RETURN_IF_ERROR(ExpectBlockEnd());
      return n;
    }
    return Error(absl::StrCat("unsupported statement '", kw, "'"));
  }

  // `a` or `a, b` (optionally parenthesized).
  Status ParseTargets(std::vector<std::string>* targets) {
    const bool paren = AcceptOp("(");
    do {
      R1_ASSIGN_OR_RETURN(std::string name, ExpectName());
      targets->push_back(name);
    } while (AcceptOp(","));
    if (paren) R1_RETURN_IF_ERROR(ExpectOp(")"));
    return absl::OkStatus();
  }

  ExprPtr MakeExpr(Expr::Kind kind, int line) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = line;
    return e;
  }

  // `1, 2` on the right of a set is a tuple.
  StatusOr<ExprPtr> ParseTupleOrExpr() {
    const int line = Peek().line;
    R1_ASSIGN_OR_RETURN(ExprPtr first, ParseExpr());
    if (!IsOp(",")) return first;
    auto list = MakeExpr(Expr::Kind::kList, line);
    list->name = "tuple";
    list->args.push_back(std::move(first));
    while (AcceptOp(",")) {
      if (Peek().kind == K::kBlockEnd) break;
      R1_ASSIGN_OR_RETURN(ExprPtr e, ParseExpr());
      list->args.push_back(std::move(e));
    }
    return list;
  }

  StatusOr<ExprPtr> ParseExpr() {
    if (++depth_ > kMaxNesting) return Error("expression nested too deeply");
    auto r = ParseCond();
    --depth_;
    return r;
  }

  StatusOr<ExprPtr> ParseCond() {
    const int line = Peek().line;
    R1_ASSIGN_OR_RETURN(ExprPtr value, ParseOr());
    while (AcceptName("if")) {
      auto c = MakeExpr(Expr::Kind::kCond, line);
      R1_ASSIGN_OR_RETURN(ExprPtr cond, ParseOr());
      ExprPtr other;
      if (AcceptName("else")) {
        R1_ASSIGN_OR_RETURN(other, ParseCond());
      }
      c->args.push_back(std::move(cond));
      c->args.push_back(std::move(value));
      c->args.push_back(std::move(other));
      value = std::move(c);
    }
    return value;
  }

  StatusOr<ExprPtr> Binary(Expr::Kind kind, std::string op, ExprPtr l, ExprPtr r, int line) {
    auto e = MakeExpr(kind, line);
    e->name = std::move(op);
    e->args.push_back(std::move(l));
    e->args.push_back(std::move(r));
    return e;
  }

  StatusOr<ExprPtr> ParseOr() {
    R1_ASSIGN_OR_RETURN(ExprPtr l, ParseAnd());
    while (IsName("or")) {
      const int line = Next().line;
      R1_ASSIGN_OR_RETURN(ExprPtr r, ParseAnd());
      R1_ASSIGN_OR_RETURN(l, Binary(Expr::Kind::kOr, "or", std::move(l), std::move(r), line));
    }
    return l;
  }

  StatusOr<ExprPtr> ParseAnd() {
    R1_ASSIGN_OR_RETURN(ExprPtr l, ParseNot());
    while (IsName("and")) {
      const int line = Next().line;
      R1_ASSIGN_OR_RETURN(ExprPtr r, ParseNot());
      R1_ASSIGN_OR_RETURN(l, Binary(Expr::Kind::kAnd, "and", std::move(l), std::move(r), line));
    }
    return l;
  }

  StatusOr<ExprPtr> ParseNot() {
    if (IsName("not")) {
      const int line = Next().line;
      if (++depth_ > kMaxNesting) return Error("expression nested too deeply");
      R1_ASSIGN_OR_RETURN(ExprPtr operand, ParseNot());
      --depth_;
      auto e = MakeExpr(Expr::Kind::kNot, line);
      e->args.push_back(std::move(operand));
      return e;
    }
    return ParseCompare();
  }

  // Python chains comparisons: a < b < c is a < b and b < c (b evaluated once), kept as one
  // kCompare node with the operators in kwargs.
  StatusOr<ExprPtr> ParseCompare() {
    const int line = Peek().line;
    R1_ASSIGN_OR_RETURN(ExprPtr first, ParseAdd());
    ExprPtr chain;
    while (true) {
      std::string op;
      if (Peek().kind == K::kOp &&
          (IsOp("==") || IsOp("!=") || IsOp("<") || IsOp(">") || IsOp("<=") || IsOp(">="))) {
        op = Next().text;
      } else if (IsName("in")) {
        Next();
        op = "in";
      } else if (IsName("not") && IsName("in", 1)) {
        Next();
        Next();
        op = "not in";
      } else {
        return chain ? std::move(chain) : std::move(first);
      }
      if (!chain) {
        chain = MakeExpr(Expr::Kind::kCompare, line);
        chain->args.push_back(std::move(first));
      }
      R1_ASSIGN_OR_RETURN(ExprPtr r, ParseAdd());
      chain->args.push_back(std::move(r));
      chain->kwargs.emplace_back(op, nullptr);
    }
  }

  StatusOr<ExprPtr> ParseAdd() {
    R1_ASSIGN_OR_RETURN(ExprPtr l, ParseConcat());
    while (IsOp("+") || IsOp("-")) {
      const Token& t = Next();
      const int line = t.line;
      std::string op = t.text;
      R1_ASSIGN_OR_RETURN(ExprPtr r, ParseConcat());
      R1_ASSIGN_OR_RETURN(l, Binary(Expr::Kind::kBinary, op, std::move(l), std::move(r), line));
    }
    return l;
  }

  StatusOr<ExprPtr> ParseConcat() {
    R1_ASSIGN_OR_RETURN(ExprPtr l, ParseMul());
    while (IsOp("~")) {
      const int line = Next().line;
      R1_ASSIGN_OR_RETURN(ExprPtr r, ParseMul());
      R1_ASSIGN_OR_RETURN(l, Binary(Expr::Kind::kBinary, "~", std::move(l), std::move(r), line));
    }
    return l;
  }

  StatusOr<ExprPtr> ParseMul() {
    R1_ASSIGN_OR_RETURN(ExprPtr l, ParsePow());
    while (IsOp("*") || IsOp("/") || IsOp("//") || IsOp("%")) {
      const Token& t = Next();
      const int line = t.line;
      std::string op = t.text;
      R1_ASSIGN_OR_RETURN(ExprPtr r, ParsePow());
      R1_ASSIGN_OR_RETURN(l, Binary(Expr::Kind::kBinary, op, std::move(l), std::move(r), line));
    }
    return l;
  }

  StatusOr<ExprPtr> ParsePow() {
    R1_ASSIGN_OR_RETURN(ExprPtr l, ParseUnary(true));
    while (IsOp("**")) {
      const int line = Next().line;
      R1_ASSIGN_OR_RETURN(ExprPtr r, ParseUnary(true));
      R1_ASSIGN_OR_RETURN(l, Binary(Expr::Kind::kBinary, "**", std::move(l), std::move(r), line));
    }
    return l;
  }

  StatusOr<ExprPtr> ParseUnary(bool with_filter) {
    const int line = Peek().line;
    ExprPtr e;
    if (IsOp("-") || IsOp("+")) {
      const bool neg = Next().text == "-";
      if (++depth_ > kMaxNesting) return Error("expression nested too deeply");
      R1_ASSIGN_OR_RETURN(ExprPtr operand, ParseUnary(false));
      --depth_;
      if (neg) {
        e = MakeExpr(Expr::Kind::kNeg, line);
        e->args.push_back(std::move(operand));
      } else {
        e = std::move(operand);
      }
    } else {
      R1_ASSIGN_OR_RETURN(e, ParsePrimary());
      R1_ASSIGN_OR_RETURN(e, ParsePostfix(std::move(e)));
    }
    if (with_filter) return ParseFilters(std::move(e));
    return e;
  }

  Status ParseCallArgs(Expr* e) {
    // The opening parenthesis is consumed; e->args may already hold the callee or subject.
    const size_t before = e->args.size();
    while (!AcceptOp(")")) {
      if (e->args.size() > before || !e->kwargs.empty()) {
        R1_RETURN_IF_ERROR(ExpectOp(","));
        if (AcceptOp(")")) break;
      }
      if (Peek().kind == K::kName && IsOp("=", 1)) {
        std::string key = Next().text;
        Next();
        R1_ASSIGN_OR_RETURN(ExprPtr v, ParseExpr());
        e->kwargs.emplace_back(std::move(key), std::move(v));
      } else {
        if (!e->kwargs.empty()) return Error("positional argument after a keyword argument");
        R1_ASSIGN_OR_RETURN(ExprPtr v, ParseExpr());
        e->args.push_back(std::move(v));
      }
    }
    return absl::OkStatus();
  }

  StatusOr<ExprPtr> ParsePostfix(ExprPtr e) {
    while (true) {
      const int line = Peek().line;
      if (AcceptOp(".")) {
        auto a = MakeExpr(Expr::Kind::kAttr, line);
        if (Peek().kind == K::kInt) {
          // `x.0` is x[0].
          a->kind = Expr::Kind::kIndex;
          auto idx = MakeExpr(Expr::Kind::kLiteral, line);
          idx->value = Value::Int(std::atoll(Next().text.c_str()));
          a->args.push_back(std::move(e));
          a->args.push_back(std::move(idx));
        } else {
          R1_ASSIGN_OR_RETURN(a->name, ExpectName());
          a->args.push_back(std::move(e));
        }
        e = std::move(a);
      } else if (AcceptOp("[")) {
        ExprPtr parts[3];
        bool slice = false;
        for (int k = 0; k < 3; ++k) {
          if (!IsOp(":") && !IsOp("]")) {
            R1_ASSIGN_OR_RETURN(parts[k], ParseExpr());
          }
          if (k < 2 && AcceptOp(":")) {
            slice = true;
          } else {
            break;
          }
        }
        R1_RETURN_IF_ERROR(ExpectOp("]"));
        auto s = MakeExpr(slice ? Expr::Kind::kSlice : Expr::Kind::kIndex, line);
        if (!slice && !parts[0]) return Error("empty subscript");
        s->args.push_back(std::move(e));
        s->args.push_back(std::move(parts[0]));
        if (slice) {
          s->args.push_back(std::move(parts[1]));
          s->args.push_back(std::move(parts[2]));
        }
        e = std::move(s);
      } else if (AcceptOp("(")) {
        auto c = MakeExpr(Expr::Kind::kCall, line);
        c->args.push_back(std::move(e));
        R1_RETURN_IF_ERROR(ParseCallArgs(c.get()));
        e = std::move(c);
      } else {
        return e;
      }
    }
  }

  StatusOr<ExprPtr> ParseFilters(ExprPtr e) {
    while (true) {
      const int line = Peek().line;
      if (AcceptOp("|")) {
        auto f = MakeExpr(Expr::Kind::kFilter, line);
        R1_ASSIGN_OR_RETURN(f->name, ExpectName());
        f->args.push_back(std::move(e));
        if (AcceptOp("(")) R1_RETURN_IF_ERROR(ParseCallArgs(f.get()));
        e = std::move(f);
      } else if (IsName("is")) {
        Next();
        auto t = MakeExpr(Expr::Kind::kTest, line);
        t->negate = AcceptName("not");
        R1_ASSIGN_OR_RETURN(t->name, ExpectName());
        t->args.push_back(std::move(e));
        if (AcceptOp("(")) {
          R1_RETURN_IF_ERROR(ParseCallArgs(t.get()));
        } else if (Peek().kind == K::kString || Peek().kind == K::kInt ||
                   Peek().kind == K::kFloat ||
                   (Peek().kind == K::kName && !IsName("and") && !IsName("or") &&
                    !IsName("if") && !IsName("else") && !IsName("in") && !IsName("is") &&
                    !IsName("not"))) {
          // `x is divisibleby 3`, `x is sameas none`: one argument without parentheses.
          R1_ASSIGN_OR_RETURN(ExprPtr arg, ParsePrimary());
          R1_ASSIGN_OR_RETURN(arg, ParsePostfix(std::move(arg)));
          t->args.push_back(std::move(arg));
        }
        e = std::move(t);
      } else {
        return e;
      }
    }
  }

  StatusOr<ExprPtr> ParsePrimary() {
    const Token& t = Peek();
    const int line = t.line;
    auto lit = [&](Value v) {
      auto e = MakeExpr(Expr::Kind::kLiteral, line);
      e->value = std::move(v);
      return e;
    };
    switch (t.kind) {
      case K::kString: {
        std::string s = Next().text;
        // Adjacent string literals concatenate.
        while (Peek().kind == K::kString) s += Next().text;
        return lit(Value::String(std::move(s)));
      }
      case K::kInt: {
        int64_t v = 0;
        const std::string& text = Next().text;
        auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc()) return Error("integer literal out of range");
        return lit(Value::Int(v));
      }
      case K::kFloat:
        return lit(Value::Float(std::strtod(Next().text.c_str(), nullptr)));
      case K::kName: {
        const std::string name = Next().text;
        if (name == "true" || name == "True") return lit(Value::Bool(true));
        if (name == "false" || name == "False") return lit(Value::Bool(false));
        if (name == "none" || name == "None") return lit(Value::None());
        auto e = MakeExpr(Expr::Kind::kName, line);
        e->name = name;
        return e;
      }
      case K::kOp:
        break;
      default:
        return Error("expected an expression");
    }
    if (++depth_ > kMaxNesting) return Error("expression nested too deeply");
    ExprPtr result;
    if (AcceptOp("(")) {
      if (AcceptOp(")")) {
        auto empty = MakeExpr(Expr::Kind::kList, line);
        empty->name = "tuple";
        --depth_;
        return empty;
      }
      R1_ASSIGN_OR_RETURN(ExprPtr inner, ParseExpr());
      if (IsOp(",")) {
        auto list = MakeExpr(Expr::Kind::kList, line);
        list->name = "tuple";
        list->args.push_back(std::move(inner));
        while (AcceptOp(",")) {
          if (IsOp(")")) break;
          R1_ASSIGN_OR_RETURN(ExprPtr e, ParseExpr());
          list->args.push_back(std::move(e));
        }
        inner = std::move(list);
      }
      R1_RETURN_IF_ERROR(ExpectOp(")"));
      result = std::move(inner);
    } else if (AcceptOp("[")) {
      auto list = MakeExpr(Expr::Kind::kList, line);
      while (!AcceptOp("]")) {
        if (!list->args.empty()) {
          R1_RETURN_IF_ERROR(ExpectOp(","));
          if (AcceptOp("]")) break;
        }
        R1_ASSIGN_OR_RETURN(ExprPtr e, ParseExpr());
        list->args.push_back(std::move(e));
      }
      result = std::move(list);
    } else if (AcceptOp("{")) {
      auto dict = MakeExpr(Expr::Kind::kDict, line);
      while (!AcceptOp("}")) {
        if (!dict->args.empty()) {
          R1_RETURN_IF_ERROR(ExpectOp(","));
          if (AcceptOp("}")) break;
        }
        R1_ASSIGN_OR_RETURN(ExprPtr k, ParseExpr());
        R1_RETURN_IF_ERROR(ExpectOp(":"));
        R1_ASSIGN_OR_RETURN(ExprPtr v, ParseExpr());
        dict->args.push_back(std::move(k));
        dict->args.push_back(std::move(v));
      }
      result = std::move(dict);
    } else {
      return Error(absl::StrCat("unexpected '", t.text, "'"));
    }
    --depth_;
    return result;
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;  // enclosing for loops, for break and continue
};

}  // namespace

StatusOr<Template> Parse(std::string_view source) {
  if (source.size() > kMaxSourceBytes) {
    return absl::InvalidArgumentError("chat template is larger than 1 MiB");
  }
  R1_ASSIGN_OR_RETURN(std::vector<Token> tokens, Lex(source));
  return Parser(std::move(tokens)).Run();
}

}  // namespace r1::internal::jinja
