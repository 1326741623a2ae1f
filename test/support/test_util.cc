#include "support/test_util.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

namespace r1::test {

namespace {
bool g_needs_shared = false;
}

std::optional<std::string> SharedDir() {
  const char* dir = std::getenv("R1_SHARED_DIR");
  if (dir == nullptr || !std::filesystem::is_directory(dir)) return std::nullopt;
  return std::string(dir);
}

std::vector<std::string> SharedModelPaths() {
  std::vector<std::string> paths;
  for (const char* folder : {"/reference", "/models"}) {
    for (const auto& entry : std::filesystem::directory_iterator(*SharedDir() + folder)) {
      if (entry.path().extension() == ".gguf") paths.push_back(entry.path().string());
    }
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

bool RegisterNeedsSharedDir() {
  g_needs_shared = true;
  return true;
}

bool NeedsSharedDir() { return g_needs_shared; }

std::optional<std::vector<uint8_t>> ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return bytes;
}

std::optional<std::vector<float>> ReadF32File(const std::string& path) {
  auto bytes = ReadFileBytes(path);
  if (!bytes || bytes->size() % 4 != 0) return std::nullopt;
  std::vector<float> out(bytes->size() / 4);
  std::memcpy(out.data(), bytes->data(), bytes->size());
  return out;
}

std::vector<float> RandomFloats(size_t n, uint64_t seed, float lo, float hi) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> out(n);
  for (float& v : out) v = dist(rng);
  return out;
}

std::vector<int32_t> RandomTokenIds(int64_t n_vocab, size_t n, uint64_t seed) {
  std::vector<int32_t> ids;
  for (float v : RandomFloats(n, seed, 0.0f, float(n_vocab) - 0.01f)) ids.push_back(int32_t(v));
  return ids;
}

}  // namespace r1::test
