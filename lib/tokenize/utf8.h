// utf8.h — UTF-8 helpers for the tokenizer: validated decoding, encoding, lossy repair, and
// finding where complete characters end in a byte stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace r1::internal {

inline constexpr char32_t kReplacementChar = 0xFFFD;

// Decodes the character at text[*pos] and advances *pos past it. Ill-formed input yields -1
// and advances past its maximal ill-formed subpart (at least one byte), the unit Unicode's
// "substitution of maximal subparts" replaces with one U+FFFD.
int32_t DecodeUtf8(std::string_view text, size_t* pos);

// Appends the UTF-8 encoding of `cp`; a value that is not a scalar value becomes U+FFFD.
void AppendUtf8(char32_t cp, std::string* out);

bool IsValidUtf8(std::string_view text);

// Appends `text` to *out with each maximal ill-formed subpart replaced by U+FFFD.
void AppendValidUtf8(std::string_view text, std::string* out);

// Length of the longest prefix of `bytes` that does not end inside a character the next bytes
// could still complete. Only a trailing, so-far-well-formed start of a multi-byte sequence is
// excluded; ill-formed bytes count as complete, so a stream never stalls on them.
size_t CompleteUtf8Prefix(std::string_view bytes);

}  // namespace r1::internal
