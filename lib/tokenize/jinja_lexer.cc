// jinja_lexer.h: Jinja's lexer rules for the default delimiters.
#include "tokenize/jinja_lexer.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "tokenize/utf8.h"

namespace r1::internal::jinja {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  StatusOr<std::vector<Token>> Run() {
    // Whether the next text starts a line, for lstrip_blocks.
    bool line_start = true;
    while (pos_ < src_.size()) {
      const size_t open = FindTagStart(pos_);
      std::string text(src_.substr(pos_, open - pos_));
      if (open == src_.size()) {
        Emit(Token::Kind::kText, std::move(text));
        pos_ = open;
        break;
      }
      const char type = src_[open + 1];  // '{', '%' or '#'
      const char marker = open + 2 < src_.size() ? src_[open + 2] : '\0';
      if (marker == '-') {
        while (!text.empty() && IsSpace(text.back())) text.pop_back();
      } else if (marker != '+' && type != '{') {
        // lstrip_blocks: a block or comment tag alone after indentation drops the indentation.
        const size_t nl = text.rfind('\n');
        const size_t from = nl == std::string::npos ? 0 : nl + 1;
        if (nl != std::string::npos || line_start) {
          size_t k = from;
          while (k < text.size() && (text[k] == ' ' || text[k] == '\t')) ++k;
          if (k == text.size()) text.resize(from);
        }
      }
      Emit(Token::Kind::kText, std::move(text));
      line_ += Newlines(pos_, open);
      pos_ = open + 2 + ((marker == '-' || marker == '+') ? 1 : 0);
      if (type == '#') {
        const size_t close = src_.find("#}", pos_);
        if (close == std::string_view::npos) return Error("unterminated comment");
        line_ += Newlines(pos_, close);
        const bool strip = close > pos_ && src_[close - 1] == '-';
        pos_ = close + 2;
        line_start = AfterTagEnd(strip);
        continue;
      }
      if (type == '%' && IsRawStart()) {
        R1_RETURN_IF_ERROR(LexRaw(&line_start));
        continue;
      }
      Emit(type == '{' ? Token::Kind::kVarBegin : Token::Kind::kBlockBegin, "");
      brackets_ = 0;
      R1_RETURN_IF_ERROR(LexTag(type == '{' ? '}' : '%'));
      line_start = AfterTagEnd(strip_after_, type == '%');
    }
    Emit(Token::Kind::kEof, "");
    return std::move(tokens_);
  }

 private:
  size_t FindTagStart(size_t from) const {
    for (size_t k = src_.find('{', from); k != std::string_view::npos; k = src_.find('{', k + 1)) {
      if (k + 1 < src_.size() && (src_[k + 1] == '{' || src_[k + 1] == '%' || src_[k + 1] == '#')) {
        return k;
      }
    }
    return src_.size();
  }

  int Newlines(size_t from, size_t to) const {
    int n = 0;
    for (size_t k = from; k < to && k < src_.size(); ++k) n += src_[k] == '\n';
    return n;
  }

  // After a tag's end: `-` strips the following whitespace; trim_blocks drops one newline after
  // a block or comment. Returns whether the text that follows starts a line.
  bool AfterTagEnd(bool strip, bool block = true) {
    if (strip) {
      while (pos_ < src_.size() && IsSpace(src_[pos_])) line_ += src_[pos_++] == '\n';
      return false;
    }
    if (block && pos_ < src_.size() && src_[pos_] == '\n') {
      ++pos_;
      ++line_;
      return true;
    }
    return false;
  }

  bool IsRawStart() const {
    size_t k = pos_;
    while (k < src_.size() && IsSpace(src_[k])) ++k;
    return src_.substr(k, 3) == "raw" && (k + 3 >= src_.size() || !IsNameStart(src_[k + 3]));
  }

  // {% raw %}…{% endraw %}: the body is output as it is.
  Status LexRaw(bool* line_start) {
    size_t close = src_.find("%}", pos_);
    if (close == std::string_view::npos) return Error("unterminated raw tag");
    bool strip = src_[close - 1] == '-';
    pos_ = close + 2;
    AfterTagEnd(strip);
    size_t search = pos_;
    while (true) {
      const size_t open = src_.find("{%", search);
      if (open == std::string_view::npos) return Error("missing {% endraw %}");
      size_t k = open + 2;
      const bool strip_before = k < src_.size() && src_[k] == '-';
      if (k < src_.size() && (src_[k] == '-' || src_[k] == '+')) ++k;
      while (k < src_.size() && IsSpace(src_[k])) ++k;
      if (src_.substr(k, 6) != "endraw") {
        search = open + 2;
        continue;
      }
      k += 6;
      while (k < src_.size() && IsSpace(src_[k])) ++k;
      const bool strip_after = k < src_.size() && src_[k] == '-';
      if (strip_after) ++k;
      if (src_.substr(k, 2) != "%}") return Error("malformed {% endraw %}");
      std::string body(src_.substr(pos_, open - pos_));
      if (strip_before) {
        while (!body.empty() && IsSpace(body.back())) body.pop_back();
      }
      Emit(Token::Kind::kText, std::move(body));
      line_ += Newlines(pos_, k + 2);
      pos_ = k + 2;
      *line_start = AfterTagEnd(strip_after);
      return absl::OkStatus();
    }
  }

  // The tokens inside {{ }} or {% %}, up to and including the end delimiter.
  Status LexTag(char end) {
    while (true) {
      while (pos_ < src_.size() && IsSpace(src_[pos_])) line_ += src_[pos_++] == '\n';
      if (pos_ >= src_.size()) return Error("unterminated tag");
      const std::string_view rest = src_.substr(pos_);
      // The end delimiter, with an optional strip marker; inside brackets `}}` closes dicts.
      for (bool strip : {true, false}) {
        if (brackets_ > 0) break;
        std::string delim = strip ? std::string("-") : std::string();
        delim += end;
        delim += '}';
        if (rest.substr(0, delim.size()) == delim) {
          pos_ += delim.size();
          strip_after_ = strip;
          Emit(end == '}' ? Token::Kind::kVarEnd : Token::Kind::kBlockEnd, "");
          return absl::OkStatus();
        }
      }
      const char c = rest[0];
      if (IsNameStart(c)) {
        size_t k = 1;
        while (k < rest.size() && (IsNameStart(rest[k]) || IsDigit(rest[k]))) ++k;
        Emit(Token::Kind::kName, std::string(rest.substr(0, k)));
        pos_ += k;
      } else if (IsDigit(c)) {
        size_t k = 0;
        bool is_float = false;
        while (k < rest.size() && (IsDigit(rest[k]) || rest[k] == '_')) ++k;
        if (k + 1 < rest.size() && rest[k] == '.' && IsDigit(rest[k + 1])) {
          is_float = true;
          ++k;
          while (k < rest.size() && IsDigit(rest[k])) ++k;
        }
        if (k < rest.size() && (rest[k] == 'e' || rest[k] == 'E')) {
          size_t e = k + 1;
          if (e < rest.size() && (rest[e] == '+' || rest[e] == '-')) ++e;
          if (e < rest.size() && IsDigit(rest[e])) {
            is_float = true;
            k = e;
            while (k < rest.size() && IsDigit(rest[k])) ++k;
          }
        }
        std::string digits;
        for (char d : rest.substr(0, k)) {
          if (d != '_') digits.push_back(d);
        }
        Emit(is_float ? Token::Kind::kFloat : Token::Kind::kInt, std::move(digits));
        pos_ += k;
      } else if (c == '\'' || c == '"') {
        R1_RETURN_IF_ERROR(LexString(c));
      } else {
        static constexpr const char* kOps[] = {"//", "**", "==", "!=", "<=", ">=", "(", ")", "[",
                                               "]",  "{",  "}",  ".",  ",",  ":",  "|", "~", "+",
                                               "-",  "*",  "/",  "%",  "=",  "<",  ">"};
        bool found = false;
        for (const char* op : kOps) {
          const size_t n = std::strlen(op);
          if (rest.substr(0, n) == op) {
            if (n == 1 && (*op == '(' || *op == '[' || *op == '{')) ++brackets_;
            if (n == 1 && (*op == ')' || *op == ']' || *op == '}') && brackets_ > 0) --brackets_;
            Emit(Token::Kind::kOp, op);
            pos_ += n;
            found = true;
            break;
          }
        }
        if (!found) return Error(absl::StrCat("unexpected character '", std::string(rest.substr(0, 1)), "' in a tag"));
      }
    }
  }

  Status LexString(char quote) {
    std::string out;
    size_t k = pos_ + 1;
    while (true) {
      if (k >= src_.size()) return Error("unterminated string");
      const char c = src_[k];
      if (c == quote) break;
      if (c == '\n') ++line_;
      if (c != '\\' || k + 1 >= src_.size()) {
        out.push_back(c);
        ++k;
        continue;
      }
      const char e = src_[k + 1];
      k += 2;
      switch (e) {
        case 'n': out.push_back('\n'); break;
        case 't': out.push_back('\t'); break;
        case 'r': out.push_back('\r'); break;
        case '\\': out.push_back('\\'); break;
        case '\'': out.push_back('\''); break;
        case '"': out.push_back('"'); break;
        case '\n': break;
        case 'u':
        case 'x': {
          const size_t n = e == 'u' ? 4 : 2;
          if (k + n > src_.size()) return Error("truncated escape in a string");
          char32_t cp = 0;
          for (size_t d = 0; d < n; ++d) {
            const char h = src_[k + d];
            int val = IsDigit(h) ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                                          : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
            if (val < 0) return Error("bad escape in a string");
            cp = cp * 16 + static_cast<char32_t>(val);
          }
          AppendUtf8(cp, &out);
          k += n;
          break;
        }
        default:
          // Python keeps an unknown escape as written.
          out.push_back('\\');
          out.push_back(e);
      }
    }
    Emit(Token::Kind::kString, std::move(out));
    pos_ = k + 1;
    return absl::OkStatus();
  }

  void Emit(Token::Kind kind, std::string text) {
    if (kind == Token::Kind::kText && text.empty()) return;
    tokens_.push_back(Token{kind, std::move(text), line_});
  }

  Status Error(std::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat("chat template line ", line_, ": ", std::string(what)));
  }

  std::string_view src_;
  size_t pos_ = 0;
  int line_ = 1;
  bool strip_after_ = false;
  int brackets_ = 0;  // open (, [ and { in the current tag
  std::vector<Token> tokens_;
};

}  // namespace

StatusOr<std::vector<Token>> Lex(std::string_view source) {
  // Jinja drops one trailing newline (keep_trailing_newline is off).
  if (source.ends_with("\r\n")) {
    source.remove_suffix(2);
  } else if (source.ends_with("\n")) {
    source.remove_suffix(1);
  }
  return Lexer(source).Run();
}

}  // namespace r1::internal::jinja
