#include "tokenize/nfc.h"

#include <utf8proc.h>

#include <cstdlib>

#include "tokenize/utf8.h"

namespace r1::internal {
namespace {

bool IsAscii(char c) { return static_cast<unsigned char>(c) < 0x80; }

// Normalizes well-formed UTF-8.
void AppendNfcValid(std::string_view text, std::string* out) {
  if (text.empty()) return;
  utf8proc_uint8_t* result = nullptr;
  const utf8proc_ssize_t n =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                   static_cast<utf8proc_ssize_t>(text.size()), &result,
                   static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0) {
    // Only reachable on allocation failure: the input was validated. Keep the text as it is
    // rather than lose it.
    out->append(text);
  } else {
    out->append(reinterpret_cast<const char*>(result), static_cast<size_t>(n));
  }
  std::free(result);
}

// Normalizes each well-formed run of `text`; ill-formed bytes pass through.
void AppendNfcChunk(std::string_view text, std::string* out) {
  size_t run_start = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t at = pos;
    if (DecodeUtf8(text, &pos) < 0) {
      AppendNfcValid(text.substr(run_start, at - run_start), out);
      out->append(text.substr(at, pos - at));
      run_start = pos;
    }
  }
  AppendNfcValid(text.substr(run_start), out);
}

}  // namespace

void AppendNfc(std::string_view text, std::string* out) {
  const size_t n = text.size();
  size_t copied = 0;  // text[0, copied) is already in *out
  size_t i = 0;
  while (i < n) {
    if (IsAscii(text[i])) {
      ++i;
      continue;
    }
    // A non-ASCII stretch, with the ASCII character before it (a possible base for a
    // following combining mark) and up to the next ASCII byte.
    const size_t start = i > copied ? i - 1 : i;
    size_t end = i;
    while (end < n && !IsAscii(text[end])) ++end;
    out->append(text.substr(copied, start - copied));
    AppendNfcChunk(text.substr(start, end - start), out);
    copied = i = end;
  }
  out->append(text.substr(copied));
}

}  // namespace r1::internal
