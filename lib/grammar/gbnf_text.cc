// gbnf_text.cc — GBNF literals, and prefixing rule names: a scan over GBNF that knows where
// names can be (outside literals, classes, comments and repetition counts, a run of name
// characters is a rule name).
#include "grammar/gbnf_text.h"

namespace r1::grammar {
namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// Index just past the literal or class that opens at `i` (with `close` as its end), escapes
// skipped; the end of the text when it is not closed.
size_t SkipQuoted(std::string_view text, size_t i, char close) {
  for (++i; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == close) {
      return i + 1;
    }
  }
  return text.size();
}

}  // namespace

std::string GbnfLiteral(std::string_view bytes) {
  std::string out = "\"";
  for (unsigned char c : bytes) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

std::string PrefixGbnfRules(std::string_view gbnf, std::string_view prefix) {
  std::string out;
  out.reserve(gbnf.size() * 2);
  size_t i = 0;
  while (i < gbnf.size()) {
    const char c = gbnf[i];
    size_t end = i + 1;
    if (c == '"') {
      end = SkipQuoted(gbnf, i, '"');
    } else if (c == '[') {
      end = SkipQuoted(gbnf, i, ']');
    } else if (c == '{') {  // repetition counts
      end = gbnf.find('}', i);
      end = end == std::string_view::npos ? gbnf.size() : end + 1;
    } else if (c == '#') {
      end = gbnf.find('\n', i);
      if (end == std::string_view::npos) end = gbnf.size();
    } else if (IsNameChar(c)) {
      while (end < gbnf.size() && IsNameChar(gbnf[end])) ++end;
      out += prefix;
    }
    out.append(gbnf.substr(i, end - i));
    i = end;
  }
  return out;
}

}  // namespace r1::grammar
