// importance_matrix.cc — llama-imatrix's GGUF and legacy files to per-column importances.
#include "tools/importance_matrix.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "absl/strings/str_format.h"
#include "gguf/gguf_reader.h"

namespace r1::tools {
namespace {

constexpr std::string_view kSums = ".in_sum2", kCounts = ".counts";

bool StripSuffix(std::string_view& s, std::string_view suffix) {
  if (s.size() <= suffix.size() || s.substr(s.size() - suffix.size()) != suffix) return false;
  s.remove_suffix(suffix.size());
  return true;
}

StatusOr<ImportanceMatrix> LoadGguf(const std::string& path) {
  R1_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> f, GgufFile::Open(path));
  ImportanceMatrix m;
  std::map<std::string, std::pair<const GgufTensorInfo*, const GgufTensorInfo*>, std::less<>> parts;
  for (const GgufTensorInfo& t : f->tensors()) {
    std::string_view name = t.name;
    if (StripSuffix(name, kSums)) {
      parts[std::string(name)].first = &t;
    } else if (StripSuffix(name, kCounts)) {
      parts[std::string(name)].second = &t;
    }
  }
  if (parts.empty()) return absl::InvalidArgumentError(absl::StrFormat("'%s' holds no importance matrix", path));
  for (const auto& [name, p] : parts) {
    const auto [sums, counts] = p;
    if (sums == nullptr || counts == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrFormat("'%s': '%s' lacks its %s tensor", path, name, sums == nullptr ? kSums : kCounts));
    }
    if (sums->type != DType::kF32 || counts->type != DType::kF32 || counts->n_elements == 0 ||
        sums->n_elements % counts->n_elements != 0) {
      return absl::InvalidArgumentError(absl::StrFormat("'%s': '%s' has tensors of unexpected types or shapes", path, name));
    }
    const uint64_t n_mat = counts->n_elements, n_in = sums->n_elements / n_mat;
    std::vector<float> sum(sums->n_elements), count(n_mat);
    std::memcpy(sum.data(), sums->data, sum.size() * sizeof(float));
    std::memcpy(count.data(), counts->data, count.size() * sizeof(float));
    std::vector<float>& col = m.columns[name];
    col.resize(sum.size());
    for (uint64_t e = 0; e < n_mat; ++e) {
      // An expert no calibration token reached gets neutral importance.
      for (uint64_t i = 0; i < n_in; ++i) col[e * n_in + i] = count[e] > 0 ? sum[e * n_in + i] / count[e] : 1.0f;
    }
  }
  if (f->Has("imatrix.chunk_count")) {
    R1_ASSIGN_OR_RETURN(m.n_chunks, f->GetInt("imatrix.chunk_count"));
  }
  if (f->Has("imatrix.datasets")) {
    R1_ASSIGN_OR_RETURN(const GgufArray* a, f->GetArray("imatrix.datasets"));
    for (uint64_t i = 0; i < a->size(); ++i) {
      auto s = a->StringAt(i);
      if (s.ok()) m.datasets.emplace_back(*s);
    }
  }
  return m;
}

// The legacy layout: int32 count, then per entry int32 name length, name, int32 calls, int32
// values, float values (already Σ x² / count * calls); optionally int32 chunks, int32 length,
// dataset name.
class LegacyReader {
 public:
  LegacyReader(const std::string& path, std::vector<uint8_t> bytes) : path_(path), bytes_(std::move(bytes)) {}
  bool at_end() const { return pos_ == bytes_.size(); }
  StatusOr<int32_t> Int() {
    int32_t v;
    R1_RETURN_IF_ERROR(Read(&v, sizeof(v)));
    return v;
  }
  Status Read(void* out, uint64_t n) {
    if (n > bytes_.size() - pos_) {
      return absl::InvalidArgumentError(absl::StrFormat("'%s' ends early: not a complete importance matrix", path_));
    }
    std::memcpy(out, bytes_.data() + pos_, n);
    pos_ += n;
    return absl::OkStatus();
  }
  uint64_t remaining() const { return bytes_.size() - pos_; }

 private:
  std::string path_;
  std::vector<uint8_t> bytes_;
  uint64_t pos_ = 0;
};

StatusOr<ImportanceMatrix> LoadLegacy(const std::string& path, std::vector<uint8_t> bytes) {
  LegacyReader in(path, std::move(bytes));
  ImportanceMatrix m;
  R1_ASSIGN_OR_RETURN(const int32_t n_entries, in.Int());
  if (n_entries < 1) return absl::InvalidArgumentError(absl::StrFormat("'%s' is not an importance matrix", path));
  for (int32_t i = 0; i < n_entries; ++i) {
    R1_ASSIGN_OR_RETURN(const int32_t len, in.Int());
    if (len < 1 || static_cast<uint64_t>(len) > in.remaining()) {
      return absl::InvalidArgumentError(absl::StrFormat("'%s': entry %d has a bad name length", path, i));
    }
    std::string name(static_cast<size_t>(len), '\0');
    R1_RETURN_IF_ERROR(in.Read(name.data(), name.size()));
    R1_ASSIGN_OR_RETURN(const int32_t n_calls, in.Int());
    R1_ASSIGN_OR_RETURN(const int32_t n_values, in.Int());
    if (n_values < 1 || static_cast<uint64_t>(n_values) * 4 > in.remaining()) {
      return absl::InvalidArgumentError(absl::StrFormat("'%s': '%s' has a bad value count", path, name));
    }
    std::vector<float> v(static_cast<size_t>(n_values));
    R1_RETURN_IF_ERROR(in.Read(v.data(), v.size() * sizeof(float)));
    if (n_calls > 0) {
      for (float& x : v) x /= static_cast<float>(n_calls);
    }
    m.columns[name] = std::move(v);
  }
  if (!in.at_end()) {
    R1_ASSIGN_OR_RETURN(const int32_t n_chunks, in.Int());
    m.n_chunks = n_chunks;
    if (!in.at_end()) {
      R1_ASSIGN_OR_RETURN(const int32_t len, in.Int());
      if (len > 0 && static_cast<uint64_t>(len) <= in.remaining()) {
        std::string dataset(static_cast<size_t>(len), '\0');
        R1_RETURN_IF_ERROR(in.Read(dataset.data(), dataset.size()));
        m.datasets.push_back(std::move(dataset));
      }
    }
  }
  return m;
}

}  // namespace

StatusOr<ImportanceMatrix> LoadImportanceMatrix(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) return absl::NotFoundError(absl::StrFormat("cannot open '%s': %s", path, std::strerror(errno)));
  char magic[4] = {};
  const size_t got = std::fread(magic, 1, sizeof(magic), f.get());
  if (got == sizeof(magic) && std::memcmp(magic, "GGUF", 4) == 0) {
    f.reset();
    return LoadGguf(path);
  }
  // Legacy files are small (a few floats per column of every matrix): read whole, bounded.
  constexpr uint64_t kMaxLegacyBytes = uint64_t{1} << 30;
  if (std::fseek(f.get(), 0, SEEK_END) != 0) return absl::InternalError("cannot seek '" + path + "'");
  const long size = std::ftell(f.get());
  if (size < 0 || static_cast<uint64_t>(size) > kMaxLegacyBytes) {
    return absl::InvalidArgumentError(absl::StrFormat("'%s' is too large for a legacy importance matrix", path));
  }
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  std::rewind(f.get());
  if (std::fread(bytes.data(), 1, bytes.size(), f.get()) != bytes.size()) {
    return absl::InternalError("error reading '" + path + "'");
  }
  return LoadLegacy(path, std::move(bytes));
}

}  // namespace r1::tools
