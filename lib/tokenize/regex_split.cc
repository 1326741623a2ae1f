#include "tokenize/regex_split.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <string>

#include "absl/strings/str_format.h"
#include "tokenize/utf8.h"

namespace r1::internal {

struct RegexSplit::Compiled {
  pcre2_code* code = nullptr;
  bool jit = false;
  ~Compiled() { pcre2_code_free(code); }
};

namespace {

// Frees match data on scope exit.
struct MatchData {
  explicit MatchData(const pcre2_code* code)
      : data(pcre2_match_data_create_from_pattern(code, nullptr)) {}
  ~MatchData() { pcre2_match_data_free(data); }
  pcre2_match_data* data;
};

std::string PcreErrorText(int code) {
  PCRE2_UCHAR buffer[256];
  if (pcre2_get_error_message(code, buffer, sizeof(buffer)) < 0) return "unknown error";
  return std::string(reinterpret_cast<const char*>(buffer));
}

}  // namespace

std::string ExpandWhitespaceClasses(std::string_view pattern) {
  // Unicode's White_Space property. PCRE2's own \s also takes U+180E (through \h), which
  // Unicode stopped counting as a space in 6.3.
  constexpr std::string_view kSpace =
      "\\x{9}-\\x{D}\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}"
      "\\x{202F}\\x{205F}\\x{3000}";
  std::string out;
  out.reserve(pattern.size() + 64);
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char e = pattern[i + 1];
      ++i;
      if (e == 's') {
        if (in_class) {
          out += kSpace;
        } else {
          out += '[';
          out += kSpace;
          out += ']';
        }
      } else if (e == 'S' && !in_class) {
        out += "[^";
        out += kSpace;
        out += ']';
      } else {
        // \S inside a class would need set subtraction; no pattern here uses it.
        out += c;
        out += e;
      }
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal, not the end of the class.
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') out += pattern[++i];
      continue;
    }
    if (in_class && c == ']') in_class = false;
    out += c;
  }
  return out;
}

StatusOr<std::unique_ptr<RegexSplit>> RegexSplit::Compile(std::string_view pattern) {
  const std::string widened = ExpandWhitespaceClasses(pattern);
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(widened.data()), widened.size(),
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error_code,
                                   &error_offset, nullptr);
  if (code == nullptr) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "pre-tokenizer regex does not compile at offset %d: %s (pattern: %s)",
        static_cast<int>(error_offset), PcreErrorText(error_code), widened));
  }
  std::unique_ptr<RegexSplit> split(new RegexSplit());
  split->compiled_ = std::make_unique<Compiled>();
  split->compiled_->code = code;
  // Without JIT support in the library the interpreter runs the same patterns, only slower.
  split->compiled_->jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  return split;
}

RegexSplit::~RegexSplit() = default;

Status RegexSplit::Split(std::string_view text, std::vector<std::string_view>* pieces) const {
  if (text.empty()) return absl::OkStatus();
  const pcre2_code* code = compiled_->code;
  MatchData match(code);
  if (match.data == nullptr) return absl::ResourceExhaustedError("out of memory for regex match");
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t gap_start = 0;
  size_t offset = 0;
  while (offset < text.size()) {
    int rc = pcre2_match(code, subject, text.size(), offset, 0, match.data, nullptr);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
      // Deep backtracking on a long input: the interpreter keeps its state on the heap.
      rc = pcre2_match(code, subject, text.size(), offset, PCRE2_NO_JIT, match.data, nullptr);
    }
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      return absl::ResourceExhaustedError(
          absl::StrFormat("pre-tokenizer regex failed on a %d-byte piece: %s",
                          static_cast<int>(text.size()), PcreErrorText(rc)));
    }
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match.data);
    const size_t start = ovector[0];
    const size_t end = ovector[1];
    if (end <= start) {
      // An empty match adds nothing; step over one character so the scan moves on.
      offset = start;
      DecodeUtf8(text, &offset);
      continue;
    }
    if (start > gap_start) pieces->push_back(text.substr(gap_start, start - gap_start));
    pieces->push_back(text.substr(start, end - start));
    gap_start = offset = end;
  }
  if (gap_start < text.size()) pieces->push_back(text.substr(gap_start));
  return absl::OkStatus();
}

}  // namespace r1::internal
