// nfc.h — Unicode NFC normalization, the normalizer of Qwen2's tokenizer.
#pragma once

#include <string>
#include <string_view>

namespace r1::internal {

// Appends the NFC form of `text` to *out. Ill-formed UTF-8 bytes are copied unchanged and act
// as boundaries (the text on either side is normalized on its own). ASCII-only stretches are
// copied without calling into the normalizer: ASCII characters never change under NFC and
// never compose with what precedes them.
void AppendNfc(std::string_view text, std::string* out);

}  // namespace r1::internal
