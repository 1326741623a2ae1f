#include "reference_data.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "support/test_util.h"

namespace r1::test {

nlohmann::json ReadJson(const std::string& path) {
  std::ifstream in(path);
  if (!in) return nullptr;
  return nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
}

std::vector<float> ReadLogits(const std::string& path, size_t rows, size_t n_vocab) {
  auto values = ReadF32File(path);
  if (!values || values->size() != rows * n_vocab) return {};
  return *values;
}

double MaxAbsDiff(const float* a, const float* b, size_t n) {
  double worst = 0.0;
  for (size_t i = 0; i < n; ++i) worst = std::max(worst, std::fabs(double(a[i]) - double(b[i])));
  return worst;
}

double Top2Margin(const float* x, size_t n) {
  float first = -INFINITY, second = -INFINITY;
  for (size_t i = 0; i < n; ++i) {
    if (x[i] > first) {
      second = first;
      first = x[i];
    } else if (x[i] > second) {
      second = x[i];
    }
  }
  return double(first) - double(second);
}

double LogitBound(const std::string& quant_type, bool exact_variant) {
  if (quant_type == "F32") return exact_variant ? 1e-4 : 5e-3;
  if (quant_type == "F16") return 5e-3;
  if (quant_type == "BF16") return 1e-2;
  for (const char* t : {"Q8_0", "Q6_K", "Q5_0", "Q5_1", "Q5_K", "Q5_K_M"}) {
    if (quant_type == t) return 0.05;
  }
  for (const char* t : {"Q4_0", "Q4_1", "Q4_K", "Q4_K_M", "Q4_K_S"}) {
    if (quant_type == t) return 0.1;
  }
  for (const char* t : {"Q3_K", "Q2_K", "Q3_K_M", "Q3_K_S"}) {
    if (quant_type == t) return 0.2;
  }
  return -1.0;  // unknown type: the test reports it
}

std::vector<std::string> FilesEndingWith(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(entry.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool CacheTypeFits(const std::shared_ptr<const Model>& model, CacheType type) {
  SessionOptions options;
  options.n_ctx = 8;
  options.cache_type = type;
  if (Session::Create(model, options).ok()) return true;
  MESSAGE(model->path(), ": no ", std::string(CacheTypeName(type)), " cache (head sizes are not multiples of its blocks)");
  return false;
}

}  // namespace r1::test
