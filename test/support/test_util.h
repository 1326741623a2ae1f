// test_util.h — helpers shared by r1's test suites.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace r1::test {

// The shared test-data folder (R1_SHARED_DIR), or nullopt when it is not there.
std::optional<std::string> SharedDir();

// Every model of the shared folder (reference/ and models/ *.gguf: each architecture and weight
// type, and the small trained models), sorted by path.
std::vector<std::string> SharedModelPaths();

// Marks the running binary as needing the shared folder: test_main then skips the whole binary
// (exit 77, with a message naming the folder) when it is absent. Call from a static initializer:
//   R1_TEST_NEEDS_SHARED_DIR();
bool RegisterNeedsSharedDir();
#define R1_TEST_NEEDS_SHARED_DIR() \
  static const bool r1_needs_shared_dir_ = ::r1::test::RegisterNeedsSharedDir()

// Reads a whole file; empty optional when it cannot be read.
std::optional<std::vector<uint8_t>> ReadFileBytes(const std::string& path);
std::optional<std::vector<float>> ReadF32File(const std::string& path);

// Deterministic pseudo-random values for kernel tests.
std::vector<float> RandomFloats(size_t n, uint64_t seed, float lo = -1.0f, float hi = 1.0f);
// n token ids drawn uniformly from [0, n_vocab).
std::vector<int32_t> RandomTokenIds(int64_t n_vocab, size_t n, uint64_t seed);

}  // namespace r1::test
