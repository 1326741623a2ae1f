// libFuzzer target: r1::fuzz::RunModelLoad (fuzz_entry.h).
#include <cstddef>
#include <cstdint>

#include "fuzz_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  r1::fuzz::AbortOnInvariantFailure(r1::fuzz::RunModelLoad(absl::MakeConstSpan(data, size)));
  return 0;
}
