// gguf_reader.h — a validating, zero-copy reader of GGUF v2/v3 files.
//
// Every count, length, offset and size in the file is checked against the file size with
// overflow-safe arithmetic before it is used, and nothing is allocated from a count the file
// claims until that count has been shown to fit in the bytes that remain. Strings and tensor
// data are views into the mapping; they live as long as the GgufFile.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/types/span.h"
#include "r1/dtype.h"
#include "r1/status.h"

namespace r1 {

class MappedFile;
class GgufParser;  // gguf_reader.cc

namespace gguf_internal {
// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. Shared with the writer,
// which refuses to produce what the reader would reject.
bool IsValidUtf8(std::string_view s);
}  // namespace gguf_internal

// Metadata value types, numbered as in the file format.
enum class GgufType : uint32_t {
  kUint8 = 0, kInt8 = 1, kUint16 = 2, kInt16 = 3, kUint32 = 4, kInt32 = 5, kFloat32 = 6,
  kBool = 7, kString = 8, kArray = 9, kUint64 = 10, kInt64 = 11, kFloat64 = 12,
};
std::string_view GgufTypeName(GgufType t);

// An array value: element type, length, and where its elements start in the file.
class GgufArray {
 public:
  GgufType type() const { return type_; }
  uint64_t size() const { return size_; }
  // Element i converted; an error names the key when the element type does not convert.
  StatusOr<int64_t> IntAt(uint64_t i) const;        // any integer or bool element
  StatusOr<double> FloatAt(uint64_t i) const;       // float32/float64 (and integers)
  StatusOr<std::string_view> StringAt(uint64_t i) const;
  // Raw little-endian element bytes for numeric arrays (size() * element size bytes).
  const uint8_t* data() const { return data_; }

 private:
  friend class GgufFile;
  friend class GgufParser;
  std::string_view key_;
  GgufType type_ = GgufType::kUint8;
  uint64_t size_ = 0;
  const uint8_t* data_ = nullptr;                 // first element
  std::vector<std::string_view> strings_;         // string arrays, indexed once at open
};

// One key/value pair of the metadata section.
struct GgufKeyValue {
  std::string_view key;
  GgufType type;
  const uint8_t* value;   // the encoded value in the file (after the type tag)
  const GgufArray* array; // set when type == kArray
};

// One entry of the tensor table.
struct GgufTensorInfo {
  std::string_view name;
  DType type;
  uint32_t n_dims;
  uint64_t ne[4];        // ne[0] is the contiguous (innermost) dimension; unused dims are 1
  uint64_t n_elements;
  uint64_t n_bytes;      // ne[1]*ne[2]*ne[3] rows of RowBytes(type, ne[0])
  uint64_t file_offset;  // absolute offset of the data in the file
  const uint8_t* data;   // view into the mapping
  uint32_t shard = 0;    // which file of a split model holds the data (0: this one)
};

struct GgufLimits {
  uint64_t max_string_bytes = uint64_t{1} << 26;     // one metadata string (64 MiB)
  uint64_t max_array_elements = uint64_t{1} << 26;   // one metadata array
  uint64_t max_kv_count = uint64_t{1} << 20;
  uint64_t max_tensor_count = uint64_t{1} << 20;
};

class GgufFile {
 public:
  // Maps `path` read-only and parses it. Errors name the file and the problem.
  static StatusOr<std::unique_ptr<GgufFile>> Open(const std::string& path,
                                                  const GgufLimits& limits = {});
  // Parses bytes the caller keeps alive for the GgufFile's lifetime (tests, fuzzing).
  static StatusOr<std::unique_ptr<GgufFile>> FromBuffer(absl::Span<const uint8_t> bytes,
                                                        const GgufLimits& limits = {});
  // As above, naming the bytes `name` (e.g. the path of a file the caller mapped) in errors.
  static StatusOr<std::unique_ptr<GgufFile>> FromBuffer(absl::Span<const uint8_t> bytes,
                                                        std::string name,
                                                        const GgufLimits& limits = {});
  ~GgufFile();
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  // The path, or the name given to FromBuffer ("<buffer>" by default), as errors show it.
  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // start of the tensor data section
  absl::Span<const uint8_t> bytes() const { return bytes_; }

  absl::Span<const GgufKeyValue> metadata() const { return kvs_; }
  const GgufKeyValue* Find(std::string_view key) const;  // nullptr when absent
  bool Has(std::string_view key) const { return Find(key) != nullptr; }

  // Typed getters. NotFound when absent, InvalidArgument when the stored type does not convert
  // (integers convert between widths when the value fits; floats accept float32/float64).
  StatusOr<std::string_view> GetString(std::string_view key) const;
  StatusOr<int64_t> GetInt(std::string_view key) const;
  StatusOr<uint64_t> GetUint(std::string_view key) const;
  StatusOr<double> GetFloat(std::string_view key) const;
  StatusOr<bool> GetBool(std::string_view key) const;
  StatusOr<const GgufArray*> GetArray(std::string_view key) const;

  absl::Span<const GgufTensorInfo> tensors() const { return tensors_; }
  const GgufTensorInfo* FindTensor(std::string_view name) const;  // nullptr when absent

  // Adds the tensors of `shard`, file number `shard_index` of a split model, to this file's
  // table (their data stays in the shard, which the caller keeps alive as long as this file).
  // A tensor name already present is an error naming the shard.
  Status AddShardTensors(const GgufFile& shard, uint32_t shard_index);

 private:
  friend class GgufParser;
  GgufFile() = default;
  Status Parse(const GgufLimits& limits);

  std::unique_ptr<MappedFile> mapping_;
  std::string path_;  // for error messages ("<buffer>" when parsed from memory)
  absl::Span<const uint8_t> bytes_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<GgufKeyValue> kvs_;
  std::vector<std::unique_ptr<GgufArray>> arrays_;
  std::vector<GgufTensorInfo> tensors_;
  // name -> index maps; see gguf_reader.cc
  struct Index;
  std::unique_ptr<Index> index_;
};

}  // namespace r1
