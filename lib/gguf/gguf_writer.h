// gguf_writer.h — builds GGUF v2/v3 files: metadata of every type, then tensors.
//
// The writer refuses to produce what GgufFile would reject (bad UTF-8, partial blocks, byte
// counts that do not match the shape, duplicate tensors), so anything it writes reads back.
// Metadata keeps insertion order; setting a key again replaces its value in place. Tensors are
// laid out in insertion order, each at a multiple of the alignment.
//
//   GgufWriter w;
//   R1_RETURN_IF_ERROR(w.SetString("general.architecture", "qwen2"));
//   R1_RETURN_IF_ERROR(w.AddTensorView("token_embd.weight", DType::kF32, {256, 381}, bytes));
//   R1_RETURN_IF_ERROR(w.WriteToFile(path));
//
// Thread-compatible: one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/types/span.h"
#include "gguf/gguf_reader.h"
#include "r1/dtype.h"
#include "r1/status.h"

namespace r1 {

namespace gguf_internal {
class Sink;  // where GgufWriter's bytes go: memory or a file
}  // namespace gguf_internal

class GgufWriter {
 public:
  // Produces a tensor's bytes at write time into `out`, which has exactly the tensor's byte
  // size; lets a converter write a large model one tensor at a time.
  using TensorFiller = std::function<Status(absl::Span<uint8_t> out)>;

  GgufWriter();
  ~GgufWriter();
  GgufWriter(const GgufWriter&) = delete;
  GgufWriter& operator=(const GgufWriter&) = delete;

  Status SetVersion(uint32_t version);  // 2 or 3 (the default)
  // A power of two; stored as the uint32 key general.alignment (default 32 when never set).
  Status SetAlignment(uint32_t alignment);

  // Scalars. Keys and strings must be valid UTF-8; keys must not be empty.
  Status SetUint8(std::string_view key, uint8_t value);
  Status SetInt8(std::string_view key, int8_t value);
  Status SetUint16(std::string_view key, uint16_t value);
  Status SetInt16(std::string_view key, int16_t value);
  Status SetUint32(std::string_view key, uint32_t value);
  Status SetInt32(std::string_view key, int32_t value);
  Status SetUint64(std::string_view key, uint64_t value);
  Status SetInt64(std::string_view key, int64_t value);
  Status SetFloat32(std::string_view key, float value);
  Status SetFloat64(std::string_view key, double value);
  Status SetBool(std::string_view key, bool value);
  Status SetString(std::string_view key, std::string_view value);

  // Arrays; the element type follows the span's element type.
  Status SetArray(std::string_view key, absl::Span<const uint8_t> values);
  Status SetArray(std::string_view key, absl::Span<const int8_t> values);
  Status SetArray(std::string_view key, absl::Span<const uint16_t> values);
  Status SetArray(std::string_view key, absl::Span<const int16_t> values);
  Status SetArray(std::string_view key, absl::Span<const uint32_t> values);
  Status SetArray(std::string_view key, absl::Span<const int32_t> values);
  Status SetArray(std::string_view key, absl::Span<const uint64_t> values);
  Status SetArray(std::string_view key, absl::Span<const int64_t> values);
  Status SetArray(std::string_view key, absl::Span<const float> values);
  Status SetArray(std::string_view key, absl::Span<const double> values);
  Status SetBoolArray(std::string_view key, const std::vector<bool>& values);
  Status SetStringArray(std::string_view key, absl::Span<const std::string> values);
  Status SetStringArray(std::string_view key, absl::Span<const std::string_view> values);

  bool HasKey(std::string_view key) const;
  size_t kv_count() const { return kvs_.size(); }
  size_t tensor_count() const { return tensors_.size(); }

  // Tensors: `ne` has 1 to 4 non-zero dimensions, ne[0] innermost and a whole number of
  // blocks of `type`; the data must be exactly ne[1]*ne[2]*ne[3] rows of RowBytes(type, ne[0]).
  // AddTensor copies the bytes.
  Status AddTensor(std::string_view name, DType type, absl::Span<const uint64_t> ne,
                   absl::Span<const uint8_t> data);
  // The bytes stay with the caller and must stay alive until the last Serialize/WriteToFile.
  Status AddTensorView(std::string_view name, DType type, absl::Span<const uint64_t> ne,
                       absl::Span<const uint8_t> data);
  // The bytes are produced by `fill` when the file is written (once per write).
  Status AddTensorFiller(std::string_view name, DType type, absl::Span<const uint64_t> ne,
                         TensorFiller fill);

  // Size of the file Serialize/WriteToFile would produce.
  StatusOr<uint64_t> FileSize() const;
  // The whole file in memory.
  StatusOr<std::vector<uint8_t>> Serialize() const;
  // Streams the file to `path` (via `path`.tmp, renamed on success): the header, then each
  // tensor's bytes straight from its view or filler, so no second copy of the data is held.
  Status WriteToFile(const std::string& path) const;

 private:
  struct Kv {
    std::string key;
    GgufType type;
    std::vector<uint8_t> value;  // encoded value, after the type tag
  };
  struct Tensor {
    std::string name;
    DType type;
    uint32_t n_dims;
    uint64_t ne[4];
    uint64_t n_bytes;
    std::vector<uint8_t> owned;      // AddTensor
    absl::Span<const uint8_t> view;  // AddTensor (into owned) and AddTensorView
    TensorFiller fill;               // AddTensorFiller
  };
  Status SetValue(std::string_view key, GgufType type, std::vector<uint8_t> value);
  template <typename T>
  Status SetNumberArray(std::string_view key, GgufType elem_type, absl::Span<const T> values);
  Status SetStrings(std::string_view key, size_t n,
                    const std::function<std::string_view(size_t)>& at);
  StatusOr<Tensor*> NewTensor(std::string_view name, DType type, absl::Span<const uint64_t> ne);
  StatusOr<uint64_t> Alignment() const;
  // The header (magic through tensor table) padded to the alignment, plus each tensor's
  // offset relative to the data section.
  Status BuildHeader(std::vector<uint8_t>* header, std::vector<uint64_t>* offsets) const;
  Status Write(gguf_internal::Sink& sink) const;

  uint32_t version_ = 3;
  std::vector<Kv> kvs_;
  absl::flat_hash_map<std::string, size_t> kv_index_;
  std::vector<std::unique_ptr<Tensor>> tensors_;
  absl::flat_hash_map<std::string, size_t> tensor_index_;
};

}  // namespace r1
