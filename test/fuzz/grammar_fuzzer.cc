// libFuzzer target: r1::fuzz::RunGrammar (fuzz_entry.h), GBNF grammars and their matcher.
#include <cstddef>
#include <cstdint>

#include "fuzz_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  r1::fuzz::AbortOnInvariantFailure(r1::fuzz::RunGrammar(absl::MakeConstSpan(data, size)));
  return 0;
}
