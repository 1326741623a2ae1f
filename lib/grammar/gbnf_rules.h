// gbnf_rules.h — a parsed GBNF grammar, flattened for the matcher.
//
// Every rule is a list of alternatives; every alternative a sequence of elements stored back to
// back in one array and closed by a kEnd element. Groups and repetitions of the source are
// rewritten into generated rules, so an element is only ever a character class or a reference
// to a rule. A position in `elements` is therefore all a matcher needs to know where it is.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace r1::grammar {

// A set of code points as sorted, disjoint, inclusive ranges (negations already resolved).
struct CharClass {
  struct Range {
    uint32_t lo, hi;
  };
  std::vector<Range> ranges;
  uint64_t ascii[2] = {0, 0};  // bit c set when code point c < 128 is in the set (fast path)

  bool Contains(uint32_t cp) const {
    if (cp < 128) return (ascii[cp >> 6] >> (cp & 63)) & 1;
    size_t lo = 0, hi = ranges.size();
    while (lo < hi) {  // first range whose hi >= cp
      const size_t mid = (lo + hi) / 2;
      if (ranges[mid].hi < cp) lo = mid + 1; else hi = mid;
    }
    return lo < ranges.size() && ranges[lo].lo <= cp;
  }
  // Whether some code point in [lo, hi] is in the set.
  bool Intersects(uint32_t lo, uint32_t hi) const {
    for (const Range& r : ranges) {
      if (r.lo <= hi && lo <= r.hi) return true;
    }
    return false;
  }
};

struct Element {
  enum Kind : uint8_t { kEnd, kChar, kRule };
  Kind kind;
  uint32_t value;  // kChar: index into Grammar::classes; kRule: rule index; kEnd: owning rule
};

struct Rule {
  std::string name;                   // generated rules: "<parent>-<n>"
  std::vector<uint32_t> alternatives;  // start positions in Grammar::elements
  int line = 0, column = 0;           // where the source rule that produced it is defined
};

struct Grammar {
  std::vector<CharClass> classes;
  std::vector<Element> elements;
  std::vector<Rule> rules;
  uint32_t root = 0;
};

}  // namespace r1::grammar
