// jinja_ast.h — the parsed form of a Jinja template: expressions and statements.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenize/jinja_value.h"

namespace r1::internal::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    kLiteral,    // value
    kName,       // name
    kList,       // [args...]; a tuple (lists that print as tuples) when name is "tuple"
    kDict,       // {kwargs...} (keys are the evaluated args[2k], values args[2k+1])
    kAttr,       // args[0].name
    kIndex,      // args[0][args[1]]
    kSlice,      // args[0][args[1]:args[2]:args[3]], missing parts null
    kCall,       // args[0](args[1:]..., kwargs...)
    kFilter,     // args[0] | name(args[1:]..., kwargs...)
    kTest,       // args[0] is [not] name(args[1:]...); negate
    kNeg,        // -args[0]
    kNot,        // not args[0]
    kBinary,     // args[0] op args[1]: + - * / // % ** ~
    kCompare,    // args[0] op0 args[1] op1 args[2] ...: == != < > <= >= in "not in", ops in kwargs keys
    kAnd,
    kOr,
    kCond,       // args[1] if args[0] else args[2] (args[2] null: undefined)
  };
  Kind kind;
  int line = 0;
  Value value;
  std::string name;  // name, attribute, operator, filter or test
  bool negate = false;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
};

struct Node;
using Body = std::vector<std::unique_ptr<Node>>;

struct Node {
  enum class Kind {
    kText,      // text
    kOutput,    // {{ expr }}
    kIf,        // conds[k] -> bodies[k]; a trailing body without a condition is the else
    kFor,       // for targets in expr [if cond]: body [else: else_body]
    kSet,       // set targets = expr, or set ns_name.attr = expr
    kSetBlock,  // set targets[0] %}body{% endset
    kMacro,     // macro name(params=defaults): body
    kBreak,
    kContinue,
    kBlock,     // a body with no effect of its own ({% generation %})
  };
  Kind kind;
  int line = 0;
  std::string text;
  ExprPtr expr;
  ExprPtr cond;
  std::vector<ExprPtr> conds;
  std::vector<Body> bodies;
  std::vector<std::string> targets;
  std::string ns_name, attr;  // set ns.attr = ...
  Body body, else_body;
  std::string name;
  std::vector<std::string> params;
  std::vector<ExprPtr> defaults;  // per param, null where none
};

struct Template {
  Body body;
};

}  // namespace r1::internal::jinja
