#include "tokenize/byte_level.h"

#include <array>

#include "tokenize/utf8.h"

namespace r1::internal {
namespace {

bool MapsToItself(int b) {
  return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

struct Tables {
  std::array<char32_t, 256> byte_to_char{};
  std::array<int16_t, 324> char_to_byte{};  // the largest character used is U+0143

  Tables() {
    char_to_byte.fill(-1);
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      byte_to_char[b] = MapsToItself(b) ? static_cast<char32_t>(b) : next++;
      char_to_byte[byte_to_char[b]] = static_cast<int16_t>(b);
    }
  }
};

// Built once on first use; construction is thread-safe (a function-local static) and the
// tables are read-only afterwards.
const Tables& GetTables() {
  static const Tables tables;
  return tables;
}

}  // namespace

char32_t ByteToChar(uint8_t b) { return GetTables().byte_to_char[b]; }

std::optional<std::string> ByteLevelDecode(std::string_view text) {
  const Tables& t = GetTables();
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    const int32_t cp = DecodeUtf8(text, &pos);
    if (cp < 0 || cp >= static_cast<int32_t>(t.char_to_byte.size()) || t.char_to_byte[cp] < 0) {
      return std::nullopt;
    }
    out.push_back(static_cast<char>(t.char_to_byte[cp]));
  }
  return out;
}

std::string ByteLevelEncode(std::string_view bytes) {
  const Tables& t = GetTables();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) AppendUtf8(t.byte_to_char[static_cast<uint8_t>(c)], &out);
  return out;
}

}  // namespace r1::internal
