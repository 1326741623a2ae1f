#include "tokenize/utf8.h"

namespace r1::internal {
namespace {

// Number of bytes in a sequence starting with `lead`: 1 for ASCII, 2-4 for a valid lead byte,
// 0 for a byte that cannot start a character (continuation bytes, C0, C1, F5-FF).
int SequenceLength(uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xC2) return 0;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  if (lead < 0xF5) return 4;
  return 0;
}

// Whether `byte` may follow `lead` as the second byte; the narrowed ranges exclude overlong
// forms, surrogates and values above U+10FFFF.
bool ValidSecondByte(uint8_t lead, uint8_t byte) {
  switch (lead) {
    case 0xE0: return byte >= 0xA0 && byte <= 0xBF;
    case 0xED: return byte >= 0x80 && byte <= 0x9F;
    case 0xF0: return byte >= 0x90 && byte <= 0xBF;
    case 0xF4: return byte >= 0x80 && byte <= 0x8F;
    default: return (byte & 0xC0) == 0x80;
  }
}

bool IsContinuation(uint8_t byte) { return (byte & 0xC0) == 0x80; }

}  // namespace

int32_t DecodeUtf8(std::string_view text, size_t* pos) {
  const size_t start = *pos;
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const uint8_t lead = s[start];
  const int len = SequenceLength(lead);
  if (len == 1) {
    *pos = start + 1;
    return lead;
  }
  if (len == 0) {
    *pos = start + 1;
    return -1;
  }
  // Consume bytes while they can still be part of this sequence.
  size_t i = start + 1;
  if (i >= text.size() || !ValidSecondByte(lead, s[i])) {
    *pos = i;
    return -1;
  }
  ++i;
  for (int k = 2; k < len; ++k, ++i) {
    if (i >= text.size() || !IsContinuation(s[i])) {
      *pos = i;
      return -1;
    }
  }
  *pos = i;
  int32_t cp = lead & (0x7F >> len);
  for (size_t j = start + 1; j < i; ++j) cp = (cp << 6) | (s[j] & 0x3F);
  return cp;
}

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = kReplacementChar;
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool IsValidUtf8(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    if (static_cast<uint8_t>(text[pos]) < 0x80) {
      ++pos;
      continue;
    }
    if (DecodeUtf8(text, &pos) < 0) return false;
  }
  return true;
}

void AppendValidUtf8(std::string_view text, std::string* out) {
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t start = pos;
    if (static_cast<uint8_t>(text[pos]) < 0x80) {
      out->push_back(text[pos++]);
      continue;
    }
    if (DecodeUtf8(text, &pos) < 0) {
      AppendUtf8(kReplacementChar, out);
    } else {
      out->append(text.substr(start, pos - start));
    }
  }
}

size_t CompleteUtf8Prefix(std::string_view bytes) {
  const auto* s = reinterpret_cast<const uint8_t*>(bytes.data());
  const size_t n = bytes.size();
  // Find the last byte that is not a continuation byte, at most three back.
  size_t k = 0;  // continuation bytes after it
  while (k < 3 && k < n && IsContinuation(s[n - 1 - k])) ++k;
  if (k == n) return n;
  const size_t lead_at = n - 1 - k;
  const int len = SequenceLength(s[lead_at]);
  if (len <= 1 || static_cast<int>(k) + 1 >= len) return n;
  // An unfinished sequence: hold it back only if what is there so far is well formed.
  if (k >= 1 && !ValidSecondByte(s[lead_at], s[lead_at + 1])) return n;
  return lead_at;
}

}  // namespace r1::internal
