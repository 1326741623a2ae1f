// gguf_writer.cc — encoding of metadata and tensor tables, and output to memory or a file.
#include "gguf/gguf_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <exception>
#include <limits>
#include <new>
#include <optional>
#include <utility>

#include "absl/strings/str_format.h"

namespace r1 {

static_assert(std::endian::native == std::endian::little,
              "the GGUF writer copies values in host byte order");

namespace {

using gguf_internal::IsValidUtf8;

constexpr uint64_t kDefaultAlignment = 32;
constexpr std::string_view kAlignmentKey = "general.alignment";

template <typename T>
void Put(std::vector<uint8_t>& out, T v) {
  const size_t at = out.size();
  out.resize(at + sizeof(T));
  std::memcpy(out.data() + at, &v, sizeof(T));
}

void PutString(std::vector<uint8_t>& out, std::string_view s) {
  Put<uint64_t>(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

template <typename T>
std::vector<uint8_t> Encode(T v) {
  std::vector<uint8_t> out;
  Put(out, v);
  return out;
}

Status CheckName(std::string_view what, std::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError(absl::StrFormat("empty %s", what));
  if (!IsValidUtf8(name)) {
    return absl::InvalidArgumentError(absl::StrFormat("%s is not valid UTF-8", what));
  }
  return absl::OkStatus();
}

uint64_t AlignUp(uint64_t n, uint64_t a) { return (n + a - 1) & ~(a - 1); }

}  // namespace

namespace gguf_internal {

// Where GgufWriter::Write sends the bytes: a vector or a file descriptor.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual Status Append(absl::Span<const uint8_t> bytes) = 0;
  // A writable region of n bytes that becomes the next output once Commit is called.
  virtual StatusOr<absl::Span<uint8_t>> Reserve(uint64_t n) = 0;
  virtual Status Commit(absl::Span<uint8_t> region) = 0;

  Status AppendZeros(uint64_t n) {
    static constexpr uint8_t kZeros[4096] = {};
    while (n > 0) {
      const uint64_t k = n < sizeof(kZeros) ? n : sizeof(kZeros);
      R1_RETURN_IF_ERROR(Append({kZeros, static_cast<size_t>(k)}));
      n -= k;
    }
    return absl::OkStatus();
  }
};

}  // namespace gguf_internal

namespace {

class VectorSink final : public gguf_internal::Sink {
 public:
  explicit VectorSink(std::vector<uint8_t>* out) : out_(out) {}
  Status Append(absl::Span<const uint8_t> bytes) override {
    out_->insert(out_->end(), bytes.begin(), bytes.end());
    return absl::OkStatus();
  }
  StatusOr<absl::Span<uint8_t>> Reserve(uint64_t n) override {
    const size_t at = out_->size();
    out_->resize(at + n);
    return absl::Span<uint8_t>(out_->data() + at, n);
  }
  Status Commit(absl::Span<uint8_t>) override { return absl::OkStatus(); }

 private:
  std::vector<uint8_t>* out_;
};

class FileSink final : public gguf_internal::Sink {
 public:
  FileSink(int fd, const std::string& path) : fd_(fd), path_(path) {}
  Status Append(absl::Span<const uint8_t> bytes) override {
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        return absl::UnavailableError(
            absl::StrFormat("cannot write '%s': %s", path_, std::strerror(errno)));
      }
      done += static_cast<size_t>(n);
    }
    return absl::OkStatus();
  }
  StatusOr<absl::Span<uint8_t>> Reserve(uint64_t n) override {
    if (n > scratch_size_) {
      scratch_.reset(new (std::nothrow) uint8_t[n]);
      scratch_size_ = scratch_ ? n : 0;
      if (!scratch_) {
        return absl::ResourceExhaustedError(
            absl::StrFormat("cannot allocate %d bytes for a tensor of '%s'", n, path_));
      }
    }
    return absl::Span<uint8_t>(scratch_.get(), n);
  }
  Status Commit(absl::Span<uint8_t> region) override { return Append(region); }

 private:
  int fd_;
  const std::string& path_;
  std::unique_ptr<uint8_t[]> scratch_;  // one tensor's filler output, reused
  uint64_t scratch_size_ = 0;
};

}  // namespace

GgufWriter::GgufWriter() = default;
GgufWriter::~GgufWriter() = default;

Status GgufWriter::SetVersion(uint32_t version) {
  if (version != 2 && version != 3) {
    return absl::InvalidArgumentError(
        absl::StrFormat("GGUF version %d cannot be written (2 or 3)", version));
  }
  version_ = version;
  return absl::OkStatus();
}

Status GgufWriter::SetAlignment(uint32_t alignment) {
  if (!std::has_single_bit(alignment)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("alignment %d is not a power of two", alignment));
  }
  return SetUint32(kAlignmentKey, alignment);
}

// ---- metadata ----

Status GgufWriter::SetValue(std::string_view key, GgufType type, std::vector<uint8_t> value) {
  R1_RETURN_IF_ERROR(CheckName("key", key));
  const auto it = kv_index_.find(std::string(key));
  if (it != kv_index_.end()) {
    kvs_[it->second].type = type;
    kvs_[it->second].value = std::move(value);
    return absl::OkStatus();
  }
  kv_index_.emplace(std::string(key), kvs_.size());
  kvs_.push_back(Kv{std::string(key), type, std::move(value)});
  return absl::OkStatus();
}

bool GgufWriter::HasKey(std::string_view key) const {
  return kv_index_.contains(std::string(key));
}

Status GgufWriter::SetUint8(std::string_view k, uint8_t v) {
  return SetValue(k, GgufType::kUint8, Encode(v));
}
Status GgufWriter::SetInt8(std::string_view k, int8_t v) {
  return SetValue(k, GgufType::kInt8, Encode(v));
}
Status GgufWriter::SetUint16(std::string_view k, uint16_t v) {
  return SetValue(k, GgufType::kUint16, Encode(v));
}
Status GgufWriter::SetInt16(std::string_view k, int16_t v) {
  return SetValue(k, GgufType::kInt16, Encode(v));
}
Status GgufWriter::SetUint32(std::string_view k, uint32_t v) {
  return SetValue(k, GgufType::kUint32, Encode(v));
}
Status GgufWriter::SetInt32(std::string_view k, int32_t v) {
  return SetValue(k, GgufType::kInt32, Encode(v));
}
Status GgufWriter::SetUint64(std::string_view k, uint64_t v) {
  return SetValue(k, GgufType::kUint64, Encode(v));
}
Status GgufWriter::SetInt64(std::string_view k, int64_t v) {
  return SetValue(k, GgufType::kInt64, Encode(v));
}
Status GgufWriter::SetFloat32(std::string_view k, float v) {
  return SetValue(k, GgufType::kFloat32, Encode(v));
}
Status GgufWriter::SetFloat64(std::string_view k, double v) {
  return SetValue(k, GgufType::kFloat64, Encode(v));
}
Status GgufWriter::SetBool(std::string_view k, bool v) {
  return SetValue(k, GgufType::kBool, Encode<uint8_t>(v ? 1 : 0));
}

Status GgufWriter::SetString(std::string_view key, std::string_view value) {
  if (!IsValidUtf8(value)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("value of key '%s' is not valid UTF-8", key));
  }
  std::vector<uint8_t> out;
  PutString(out, value);
  return SetValue(key, GgufType::kString, std::move(out));
}

template <typename T>
Status GgufWriter::SetNumberArray(std::string_view key, GgufType elem_type,
                                  absl::Span<const T> values) {
  std::vector<uint8_t> out;
  out.reserve(12 + values.size() * sizeof(T));
  Put<uint32_t>(out, static_cast<uint32_t>(elem_type));
  Put<uint64_t>(out, values.size());
  const size_t at = out.size();
  out.resize(at + values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(out.data() + at, values.data(), values.size() * sizeof(T));
  return SetValue(key, GgufType::kArray, std::move(out));
}

Status GgufWriter::SetArray(std::string_view k, absl::Span<const uint8_t> v) {
  return SetNumberArray(k, GgufType::kUint8, v);
}
Status GgufWriter::SetArray(std::string_view k, absl::Span<const int8_t> v) {
  return SetNumberArray(k, GgufType::kInt8, v);
}
Status GgufWriter::SetArray(std::string_view k, absl::Span<const uint16_t> v) {
  return SetNumberArray(k, GgufType::kUint16, v);
}
Status GgufWriter::SetArray(std::string_view k, absl::Span<const int16_t> v) {
  return SetNumberArray(k, GgufType::kInt16, v);
}
Status GgufWriter::SetArray(std::string_view k, absl::Span<const uint32_t> v) {
  return SetNumberArray(k, GgufType::kUint32, v);
}
Status GgufWriter::SetArray(std::string_view k, absl::Span<const int32_t> v) {
  return SetNumberArray(k, GgufType::kInt32, v);
}
Status GgufWriter::SetArray(std::string_view k, absl::Span<const uint64_t> v) {
  return SetNumberArray(k, GgufType::kUint64, v);
}
Status GgufWriter::SetArray(std::string_view k, absl::Span<const int64_t> v) {
  return SetNumberArray(k, GgufType::kInt64, v);
}
Status GgufWriter::SetArray(std::string_view k, absl::Span<const float> v) {
  return SetNumberArray(k, GgufType::kFloat32, v);
}
Status GgufWriter::SetArray(std::string_view k, absl::Span<const double> v) {
  return SetNumberArray(k, GgufType::kFloat64, v);
}

Status GgufWriter::SetBoolArray(std::string_view key, const std::vector<bool>& values) {
  std::vector<uint8_t> bytes(values.size());
  for (size_t i = 0; i < values.size(); ++i) bytes[i] = values[i] ? 1 : 0;
  return SetNumberArray(key, GgufType::kBool, absl::Span<const uint8_t>(bytes));
}

Status GgufWriter::SetStrings(std::string_view key, size_t n,
                              const std::function<std::string_view(size_t)>& at) {
  std::vector<uint8_t> out;
  Put<uint32_t>(out, static_cast<uint32_t>(GgufType::kString));
  Put<uint64_t>(out, n);
  for (size_t i = 0; i < n; ++i) {
    const std::string_view s = at(i);
    if (!IsValidUtf8(s)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("element %d of array '%s' is not valid UTF-8", i, key));
    }
    PutString(out, s);
  }
  return SetValue(key, GgufType::kArray, std::move(out));
}

Status GgufWriter::SetStringArray(std::string_view key, absl::Span<const std::string> values) {
  return SetStrings(key, values.size(), [&](size_t i) { return std::string_view(values[i]); });
}

Status GgufWriter::SetStringArray(std::string_view key,
                                  absl::Span<const std::string_view> values) {
  return SetStrings(key, values.size(), [&](size_t i) { return values[i]; });
}

// ---- tensors ----

StatusOr<GgufWriter::Tensor*> GgufWriter::NewTensor(std::string_view name, DType type,
                                                   absl::Span<const uint64_t> ne) {
  R1_RETURN_IF_ERROR(CheckName("tensor name", name));
  if (tensor_index_.contains(std::string(name))) {
    return absl::AlreadyExistsError(absl::StrFormat("duplicate tensor '%s'", name));
  }
  const std::optional<DTypeTraits> traits = GetDTypeTraits(static_cast<uint32_t>(type));
  if (!traits) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "tensor '%s' has unknown type %d", name, static_cast<uint32_t>(type)));
  }
  if (ne.empty() || ne.size() > 4) {
    return absl::InvalidArgumentError(
        absl::StrFormat("tensor '%s' has %d dimensions (1 to 4)", name, ne.size()));
  }
  auto t = std::make_unique<Tensor>();
  t->name = std::string(name);
  t->type = type;
  t->n_dims = static_cast<uint32_t>(ne.size());
  uint64_t n = 1;
  for (uint32_t d = 0; d < 4; ++d) {
    t->ne[d] = d < ne.size() ? ne[d] : 1;
    if (t->ne[d] == 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("tensor '%s' has a zero dimension (ne[%d]=0)", name, d));
    }
    if (__builtin_mul_overflow(n, t->ne[d], &n) ||
        n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return absl::InvalidArgumentError(
          absl::StrFormat("element count of tensor '%s' overflows", name));
    }
  }
  const std::optional<uint64_t> row_bytes = RowBytes(type, t->ne[0]);
  if (!row_bytes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("tensor '%s': ne[0]=%d is not a multiple of the %s block size %d", name,
                        t->ne[0], traits->name, traits->block_size));
  }
  if (__builtin_mul_overflow(*row_bytes, n / t->ne[0], &t->n_bytes)) {
    return absl::InvalidArgumentError(absl::StrFormat("byte size of tensor '%s' overflows", name));
  }
  tensor_index_.emplace(t->name, tensors_.size());
  tensors_.push_back(std::move(t));
  return tensors_.back().get();
}

namespace {

Status CheckDataSize(std::string_view name, uint64_t want, size_t have) {
  if (want == have) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrFormat("tensor '%s': data has %d bytes, its shape needs %d", name, have, want));
}

}  // namespace

Status GgufWriter::AddTensorView(std::string_view name, DType type, absl::Span<const uint64_t> ne,
                                 absl::Span<const uint8_t> data) {
  R1_ASSIGN_OR_RETURN(Tensor * t, NewTensor(name, type, ne));
  if (Status s = CheckDataSize(name, t->n_bytes, data.size()); !s.ok()) {
    tensor_index_.erase(t->name);
    tensors_.pop_back();
    return s;
  }
  t->view = data;
  return absl::OkStatus();
}

Status GgufWriter::AddTensor(std::string_view name, DType type, absl::Span<const uint64_t> ne,
                             absl::Span<const uint8_t> data) {
  R1_RETURN_IF_ERROR(AddTensorView(name, type, ne, data));
  Tensor& t = *tensors_.back();
  try {
    t.owned.assign(data.begin(), data.end());
  } catch (const std::bad_alloc&) {
    tensor_index_.erase(t.name);
    tensors_.pop_back();
    return absl::ResourceExhaustedError(
        absl::StrFormat("cannot allocate %d bytes for tensor '%s'", data.size(), name));
  }
  t.view = t.owned;
  return absl::OkStatus();
}

Status GgufWriter::AddTensorFiller(std::string_view name, DType type,
                                   absl::Span<const uint64_t> ne, TensorFiller fill) {
  if (!fill) return absl::InvalidArgumentError(absl::StrFormat("tensor '%s': no filler", name));
  R1_ASSIGN_OR_RETURN(Tensor * t, NewTensor(name, type, ne));
  t->fill = std::move(fill);
  return absl::OkStatus();
}

// ---- output ----

StatusOr<uint64_t> GgufWriter::Alignment() const {
  const auto it = kv_index_.find(std::string(kAlignmentKey));
  if (it == kv_index_.end()) return kDefaultAlignment;
  const Kv& kv = kvs_[it->second];
  uint32_t a = 0;
  if (kv.type == GgufType::kUint32) std::memcpy(&a, kv.value.data(), 4);
  if (!std::has_single_bit(a)) {
    return absl::InvalidArgumentError(
        "general.alignment must be a uint32 power of two (set it with SetAlignment)");
  }
  return a;
}

Status GgufWriter::BuildHeader(std::vector<uint8_t>* header, std::vector<uint64_t>* offsets) const {
  R1_ASSIGN_OR_RETURN(const uint64_t alignment, Alignment());
  std::vector<uint8_t>& out = *header;
  out.clear();
  out.insert(out.end(), {'G', 'G', 'U', 'F'});
  Put<uint32_t>(out, version_);
  Put<uint64_t>(out, tensors_.size());
  Put<uint64_t>(out, kvs_.size());
  for (const Kv& kv : kvs_) {
    PutString(out, kv.key);
    Put<uint32_t>(out, static_cast<uint32_t>(kv.type));
    out.insert(out.end(), kv.value.begin(), kv.value.end());
  }
  offsets->clear();
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    PutString(out, t->name);
    Put<uint32_t>(out, t->n_dims);
    for (uint32_t d = 0; d < t->n_dims; ++d) Put<uint64_t>(out, t->ne[d]);
    Put<uint32_t>(out, static_cast<uint32_t>(t->type));
    Put<uint64_t>(out, offset);
    offsets->push_back(offset);
    if (__builtin_add_overflow(offset, AlignUp(t->n_bytes, alignment), &offset)) {
      return absl::InvalidArgumentError("total tensor data size overflows");
    }
  }
  // Without tensors there is no data section to align.
  if (!tensors_.empty()) out.resize(AlignUp(out.size(), alignment), 0);
  return absl::OkStatus();
}

Status GgufWriter::Write(gguf_internal::Sink& sink) const {
  std::vector<uint8_t> header;
  std::vector<uint64_t> offsets;
  R1_RETURN_IF_ERROR(BuildHeader(&header, &offsets));
  R1_ASSIGN_OR_RETURN(const uint64_t alignment, Alignment());
  R1_RETURN_IF_ERROR(sink.Append(header));
  for (const auto& t : tensors_) {
    if (t->fill) {
      R1_ASSIGN_OR_RETURN(absl::Span<uint8_t> region, sink.Reserve(t->n_bytes));
      if (Status s = t->fill(region); !s.ok()) {
        return Status(s.code(), absl::StrFormat("tensor '%s': %s", t->name, s.message()));
      }
      R1_RETURN_IF_ERROR(sink.Commit(region));
    } else {
      R1_RETURN_IF_ERROR(sink.Append(t->view));
    }
    R1_RETURN_IF_ERROR(sink.AppendZeros(AlignUp(t->n_bytes, alignment) - t->n_bytes));
  }
  return absl::OkStatus();
}

StatusOr<uint64_t> GgufWriter::FileSize() const {
  std::vector<uint8_t> header;
  std::vector<uint64_t> offsets;
  R1_RETURN_IF_ERROR(BuildHeader(&header, &offsets));
  if (tensors_.empty()) return header.size();
  R1_ASSIGN_OR_RETURN(const uint64_t alignment, Alignment());
  uint64_t size;
  if (__builtin_add_overflow(header.size(), offsets.back(), &size) ||
      __builtin_add_overflow(size, AlignUp(tensors_.back()->n_bytes, alignment), &size)) {
    return absl::InvalidArgumentError("file size overflows");
  }
  return size;
}

StatusOr<std::vector<uint8_t>> GgufWriter::Serialize() const {
  R1_ASSIGN_OR_RETURN(const uint64_t size, FileSize());
  std::vector<uint8_t> out;
  try {
    out.reserve(size);
  } catch (const std::exception&) {  // bad_alloc, or length_error past max_size()
    return absl::ResourceExhaustedError(
        absl::StrFormat("cannot allocate %d bytes for a GGUF file", size));
  }
  VectorSink sink(&out);
  R1_RETURN_IF_ERROR(Write(sink));
  return out;
}

Status GgufWriter::WriteToFile(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrFormat("cannot create '%s': %s", tmp, std::strerror(errno)));
  }
  FileSink sink(fd, tmp);
  Status status = Write(sink);
  if (::close(fd) != 0 && status.ok()) {
    status = absl::UnavailableError(
        absl::StrFormat("cannot write '%s': %s", tmp, std::strerror(errno)));
  }
  if (status.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    status = absl::UnavailableError(
        absl::StrFormat("cannot rename '%s' to '%s': %s", tmp, path, std::strerror(errno)));
  }
  if (!status.ok()) ::unlink(tmp.c_str());
  return status;
}

}  // namespace r1
