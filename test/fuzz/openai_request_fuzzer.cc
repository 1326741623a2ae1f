// libFuzzer target: r1::fuzz::RunOpenAiRequest (fuzz_entry.h), the request bodies of r1 serve.
#include <cstddef>
#include <cstdint>

#include "fuzz_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  r1::fuzz::AbortOnInvariantFailure(r1::fuzz::RunOpenAiRequest(absl::MakeConstSpan(data, size)));
  return 0;
}
