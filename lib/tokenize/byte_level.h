// byte_level.h — GPT-2's reversible byte <-> character mapping.
//
// Byte-level BPE vocabularies store tokens as text in which every byte is one printable
// character: bytes that are already printable Latin-1 map to themselves, the other 68
// (controls, space, 0x7F-0xA0, 0xAD) map to U+0100 onwards in byte order (so ' ' is 'Ġ').
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace r1::internal {

// The character byte `b` is written as.
char32_t ByteToChar(uint8_t b);

// Decodes a vocabulary string back to bytes; nullopt when it holds a character outside the
// mapping (such a token is not a byte-level token).
std::optional<std::string> ByteLevelDecode(std::string_view text);

// Encodes bytes as a vocabulary string.
std::string ByteLevelEncode(std::string_view bytes);

}  // namespace r1::internal
