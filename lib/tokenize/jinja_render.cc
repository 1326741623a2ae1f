// jinja_render.h: a tree-walking interpreter with Jinja2's scoping (a for loop or macro body
// has its own variables; `if` does not) and Undefined semantics (an unknown name prints as
// nothing and is false, but using it in arithmetic or reading its attributes is an error).
#include "tokenize/jinja_render.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tokenize/jinja_builtins.h"
#include "tokenize/jinja_parser.h"
#include "tokenize/utf8.h"

namespace r1::internal::jinja {
namespace {

using VK = Value::Kind;

enum class Flow { kNormal, kBreak, kContinue };

// Each expression adds at most a few levels of nesting, so checking every result keeps all
// values below about this depth.
constexpr int32_t kMaxValueDepth = 256;
constexpr int kMaxEvalDepth = 200;  // nested expression evaluations, macros included

Value Builtin(std::string_view name) {
  Value v;
  v.kind = VK::kCallable;
  v.s = std::string(name);
  return v;
}

class Interpreter {
 public:
  Interpreter(const Dict& variables, const RenderLimits& limits) : limits_(limits) {
    for (std::string_view name : {"range", "namespace", "dict", "raise_exception", "strftime_now"}) {
      globals_.Set(name, Builtin(name));
    }
    for (const auto& [k, v] : variables.entries) globals_.Set(k, v);
    frames_.push_back(Frame{});
  }

  ~Interpreter() {
    // A namespace can hold itself (set ns.me = ns); emptying them all frees such cycles.
    for (const auto& ns : namespaces_) ns->entries.clear();
  }

  StatusOr<std::string> Run(const Body& body) {
    std::string out;
    Flow flow = Flow::kNormal;
    R1_RETURN_IF_ERROR(Exec(body, &out, &flow));
    return out;
  }

 private:
  struct Frame {
    Dict vars;
    bool barrier = false;  // a macro's frame: names not found here are looked up at top level
  };

  Status Step(int64_t n = 1) {
    steps_ += n;
    if (steps_ > limits_.max_steps) {
      return absl::ResourceExhaustedError("chat template ran too long (step limit reached)");
    }
    return absl::OkStatus();
  }

  Value Lookup(std::string_view name) const {
    for (size_t k = frames_.size(); k-- > 0;) {
      if (const Value* v = frames_[k].vars.Find(name)) return *v;
      if (frames_[k].barrier) {
        if (const Value* v = frames_[0].vars.Find(name)) return *v;
        break;
      }
    }
    if (const Value* v = globals_.Find(name)) return *v;
    return Value::Undefined(std::string(name));
  }

  void Assign(std::string_view name, Value v) { frames_.back().vars.Set(name, std::move(v)); }

  Status Append(std::string* out, std::string_view text) const {
    if (out->size() + text.size() > limits_.max_output_bytes) {
      return absl::ResourceExhaustedError("chat template output is larger than the limit");
    }
    out->append(text);
    return absl::OkStatus();
  }

  static Status WithLine(Status s, int line) {
    if (s.ok() || absl::StartsWith(s.message(), "chat template")) return s;
    return Status(s.code(), absl::StrCat("chat template line ", line, ": ", s.message()));
  }

  // --- statements ---

  Status Exec(const Body& body, std::string* out, Flow* flow) {
    for (const auto& node : body) {
      Status s = ExecNode(*node, out, flow);
      if (!s.ok()) return raised_ ? s : WithLine(std::move(s), node->line);
      if (*flow != Flow::kNormal) return absl::OkStatus();
    }
    return absl::OkStatus();
  }

  Status ExecNode(const Node& n, std::string* out, Flow* flow) {
    switch (n.kind) {
      case Node::Kind::kText:
        return Append(out, n.text);
      case Node::Kind::kOutput: {
        R1_ASSIGN_OR_RETURN(Value v, Eval(*n.expr));
        return Append(out, ToStr(v));
      }
      case Node::Kind::kIf: {
        for (size_t k = 0; k < n.bodies.size(); ++k) {
          if (k < n.conds.size()) {
            R1_ASSIGN_OR_RETURN(Value c, Eval(*n.conds[k]));
            if (!Truthy(c)) continue;
          }
          return Exec(n.bodies[k], out, flow);
        }
        return absl::OkStatus();
      }
      case Node::Kind::kFor:
        return ExecFor(n, out);
      case Node::Kind::kSet: {
        R1_ASSIGN_OR_RETURN(Value v, Eval(*n.expr));
        if (!n.ns_name.empty()) {
          Value ns = Lookup(n.ns_name);
          if (!ns.is_namespace) {
            return absl::InvalidArgumentError(
                absl::StrCat("cannot assign an attribute of '", n.ns_name, "', which is not a namespace()"));
          }
          ns.dict->Set(n.attr, std::move(v));
          return absl::OkStatus();
        }
        return AssignTargets(n.targets, v);
      }
      case Node::Kind::kSetBlock: {
        std::string text;
        Flow inner = Flow::kNormal;
        R1_RETURN_IF_ERROR(Exec(n.body, &text, &inner));
        Assign(n.targets[0], Value::String(std::move(text)));
        return absl::OkStatus();
      }
      case Node::Kind::kMacro: {
        Value m = Builtin(n.name);
        m.macro = &n;
        Assign(n.name, std::move(m));
        return absl::OkStatus();
      }
      case Node::Kind::kBreak:
        *flow = Flow::kBreak;
        return absl::OkStatus();
      case Node::Kind::kContinue:
        *flow = Flow::kContinue;
        return absl::OkStatus();
      case Node::Kind::kBlock:
        return Exec(n.body, out, flow);
    }
    return absl::OkStatus();
  }

  Status AssignTargets(const std::vector<std::string>& targets, const Value& v) {
    if (targets.size() == 1) {
      Assign(targets[0], v);
      return absl::OkStatus();
    }
    if (v.kind != VK::kList || v.list->size() != targets.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot unpack a ", KindName(v), " into ", targets.size(), " names"));
    }
    for (size_t k = 0; k < targets.size(); ++k) Assign(targets[k], (*v.list)[k]);
    return absl::OkStatus();
  }

  StatusOr<List> Iterate(const Value& v) {
    switch (v.kind) {
      case VK::kList:
        return *v.list;
      case VK::kUndefined:
        return List{};
      case VK::kDict: {
        List out;
        for (const auto& [k, e] : v.dict->entries) out.push_back(Value::String(k));
        return out;
      }
      case VK::kString: {
        List out;
        size_t pos = 0;
        while (pos < v.s.size()) {
          const size_t start = pos;
          (void)DecodeUtf8(v.s, &pos);
          out.push_back(Value::String(v.s.substr(start, pos - start)));
        }
        return out;
      }
      default:
        return absl::InvalidArgumentError(absl::StrCat("a ", KindName(v), " is not iterable"));
    }
  }

  Status ExecFor(const Node& n, std::string* out) {
    R1_ASSIGN_OR_RETURN(Value seq, Eval(*n.expr));
    R1_ASSIGN_OR_RETURN(List items, Iterate(seq));
    R1_RETURN_IF_ERROR(Step(static_cast<int64_t>(items.size())));
    if (n.cond) {
      // `for x in xs if c` filters before the loop, so loop.length counts what remains.
      List kept;
      frames_.push_back(Frame{});
      for (const Value& item : items) {
        R1_RETURN_IF_ERROR(Step());
        R1_RETURN_IF_ERROR(AssignTargets(n.targets, item));
        StatusOr<Value> c = Eval(*n.cond);
        if (!c.ok()) {
          frames_.pop_back();
          return c.status();
        }
        if (Truthy(*c)) kept.push_back(item);
      }
      frames_.pop_back();
      items = std::move(kept);
    }
    if (items.empty()) {
      Flow flow = Flow::kNormal;
      return Exec(n.else_body, out, &flow);
    }
    const int64_t length = static_cast<int64_t>(items.size());
    for (int64_t k = 0; k < length; ++k) {
      R1_RETURN_IF_ERROR(Step());
      frames_.push_back(Frame{});
      Status s = AssignTargets(n.targets, items[k]);
      Dict loop;
      loop.Set("index", Value::Int(k + 1));
      loop.Set("index0", Value::Int(k));
      loop.Set("revindex", Value::Int(length - k));
      loop.Set("revindex0", Value::Int(length - k - 1));
      loop.Set("first", Value::Bool(k == 0));
      loop.Set("last", Value::Bool(k == length - 1));
      loop.Set("length", Value::Int(length));
      loop.Set("depth", Value::Int(1));
      loop.Set("depth0", Value::Int(0));
      loop.Set("previtem", k > 0 ? items[k - 1] : Value::Undefined("previtem"));
      loop.Set("nextitem", k + 1 < length ? items[k + 1] : Value::Undefined("nextitem"));
      Assign("loop", Value::MakeDict(std::move(loop)));
      Flow flow = Flow::kNormal;
      if (s.ok()) s = Exec(n.body, out, &flow);
      frames_.pop_back();
      R1_RETURN_IF_ERROR(s);
      if (flow == Flow::kBreak) break;
    }
    return absl::OkStatus();
  }

  // --- expressions ---

  StatusOr<Value> Eval(const Expr& e) {
    R1_RETURN_IF_ERROR(Step());
    // Operator chains (a + b + c …, x|f|g …) parse in loops into trees as deep as they are
    // long, and macro calls nest evaluations: bound the recursion, counted across macros, so
    // no template can exhaust the stack.
    if (eval_depth_ >= kMaxEvalDepth) {
      return absl::ResourceExhaustedError("chat template expression nested too deeply");
    }
    ++eval_depth_;
    StatusOr<Value> r = EvalInner(e);
    --eval_depth_;
    if (r.ok() && r->depth > kMaxValueDepth) {
      return absl::ResourceExhaustedError("chat template built lists or dicts nested too deeply");
    }
    if (r.ok() && r->kind == VK::kString) {
      // Every string an expression yields was copied once; charging its size bounds the time
      // a template can spend copying large strings around.
      string_work_ += static_cast<int64_t>(r->s.size());
      if (string_work_ > limits_.max_string_work) {
        return absl::ResourceExhaustedError("chat template ran too long (string work limit reached)");
      }
    }
    return r;
  }

  static Status UndefinedError(const Value& v) {
    return absl::InvalidArgumentError(absl::StrCat("'", v.s, "' is undefined"));
  }

  StatusOr<Value> EvalInner(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::kLiteral:
        return e.value;
      case Expr::Kind::kName:
        return Lookup(e.name);
      case Expr::Kind::kList: {
        List out;
        for (const auto& a : e.args) {
          R1_ASSIGN_OR_RETURN(Value v, Eval(*a));
          out.push_back(std::move(v));
        }
        return e.name == "tuple" ? Value::MakeTuple(std::move(out)) : Value::MakeList(std::move(out));
      }
      case Expr::Kind::kDict: {
        Dict out;
        for (size_t k = 0; k + 1 < e.args.size(); k += 2) {
          R1_ASSIGN_OR_RETURN(Value key, Eval(*e.args[k]));
          if (!key.is_string()) return absl::InvalidArgumentError("dict keys must be strings");
          R1_ASSIGN_OR_RETURN(Value v, Eval(*e.args[k + 1]));
          out.Set(key.s, std::move(v));
        }
        return Value::MakeDict(std::move(out));
      }
      case Expr::Kind::kAttr: {
        R1_ASSIGN_OR_RETURN(Value obj, Eval(*e.args[0]));
        if (obj.is_undefined()) return UndefinedError(obj);
        if (obj.kind == VK::kDict) {
          if (const Value* v = obj.dict->Find(e.name)) return *v;
        }
        return Value::Undefined(e.name);
      }
      case Expr::Kind::kIndex: {
        R1_ASSIGN_OR_RETURN(Value obj, Eval(*e.args[0]));
        R1_ASSIGN_OR_RETURN(Value key, Eval(*e.args[1]));
        return Index(obj, key);
      }
      case Expr::Kind::kSlice:
        return EvalSlice(e);
      case Expr::Kind::kCall:
        return EvalCall(e);
      case Expr::Kind::kFilter: {
        R1_ASSIGN_OR_RETURN(Value input, Eval(*e.args[0]));
        R1_ASSIGN_OR_RETURN(Args args, EvalArgs(e, 1));
        return ApplyFilter(e.name, input, args);
      }
      case Expr::Kind::kTest: {
        R1_ASSIGN_OR_RETURN(Value input, Eval(*e.args[0]));
        R1_ASSIGN_OR_RETURN(Args args, EvalArgs(e, 1));
        R1_ASSIGN_OR_RETURN(bool r, ApplyTest(e.name, input, args));
        return Value::Bool(r != e.negate);
      }
      case Expr::Kind::kNeg: {
        R1_ASSIGN_OR_RETURN(Value v, Eval(*e.args[0]));
        if (v.kind == VK::kFloat) return Value::Float(-v.f);
        if (v.kind == VK::kInt && v.i != INT64_MIN) return Value::Int(-v.i);
        if (v.kind == VK::kBool) return Value::Int(-int64_t{v.b});
        if (v.is_undefined()) return UndefinedError(v);
        return absl::InvalidArgumentError(absl::StrCat("cannot negate a ", KindName(v)));
      }
      case Expr::Kind::kNot: {
        R1_ASSIGN_OR_RETURN(Value v, Eval(*e.args[0]));
        return Value::Bool(!Truthy(v));
      }
      case Expr::Kind::kAnd:
      case Expr::Kind::kOr: {
        // Python returns the deciding operand itself.
        R1_ASSIGN_OR_RETURN(Value l, Eval(*e.args[0]));
        if (Truthy(l) == (e.kind == Expr::Kind::kOr)) return l;
        return Eval(*e.args[1]);
      }
      case Expr::Kind::kCond: {
        R1_ASSIGN_OR_RETURN(Value c, Eval(*e.args[0]));
        if (Truthy(c)) return Eval(*e.args[1]);
        if (e.args[2]) return Eval(*e.args[2]);
        return Value::Undefined();
      }
      case Expr::Kind::kCompare: {
        R1_ASSIGN_OR_RETURN(Value l, Eval(*e.args[0]));
        for (size_t k = 1; k < e.args.size(); ++k) {
          R1_ASSIGN_OR_RETURN(Value r, Eval(*e.args[k]));
          R1_ASSIGN_OR_RETURN(Value holds, BinaryOp(e.kwargs[k - 1].first, l, r));
          if (!Truthy(holds)) return Value::Bool(false);
          l = std::move(r);
        }
        return Value::Bool(true);
      }
      case Expr::Kind::kBinary: {
        R1_ASSIGN_OR_RETURN(Value l, Eval(*e.args[0]));
        R1_ASSIGN_OR_RETURN(Value r, Eval(*e.args[1]));
        return BinaryOp(e.name, l, r);
      }
    }
    return absl::InternalError("unknown expression");
  }

  StatusOr<Args> EvalArgs(const Expr& e, size_t first) {
    Args args;
    for (size_t k = first; k < e.args.size(); ++k) {
      R1_ASSIGN_OR_RETURN(Value v, Eval(*e.args[k]));
      args.pos.push_back(std::move(v));
    }
    for (const auto& [name, expr] : e.kwargs) {
      R1_ASSIGN_OR_RETURN(Value v, Eval(*expr));
      args.kw.emplace_back(name, std::move(v));
    }
    return args;
  }

  static StatusOr<Value> Index(const Value& obj, const Value& key) {
    if (obj.is_undefined()) return UndefinedError(obj);
    if (obj.kind == VK::kDict) {
      if (key.is_string()) {
        if (const Value* v = obj.dict->Find(key.s)) return *v;
        return Value::Undefined(key.s);
      }
      return Value::Undefined();
    }
    if ((obj.kind == VK::kList || obj.kind == VK::kString) &&
        (key.kind == VK::kInt || key.kind == VK::kBool)) {
      int64_t i = key.kind == VK::kBool ? key.b : key.i;
      if (obj.kind == VK::kList) {
        const int64_t n = static_cast<int64_t>(obj.list->size());
        if (i < 0) i += n;
        if (i < 0 || i >= n) return Value::Undefined("[index]");
        return (*obj.list)[static_cast<size_t>(i)];
      }
      std::vector<size_t> starts = CharStarts(obj.s);
      const int64_t n = static_cast<int64_t>(starts.size()) - 1;
      if (i < 0) i += n;
      if (i < 0 || i >= n) return Value::Undefined("[index]");
      return Value::String(obj.s.substr(starts[i], starts[i + 1] - starts[i]));
    }
    return Value::Undefined();
  }

  StatusOr<Value> EvalSlice(const Expr& e) {
    R1_ASSIGN_OR_RETURN(Value obj, Eval(*e.args[0]));
    if (obj.is_undefined()) return UndefinedError(obj);
    std::optional<int64_t> part[3];
    for (int k = 0; k < 3; ++k) {
      if (!e.args[k + 1]) continue;
      R1_ASSIGN_OR_RETURN(Value v, Eval(*e.args[k + 1]));
      if (v.kind == VK::kNone) continue;
      if (v.kind != VK::kInt) return absl::InvalidArgumentError("slice indices must be integers");
      part[k] = v.i;
    }
    const int64_t step = part[2].value_or(1);
    if (step == 0) return absl::InvalidArgumentError("slice step cannot be zero");
    std::vector<size_t> starts;
    int64_t n;
    if (obj.kind == VK::kList) {
      n = static_cast<int64_t>(obj.list->size());
    } else if (obj.kind == VK::kString) {
      starts = CharStarts(obj.s);
      n = static_cast<int64_t>(starts.size()) - 1;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("cannot slice a ", KindName(obj)));
    }
    // Python's slice.indices().
    auto clamp = [&](std::optional<int64_t> v, int64_t def, int64_t lo, int64_t hi) {
      if (!v) return def;
      int64_t x = *v;
      if (x < 0) x += n;
      return std::clamp(x, lo, hi);
    };
    int64_t start, stop;
    if (step > 0) {
      start = clamp(part[0], 0, 0, n);
      stop = clamp(part[1], n, 0, n);
    } else {
      start = clamp(part[0], n - 1, -1, n - 1);
      stop = clamp(part[1], -1, -1, n - 1);
    }
    List items;
    std::string text;
    for (int64_t i = start; step > 0 ? i < stop : i > stop;) {
      if (obj.kind == VK::kList) {
        items.push_back((*obj.list)[static_cast<size_t>(i)]);
      } else {
        text.append(obj.s, starts[i], starts[i + 1] - starts[i]);
      }
      if (__builtin_add_overflow(i, step, &i)) break;
    }
    if (obj.kind == VK::kList) return Value::MakeList(std::move(items));
    return Value::String(std::move(text));
  }

  StatusOr<Value> BinaryOp(const std::string& op, const Value& l, const Value& r) {
    if (op == "==") return Value::Bool(Equal(l, r));
    if (op == "!=") return Value::Bool(!Equal(l, r));
    if (op == "~") {
      std::string s = ToStr(l);
      s += ToStr(r);
      R1_RETURN_IF_ERROR(CheckStringSize(s.size()));
      return Value::String(std::move(s));
    }
    if (op == "in" || op == "not in") {
      bool found;
      if (r.kind == VK::kString) {
        if (!l.is_string()) {
          return absl::InvalidArgumentError("'in <string>' requires a string on the left");
        }
        found = r.s.find(l.s) != std::string::npos;
      } else if (r.kind == VK::kList) {
        found = std::any_of(r.list->begin(), r.list->end(), [&](const Value& x) { return Equal(x, l); });
      } else if (r.kind == VK::kDict) {
        found = l.is_string() && r.dict->Find(l.s) != nullptr;
      } else if (r.is_undefined()) {
        found = false;
      } else {
        return absl::InvalidArgumentError(absl::StrCat("a ", KindName(r), " is not a container"));
      }
      return Value::Bool(found == (op == "in"));
    }
    if (l.is_undefined()) return UndefinedError(l);
    if (r.is_undefined()) return UndefinedError(r);
    if (op == "<" || op == ">" || op == "<=" || op == ">=") {
      const bool swap = op == ">" || op == "<=";
      R1_ASSIGN_OR_RETURN(bool less, Less(swap ? r : l, swap ? l : r));
      return Value::Bool(op == "<" || op == ">" ? less : !less);
    }
    if (op == "+" && l.kind == r.kind && (l.kind == VK::kString || l.kind == VK::kList)) {
      if (l.kind == VK::kString) {
        R1_RETURN_IF_ERROR(CheckStringSize(l.s.size() + r.s.size()));
        return Value::String(l.s + r.s);
      }
      if (l.list->size() + r.list->size() > kMaxListItems) {
        return absl::ResourceExhaustedError("chat template built a list that is too long");
      }
      List out = *l.list;
      out.insert(out.end(), r.list->begin(), r.list->end());
      return Value::MakeList(std::move(out));
    }
    if (op == "*" && (l.kind == VK::kString || l.kind == VK::kList) && r.kind == VK::kInt) {
      return Repeat(l, r.i);
    }
    if (op == "*" && (r.kind == VK::kString || r.kind == VK::kList) && l.kind == VK::kInt) {
      return Repeat(r, l.i);
    }
    if (!l.is_number() || !r.is_number()) {
      return absl::InvalidArgumentError(absl::StrCat("unsupported operand types for ", op, ": ",
                                                     KindName(l), " and ", KindName(r)));
    }
    const bool ints = l.kind != VK::kFloat && r.kind != VK::kFloat;
    const int64_t a = l.kind == VK::kBool ? l.b : l.i, b = r.kind == VK::kBool ? r.b : r.i;
    const double x = l.AsDouble(), y = r.AsDouble();
    const Status overflow = absl::InvalidArgumentError("integer overflow");
    const Status zero = absl::InvalidArgumentError("division by zero");
    int64_t out = 0;
    if (op == "+") {
      if (!ints) return Value::Float(x + y);
      if (__builtin_add_overflow(a, b, &out)) return overflow;
      return Value::Int(out);
    }
    if (op == "-") {
      if (!ints) return Value::Float(x - y);
      if (__builtin_sub_overflow(a, b, &out)) return overflow;
      return Value::Int(out);
    }
    if (op == "*") {
      if (!ints) return Value::Float(x * y);
      if (__builtin_mul_overflow(a, b, &out)) return overflow;
      return Value::Int(out);
    }
    if (op == "/") {
      if (y == 0) return zero;
      return Value::Float(x / y);
    }
    if (op == "//" || op == "%") {
      if (ints) {
        if (b == 0) return zero;
        if (a == INT64_MIN && b == -1) return overflow;
        int64_t q = a / b, m = a % b;
        if (m != 0 && ((m < 0) != (b < 0))) {
          --q;
          m += b;
        }
        return Value::Int(op == "//" ? q : m);
      }
      if (y == 0) return zero;
      const double q = std::floor(x / y);
      return Value::Float(op == "//" ? q : x - q * y);
    }
    if (op == "**") {
      if (ints && b >= 0) {
        int64_t result = 1, base = a;
        for (int64_t e = b; e > 0; e >>= 1) {
          if ((e & 1) && __builtin_mul_overflow(result, base, &result)) return overflow;
          if (e > 1 && __builtin_mul_overflow(base, base, &base)) return overflow;
        }
        return Value::Int(result);
      }
      return Value::Float(std::pow(x, y));
    }
    return absl::InvalidArgumentError(absl::StrCat("unknown operator ", op));
  }

  static StatusOr<Value> Repeat(const Value& v, int64_t times) {
    if (times <= 0) return v.kind == VK::kString ? Value::String("") : Value::MakeList({});
    if (v.kind == VK::kString) {
      if (!v.s.empty() && static_cast<uint64_t>(times) > kMaxStringBytes / v.s.size()) {
        return CheckStringSize(kMaxStringBytes + 1);
      }
      std::string out;
      for (int64_t k = 0; k < times && !v.s.empty(); ++k) out += v.s;
      return Value::String(std::move(out));
    }
    if (!v.list->empty() && static_cast<uint64_t>(times) > kMaxListItems / v.list->size()) {
      return absl::ResourceExhaustedError("chat template built a list that is too long");
    }
    List out;
    for (int64_t k = 0; k < times && !v.list->empty(); ++k) out.insert(out.end(), v.list->begin(), v.list->end());
    return Value::MakeList(std::move(out));
  }

  StatusOr<Value> EvalCall(const Expr& e) {
    const Expr& callee = *e.args[0];
    if (callee.kind == Expr::Kind::kAttr) {
      R1_ASSIGN_OR_RETURN(Value obj, Eval(*callee.args[0]));
      if (obj.is_undefined()) return UndefinedError(obj);
      R1_ASSIGN_OR_RETURN(Args args, EvalArgs(e, 1));
      if (obj.kind == VK::kDict) {
        const Value* member = obj.dict->Find(callee.name);
        if (member != nullptr && member->kind == VK::kCallable) return CallValue(*member, args);
      }
      return CallMethod(obj, callee.name, args);
    }
    R1_ASSIGN_OR_RETURN(Value fn, Eval(callee));
    R1_ASSIGN_OR_RETURN(Args args, EvalArgs(e, 1));
    if (fn.is_undefined()) return UndefinedError(fn);
    if (fn.kind != VK::kCallable) {
      return absl::InvalidArgumentError(absl::StrCat("a ", KindName(fn), " is not callable"));
    }
    return CallValue(fn, args);
  }

  StatusOr<Value> CallValue(const Value& fn, const Args& args) {
    R1_RETURN_IF_ERROR(Step());
    if (fn.macro != nullptr) return CallMacro(*static_cast<const Node*>(fn.macro), args);
    const std::string& name = fn.s;
    if (name == "range") return Range(args);
    if (name == "namespace" || name == "dict") {
      Dict d;
      for (const Value& p : args.pos) {
        if (p.kind != VK::kDict) return absl::InvalidArgumentError(absl::StrCat(name, "() takes a mapping"));
        for (const auto& [k, v] : p.dict->entries) d.Set(k, v);
      }
      for (const auto& [k, v] : args.kw) d.Set(k, v);
      Value out = Value::MakeDict(std::move(d));
      out.is_namespace = name == "namespace";
      if (out.is_namespace) namespaces_.push_back(out.dict);
      return out;
    }
    if (name == "raise_exception") {
      raised_ = true;
      const Value* msg = args.Get(0, "message");
      // An empty message (raise_exception(undefined_name)) would leave the caller nothing to show.
      const std::string text = msg != nullptr ? ToStr(*msg) : "";
      return absl::InvalidArgumentError(text.empty() ? "raise_exception() without a message" : text);
    }
    if (name == "strftime_now") {
      const Value* fmt = args.Get(0, "format");
      if (fmt == nullptr || !fmt->is_string() || fmt->s.size() > 256) {
        return absl::InvalidArgumentError("strftime_now() takes a format string");
      }
      const std::time_t now = std::time(nullptr);
      std::tm tm{};
      localtime_r(&now, &tm);
      char buf[1024];
      const size_t n = std::strftime(buf, sizeof(buf), fmt->s.c_str(), &tm);
      return Value::String(std::string(buf, n));
    }
    return absl::InvalidArgumentError(absl::StrCat("unknown function '", name, "'"));
  }

  StatusOr<Value> Range(const Args& args) {
    // Each item built counts as a step, so that range() in a loop cannot outrun the bound.
    int64_t v[3] = {0, 0, 1};
    if (args.pos.empty() || args.pos.size() > 3) {
      return absl::InvalidArgumentError("range() takes 1 to 3 integers");
    }
    for (size_t k = 0; k < args.pos.size(); ++k) {
      if (args.pos[k].kind != VK::kInt) return absl::InvalidArgumentError("range() takes integers");
    }
    if (args.pos.size() == 1) {
      v[1] = args.pos[0].i;
    } else {
      v[0] = args.pos[0].i;
      v[1] = args.pos[1].i;
      if (args.pos.size() == 3) v[2] = args.pos[2].i;
    }
    if (v[2] == 0) return absl::InvalidArgumentError("range() step must not be zero");
    List out;
    for (int64_t i = v[0]; v[2] > 0 ? i < v[1] : i > v[1]; i += v[2]) {
      if (out.size() >= kMaxListItems) {
        return absl::ResourceExhaustedError("chat template built a list that is too long");
      }
      if (out.size() % 1024 == 0) R1_RETURN_IF_ERROR(Step(1024));
      out.push_back(Value::Int(i));
      if ((v[2] > 0 && i > INT64_MAX - v[2]) || (v[2] < 0 && i < INT64_MIN - v[2])) break;
    }
    return Value::MakeList(std::move(out));
  }

  StatusOr<Value> CallMacro(const Node& m, const Args& args) {
    if (call_depth_ >= limits_.max_call_depth) {
      return absl::ResourceExhaustedError("chat template macros nest too deeply");
    }
    if (args.pos.size() > m.params.size()) {
      return absl::InvalidArgumentError(absl::StrCat("macro '", m.name, "' takes ", m.params.size(), " arguments"));
    }
    Frame frame;
    frame.barrier = true;
    for (const auto& [k, v] : args.kw) {
      if (std::find(m.params.begin(), m.params.end(), k) == m.params.end()) {
        return absl::InvalidArgumentError(absl::StrCat("macro '", m.name, "' has no argument '", k, "'"));
      }
    }
    frames_.push_back(std::move(frame));
    ++call_depth_;
    Status s;
    for (size_t k = 0; k < m.params.size() && s.ok(); ++k) {
      if (const Value* v = args.Get(k, m.params[k])) {
        Assign(m.params[k], *v);
      } else if (m.defaults[k]) {
        StatusOr<Value> d = Eval(*m.defaults[k]);
        if (d.ok()) {
          Assign(m.params[k], *std::move(d));
        } else {
          s = d.status();
        }
      } else {
        Assign(m.params[k], Value::Undefined(m.params[k]));
      }
    }
    std::string text;
    Flow flow = Flow::kNormal;
    if (s.ok()) s = Exec(m.body, &text, &flow);
    --call_depth_;
    frames_.pop_back();
    R1_RETURN_IF_ERROR(s);
    return Value::String(std::move(text));
  }

  const RenderLimits& limits_;
  Dict globals_;
  std::vector<Frame> frames_;
  int64_t steps_ = 0;
  int64_t string_work_ = 0;
  int eval_depth_ = 0;
  int call_depth_ = 0;
  bool raised_ = false;
  std::vector<std::shared_ptr<Dict>> namespaces_;  // the error is the template's own raise_exception message
};

}  // namespace

StatusOr<std::string> Render(const Template& tmpl, const Dict& variables,
                             const RenderLimits& limits) {
  return Interpreter(variables, limits).Run(tmpl.body);
}

StatusOr<std::string> RenderSource(std::string_view source, const Dict& variables,
                                   const RenderLimits& limits) {
  R1_ASSIGN_OR_RETURN(Template tmpl, Parse(source));
  return Render(tmpl, variables, limits);
}

}  // namespace r1::internal::jinja
