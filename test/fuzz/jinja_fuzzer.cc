// libFuzzer target: r1::fuzz::RunJinja (fuzz_entry.h).
#include <cstddef>
#include <cstdint>

#include "fuzz_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  r1::fuzz::AbortOnInvariantFailure(r1::fuzz::RunJinja(absl::MakeConstSpan(data, size)));
  return 0;
}
