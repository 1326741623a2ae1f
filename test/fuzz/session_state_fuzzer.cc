// libFuzzer target: r1::fuzz::RunSessionState (fuzz_entry.h).
#include <cstddef>
#include <cstdint>

#include "fuzz_entry.h"

// Loads the shared data once, before the first input, so that its time is not charged to it.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)r1::fuzz::StateFixtureOrDie();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  r1::fuzz::AbortOnInvariantFailure(r1::fuzz::RunSessionState(r1::fuzz::StateFixtureOrDie(), absl::MakeConstSpan(data, size)));
  return 0;
}
