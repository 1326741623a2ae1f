// gguf_split.cc — shard names, and opening every shard of a split model.
#include "gguf/gguf_split.h"

#include <charconv>

#include "absl/strings/str_format.h"

namespace r1 {
namespace {

constexpr std::string_view kSplitNo = "split.no";
constexpr std::string_view kSplitCount = "split.count";
constexpr std::string_view kSplitTensors = "split.tensors.count";

// Five or more decimal digits (gguf-split writes %05d) as a number in [0, kMaxSplitCount].
std::optional<int> ParseShardNumber(std::string_view digits) {
  if (digits.size() < 5) return std::nullopt;
  int value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size() || value > kMaxSplitCount) return std::nullopt;
  return value;
}

// A shard's split.* key as an integer, or an error naming the shard and the key.
StatusOr<int64_t> SplitKey(const GgufFile& shard, std::string_view key) {
  auto value = shard.GetInt(key);
  if (!value.ok()) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: %s", shard.path(), value.status().message()));
  }
  return *value;
}

StatusOr<std::unique_ptr<GgufFile>> OpenShard(const std::string& path, bool use_mmap,
                                              std::vector<std::unique_ptr<MappedFile>>& maps) {
  auto map = MappedFile::Open(path, use_mmap);
  if (!map.ok()) return map.status();
  maps.push_back(*std::move(map));
  return GgufFile::FromBuffer(maps.back()->bytes(), path);
}

// Shard `index` of `count` carries split.no == index and split.count == count.
Status CheckShardKeys(const GgufFile& shard, int index, int count) {
  R1_ASSIGN_OR_RETURN(const int64_t no, SplitKey(shard, kSplitNo));
  R1_ASSIGN_OR_RETURN(const int64_t n, SplitKey(shard, kSplitCount));
  if (n != count) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: split.count is %d but the model has %d shards", shard.path(), n, count));
  }
  if (no != index) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: split.no is %d but the file is shard %d of %d (split.no counts from 0)", shard.path(), no, index, count));
  }
  return absl::OkStatus();
}

}  // namespace

std::optional<SplitPathParts> ParseSplitPath(std::string_view path) {
  // PREFIX-NNNNN-of-MMMMM.gguf
  constexpr std::string_view kExtension = ".gguf";
  if (path.size() <= kExtension.size() || !path.ends_with(kExtension)) return std::nullopt;
  std::string_view stem = path.substr(0, path.size() - kExtension.size());
  const size_t of = stem.rfind("-of-");
  if (of == std::string_view::npos) return std::nullopt;
  const std::optional<int> count = ParseShardNumber(stem.substr(of + 4));
  stem = stem.substr(0, of);
  const size_t dash = stem.rfind('-');
  if (dash == std::string_view::npos || dash == 0) return std::nullopt;
  const std::optional<int> number = ParseShardNumber(stem.substr(dash + 1));
  if (!count || !number || *count < 1 || *number < 1 || *number > *count) return std::nullopt;
  return SplitPathParts{std::string(stem.substr(0, dash)), *number - 1, *count};
}

std::string SplitPath(std::string_view prefix, int index, int count) {
  return absl::StrFormat("%s-%05d-of-%05d.gguf", prefix, index + 1, count);
}

uint64_t GgufModelFiles::total_bytes() const {
  uint64_t total = 0;
  for (const auto& map : maps) total += map->bytes().size();
  return total;
}

StatusOr<GgufModelFiles> OpenGgufModelFiles(const std::string& path, bool use_mmap) {
  GgufModelFiles out;
  const std::optional<SplitPathParts> parts = ParseSplitPath(path);
  const std::string first_path = parts ? SplitPath(parts->prefix, 0, parts->count) : path;
  auto first = OpenShard(first_path, use_mmap, out.maps);
  if (!first.ok()) {
    if (parts && parts->index != 0 && absl::IsNotFound(first.status())) {
      return absl::NotFoundError(absl::StrFormat("%s: the first shard of this split model is missing (%s)", path,
                                                 first.status().message()));
    }
    return first.status();
  }
  out.paths.push_back(first_path);
  out.files.push_back(*std::move(first));
  GgufFile& model = *out.files[0];

  // Not split: no split.count, or a count of 1.
  int count = 1;
  if (model.Has(kSplitCount)) {
    R1_ASSIGN_OR_RETURN(const int64_t n, SplitKey(model, kSplitCount));
    if (n < 1 || n > kMaxSplitCount) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: split.count is %d (1 to %d)", model.path(), n, kMaxSplitCount));
    }
    count = static_cast<int>(n);
  }
  if (parts && parts->count != count) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: the name says %d shards but split.count is %s",
                                                      first_path, parts->count,
                                                      model.Has(kSplitCount) ? std::to_string(count) : "absent"));
  }
  if (count == 1) return out;
  if (!parts) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s is one shard of %d but is not named PREFIX-NNNNN-of-%05d.gguf, so the other shards cannot be found",
        path, count, count));
  }
  R1_RETURN_IF_ERROR(CheckShardKeys(model, 0, count));
  R1_ASSIGN_OR_RETURN(const int64_t want_tensors, SplitKey(model, kSplitTensors));

  for (int i = 1; i < count; ++i) {
    const std::string shard_path = SplitPath(parts->prefix, i, count);
    auto shard = OpenShard(shard_path, use_mmap, out.maps);
    if (!shard.ok()) {
      return Status(shard.status().code(), absl::StrFormat("shard %d of %d: %s", i + 1, count, shard.status().message()));
    }
    R1_RETURN_IF_ERROR(CheckShardKeys(**shard, i, count));
    R1_RETURN_IF_ERROR(model.AddShardTensors(**shard, static_cast<uint32_t>(i)));
    out.paths.push_back(shard_path);
    out.files.push_back(*std::move(shard));
  }
  if (static_cast<int64_t>(model.tensors().size()) != want_tensors) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: split.tensors.count is %d but the %d shards hold %d tensors",
                                                      first_path, want_tensors, count, model.tensors().size()));
  }
  return out;
}

}  // namespace r1
