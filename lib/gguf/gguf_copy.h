// gguf_copy.h — carrying metadata from a GGUF file into a new one (quantize, tests).
#pragma once

#include "gguf/gguf_reader.h"
#include "gguf/gguf_writer.h"

namespace r1 {

// Sets `kv` (a key/value pair of `from`) on `to` with the same type and value. Nested arrays
// are refused (Unimplemented).
Status CopyKeyValue(const GgufFile& from, const GgufKeyValue& kv, GgufWriter& to);

}  // namespace r1
