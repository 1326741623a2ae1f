// gguf_reader.cc — parsing and validation of GGUF v2/v3, and the typed accessors.
//
// The parser walks the header once. Each read first checks that the bytes are there; each
// count is checked against the bytes that remain before anything is reserved for it; each sum
// and product of file values goes through the checked helpers below. Tensor data is never read:
// only the header, metadata and tensor-table pages are touched.
#include "gguf/gguf_reader.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"
#include "runtime/mapped_file.h"

namespace r1 {

static_assert(std::endian::native == std::endian::little,
              "the GGUF reader views little-endian file data in place");

struct GgufFile::Index {
  absl::flat_hash_map<std::string_view, size_t> kvs;      // key -> index in kvs_
  absl::flat_hash_map<std::string_view, size_t> tensors;  // name -> index in tensors_
};

GgufFile::~GgufFile() = default;

namespace gguf_internal {

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    // Vocabularies are mostly ASCII: skip eight such bytes at a time.
    if (n - i >= 8) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if ((w & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4, cp = c & 0x07;
    } else {
      return false;  // continuation byte, C0/C1 (overlong), or F5..FF
    }
    if (n - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      const unsigned char cc = p[i + k];
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return false;
    if (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) return false;
    i += len;
  }
  return true;
}

}  // namespace gguf_internal

std::string_view GgufTypeName(GgufType t) {
  switch (t) {
    case GgufType::kUint8: return "uint8";
    case GgufType::kInt8: return "int8";
    case GgufType::kUint16: return "uint16";
    case GgufType::kInt16: return "int16";
    case GgufType::kUint32: return "uint32";
    case GgufType::kInt32: return "int32";
    case GgufType::kFloat32: return "float32";
    case GgufType::kBool: return "bool";
    case GgufType::kString: return "string";
    case GgufType::kArray: return "array";
    case GgufType::kUint64: return "uint64";
    case GgufType::kInt64: return "int64";
    case GgufType::kFloat64: return "float64";
  }
  return "unknown";
}

namespace {

using gguf_internal::IsValidUtf8;

constexpr uint64_t kDefaultAlignment = 32;
// Nested arrays are validated recursively; this bounds the recursion a hostile file can cause.
constexpr int kMaxArrayDepth = 8;
// Smallest possible encodings, used to reject counts the remaining bytes cannot hold.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;                  // key length, type tag, uint8
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // name len, n_dims, ne, type, offset
constexpr uint64_t kMinNestedArrayBytes = 4 + 8;             // element type, count

bool IsKnownType(uint32_t t) { return t <= static_cast<uint32_t>(GgufType::kFloat64); }

// Encoded size of a fixed-size value; 0 for strings and arrays.
uint64_t ScalarSize(GgufType t) {
  switch (t) {
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kBool: return 1;
    case GgufType::kUint16:
    case GgufType::kInt16: return 2;
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kFloat32: return 4;
    case GgufType::kUint64:
    case GgufType::kInt64:
    case GgufType::kFloat64: return 8;
    case GgufType::kString:
    case GgufType::kArray: return 0;
  }
  return 0;
}

template <typename T>
T Load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// An integer value of any width, kept signed or unsigned as stored.
struct Integer {
  bool is_signed;
  int64_t s;
  uint64_t u;
};

std::optional<Integer> LoadInteger(GgufType t, const uint8_t* p) {
  switch (t) {
    case GgufType::kUint8: return Integer{false, 0, Load<uint8_t>(p)};
    case GgufType::kUint16: return Integer{false, 0, Load<uint16_t>(p)};
    case GgufType::kUint32: return Integer{false, 0, Load<uint32_t>(p)};
    case GgufType::kUint64: return Integer{false, 0, Load<uint64_t>(p)};
    case GgufType::kInt8: return Integer{true, Load<int8_t>(p), 0};
    case GgufType::kInt16: return Integer{true, Load<int16_t>(p), 0};
    case GgufType::kInt32: return Integer{true, Load<int32_t>(p), 0};
    case GgufType::kInt64: return Integer{true, Load<int64_t>(p), 0};
    default: return std::nullopt;
  }
}

// A key or tensor name as messages show it: long ones are cut at a character boundary.
std::string Shown(std::string_view s) {
  constexpr size_t kMaxShown = 100;
  if (s.size() <= kMaxShown) return std::string(s);
  size_t n = kMaxShown;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return absl::StrFormat("%s...", s.substr(0, n));
}

std::optional<double> LoadNumber(GgufType t, const uint8_t* p) {
  if (t == GgufType::kFloat32) return static_cast<double>(Load<float>(p));
  if (t == GgufType::kFloat64) return Load<double>(p);
  const std::optional<Integer> i = LoadInteger(t, p);
  if (!i) return std::nullopt;
  return i->is_signed ? static_cast<double>(i->s) : static_cast<double>(i->u);
}

StatusOr<int64_t> ToInt64(const Integer& i, std::string_view what) {
  if (i.is_signed) return i.s;
  if (i.u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return absl::OutOfRangeError(absl::StrFormat("%s: value %d does not fit in int64", what, i.u));
  }
  return static_cast<int64_t>(i.u);
}

}  // namespace

// Walks the file once, filling a GgufFile. Errors name the file, the problem and the offset.
class GgufParser {
 public:
  GgufParser(GgufFile& f, const GgufLimits& limits)
      : f_(f), limits_(limits), base_(f.bytes_.data()), size_(f.bytes_.size()) {}

  Status Run() {
    R1_RETURN_IF_ERROR(ParseHeader());
    R1_RETURN_IF_ERROR(ParseMetadata());
    R1_RETURN_IF_ERROR(ParseAlignment());
    R1_RETURN_IF_ERROR(ParseTensorInfos());
    return PlaceTensorData();
  }

 private:
  // ---- errors ----

  template <typename... Args>
  Status Error(const absl::FormatSpec<Args...>& format, const Args&... args) const {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: %s", f_.path_, absl::StrFormat(format, args...)));
  }

  // What is being read, for messages: a kind ("kv", "tensor") plus a name or an index.
  std::string Context() const {
    if (ctx_kind_ == nullptr) return "";
    if (!ctx_name_.empty()) return absl::StrFormat(" (%s '%s')", ctx_kind_, Shown(ctx_name_));
    return absl::StrFormat(" (%s %d)", ctx_kind_, ctx_index_);
  }

  void SetContext(const char* kind, uint64_t index) {
    ctx_kind_ = kind;
    ctx_index_ = index;
    ctx_name_ = {};
  }
  void SetContextName(std::string_view name) { ctx_name_ = name; }

  Status Truncated(const char* what) const {
    return Error("truncated at offset %d while reading %s%s (file size %d)", pos_, what,
                 Context(), size_);
  }

  // ---- primitive reads ----

  uint64_t Remaining() const { return size_ - pos_; }

  Status Need(uint64_t n, const char* what) const {
    if (n > Remaining()) return Truncated(what);
    return absl::OkStatus();
  }

  // Checks that `count` items of at least `item_bytes` each can fit in what remains.
  Status NeedItems(uint64_t count, uint64_t item_bytes, const char* what) const {
    uint64_t total;
    if (__builtin_mul_overflow(count, item_bytes, &total) || total > Remaining()) {
      return Error("%s count %d at offset %d cannot fit in the %d bytes that remain%s", what,
                   count, pos_, Remaining(), Context());
    }
    return absl::OkStatus();
  }

  template <typename T>
  StatusOr<T> Read(const char* what) {
    R1_RETURN_IF_ERROR(Need(sizeof(T), what));
    const T v = Load<T>(base_ + pos_);
    pos_ += sizeof(T);
    return v;
  }

  // A gguf string: uint64 length, then that many bytes. Validated as UTF-8.
  StatusOr<std::string_view> ReadString(const char* what) {
    const uint64_t start = pos_;
    R1_ASSIGN_OR_RETURN(const uint64_t len, Read<uint64_t>(what));
    if (len > limits_.max_string_bytes) {
      return Error("%s at offset %d has length %d, over the limit of %d bytes%s", what, start, len,
                   limits_.max_string_bytes, Context());
    }
    R1_RETURN_IF_ERROR(Need(len, what));
    const std::string_view s(reinterpret_cast<const char*>(base_ + pos_), len);
    if (!IsValidUtf8(s)) {
      return Error("%s at offset %d is not valid UTF-8%s", what, start, Context());
    }
    pos_ += len;
    return s;
  }

  // ---- sections ----

  Status ParseHeader() {
    if (size_ < 4) return Truncated("magic");
    if (std::memcmp(base_, "GGUF", 4) != 0) {
      return Error("bad magic %02x %02x %02x %02x (expected \"GGUF\")", base_[0], base_[1],
                   base_[2], base_[3]);
    }
    pos_ = 4;
    R1_ASSIGN_OR_RETURN(const uint32_t version, Read<uint32_t>("version"));
    if (version != 2 && version != 3) {
      const uint32_t swapped = __builtin_bswap32(version);
      if (swapped >= 1 && swapped <= 3) {
        return Error("big-endian GGUF file (version %d byte-swapped) is not supported", swapped);
      }
      return Error("unsupported GGUF version %d (versions 2 and 3 are supported)", version);
    }
    f_.version_ = version;
    R1_ASSIGN_OR_RETURN(tensor_count_, Read<uint64_t>("tensor count"));
    R1_ASSIGN_OR_RETURN(kv_count_, Read<uint64_t>("kv count"));
    if (tensor_count_ > limits_.max_tensor_count) {
      return Error("tensor count %d exceeds the limit of %d", tensor_count_,
                   limits_.max_tensor_count);
    }
    if (kv_count_ > limits_.max_kv_count) {
      return Error("kv count %d exceeds the limit of %d", kv_count_, limits_.max_kv_count);
    }
    // Each kv and tensor info takes some minimum number of bytes; counts that cannot fit are
    // rejected before anything is reserved for them.
    uint64_t kv_bytes, tensor_bytes, min_bytes;
    if (__builtin_mul_overflow(kv_count_, kMinKvBytes, &kv_bytes) ||
        __builtin_mul_overflow(tensor_count_, kMinTensorInfoBytes, &tensor_bytes) ||
        __builtin_add_overflow(kv_bytes, tensor_bytes, &min_bytes) || min_bytes > Remaining()) {
      return Error("kv count %d and tensor count %d cannot fit in the %d bytes after the header "
                   "(file size %d)",
                   kv_count_, tensor_count_, Remaining(), size_);
    }
    return absl::OkStatus();
  }

  Status ParseMetadata() {
    f_.kvs_.reserve(kv_count_);
    f_.index_->kvs.reserve(kv_count_);
    for (uint64_t i = 0; i < kv_count_; ++i) {
      SetContext("kv", i);
      const uint64_t key_offset = pos_;
      R1_ASSIGN_OR_RETURN(const std::string_view key, ReadString("key"));
      if (key.empty()) return Error("empty key at offset %d (kv %d)", key_offset, i);
      SetContextName(key);
      if (!f_.index_->kvs.emplace(key, i).second) {
        return Error("duplicate key '%s' at offset %d", Shown(key), key_offset);
      }
      const uint64_t type_offset = pos_;
      R1_ASSIGN_OR_RETURN(const uint32_t type, Read<uint32_t>("value type"));
      if (!IsKnownType(type)) {
        return Error("key '%s' has unknown value type %d at offset %d", Shown(key), type,
                     type_offset);
      }
      GgufKeyValue kv{key, static_cast<GgufType>(type), base_ + pos_, nullptr};
      if (kv.type == GgufType::kArray) {
        auto array = std::make_unique<GgufArray>();
        array->key_ = key;
        R1_RETURN_IF_ERROR(ParseArray(array.get(), 0));
        kv.array = array.get();
        f_.arrays_.push_back(std::move(array));
      } else {
        R1_RETURN_IF_ERROR(SkipValue(kv.type));
      }
      f_.kvs_.push_back(kv);
    }
    ctx_kind_ = nullptr;
    return absl::OkStatus();
  }

  // Validates one string or fixed-size value and moves past it.
  Status SkipValue(GgufType type) {
    if (type == GgufType::kString) return ReadString("string value").status();
    const uint64_t n = ScalarSize(type);
    R1_RETURN_IF_ERROR(Need(n, "value"));
    if (type == GgufType::kBool && base_[pos_] > 1) {
      return Error("bool value %d at offset %d is neither 0 nor 1%s", base_[pos_], pos_, Context());
    }
    pos_ += n;
    return absl::OkStatus();
  }

  // Validates an array (element type, count, elements) and moves past it. `out`, when given,
  // receives the view; string elements are indexed into it.
  Status ParseArray(GgufArray* out, int depth) {
    if (depth > kMaxArrayDepth) {
      return Error("arrays nested deeper than %d at offset %d%s", kMaxArrayDepth, pos_, Context());
    }
    const uint64_t header_offset = pos_;
    R1_ASSIGN_OR_RETURN(const uint32_t elem_type, Read<uint32_t>("array element type"));
    if (!IsKnownType(elem_type)) {
      return Error("array at offset %d has unknown element type %d%s", header_offset, elem_type,
                   Context());
    }
    const GgufType type = static_cast<GgufType>(elem_type);
    R1_ASSIGN_OR_RETURN(const uint64_t count, Read<uint64_t>("array length"));
    if (count > limits_.max_array_elements) {
      return Error("array at offset %d has %d elements, over the limit of %d%s", header_offset,
                   count, limits_.max_array_elements, Context());
    }
    if (out != nullptr) {
      out->type_ = type;
      out->size_ = count;
      out->data_ = base_ + pos_;
    }

    if (type == GgufType::kString) {
      R1_RETURN_IF_ERROR(NeedItems(count, 8, "string array"));
      if (out != nullptr) out->strings_.reserve(count);
      for (uint64_t j = 0; j < count; ++j) {
        R1_ASSIGN_OR_RETURN(const std::string_view s, ReadString("string array element"));
        if (out != nullptr) out->strings_.push_back(s);
      }
      return absl::OkStatus();
    }
    if (type == GgufType::kArray) {
      R1_RETURN_IF_ERROR(NeedItems(count, kMinNestedArrayBytes, "nested array"));
      for (uint64_t j = 0; j < count; ++j) R1_RETURN_IF_ERROR(ParseArray(nullptr, depth + 1));
      return absl::OkStatus();
    }
    const uint64_t elem_size = ScalarSize(type);
    uint64_t bytes;
    if (__builtin_mul_overflow(count, elem_size, &bytes) || bytes > Remaining()) {
      return Error("array at offset %d of %d %s elements extends past end of file (size %d)%s",
                   header_offset, count, GgufTypeName(type), size_, Context());
    }
    if (type == GgufType::kBool) {
      for (uint64_t j = 0; j < count; ++j) {
        if (base_[pos_ + j] > 1) {
          return Error("bool array element %d at offset %d is neither 0 nor 1%s", j, pos_ + j,
                       Context());
        }
      }
    }
    pos_ += bytes;
    return absl::OkStatus();
  }

  Status ParseAlignment() {
    const GgufKeyValue* kv = f_.Find("general.alignment");
    if (kv == nullptr) {
      f_.alignment_ = kDefaultAlignment;
      return absl::OkStatus();
    }
    if (kv->type != GgufType::kUint32) {
      return Error("general.alignment has type %s (must be uint32)", GgufTypeName(kv->type));
    }
    const uint32_t a = Load<uint32_t>(kv->value);
    if (a == 0 || !std::has_single_bit(a)) {
      return Error("general.alignment %d is not a power of two", a);
    }
    f_.alignment_ = a;
    return absl::OkStatus();
  }

  Status ParseTensorInfos() {
    f_.tensors_.reserve(tensor_count_);
    f_.index_->tensors.reserve(tensor_count_);
    for (uint64_t i = 0; i < tensor_count_; ++i) {
      SetContext("tensor", i);
      const uint64_t info_offset = pos_;
      R1_ASSIGN_OR_RETURN(const std::string_view name, ReadString("tensor name"));
      if (name.empty()) return Error("tensor %d at offset %d has an empty name", i, info_offset);
      SetContextName(name);
      if (!f_.index_->tensors.emplace(name, i).second) {
        return Error("duplicate tensor '%s' at offset %d", Shown(name), info_offset);
      }
      GgufTensorInfo t{};
      t.name = name;
      R1_ASSIGN_OR_RETURN(t.n_dims, Read<uint32_t>("n_dims"));
      if (t.n_dims == 0) return Error("tensor '%s' has 0 dimensions (at least 1)", Shown(name));
      if (t.n_dims > 4) {
        return Error("tensor '%s' has %d dimensions (at most 4)", Shown(name), t.n_dims);
      }
      for (uint32_t d = 0; d < 4; ++d) t.ne[d] = 1;
      for (uint32_t d = 0; d < t.n_dims; ++d) {
        R1_ASSIGN_OR_RETURN(t.ne[d], Read<uint64_t>("ne"));
      }
      const uint64_t type_offset = pos_;
      R1_ASSIGN_OR_RETURN(const uint32_t type, Read<uint32_t>("tensor type"));
      R1_ASSIGN_OR_RETURN(const uint64_t offset, Read<uint64_t>("tensor data offset"));
      const std::optional<DTypeTraits> traits = GetDTypeTraits(type);
      if (!traits) {
        return Error("tensor '%s' has unknown type %d at offset %d", Shown(name), type,
                     type_offset);
      }
      t.type = static_cast<DType>(type);
      R1_RETURN_IF_ERROR(CheckShape(t, *traits));
      if (offset % f_.alignment_ != 0) {
        return Error("tensor '%s' data offset %d not aligned to %d", Shown(name), offset,
                     f_.alignment_);
      }
      t.file_offset = offset;  // relative for now; made absolute in PlaceTensorData
      f_.tensors_.push_back(t);
    }
    ctx_kind_ = nullptr;
    return absl::OkStatus();
  }

  // Fills n_elements and n_bytes, rejecting empty, overflowing and partial-block shapes.
  Status CheckShape(GgufTensorInfo& t, const DTypeTraits& traits) const {
    uint64_t n = 1;
    for (uint32_t d = 0; d < t.n_dims; ++d) {
      if (t.ne[d] == 0) {
        return Error("tensor '%s' has a zero dimension (ne[%d]=0)", Shown(t.name), d);
      }
      if (__builtin_mul_overflow(n, t.ne[d], &n) ||
          n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Error("element count of tensor '%s' overflows", Shown(t.name));
      }
    }
    t.n_elements = n;
    if (t.ne[0] % traits.block_size != 0) {
      return Error("tensor '%s': ne[0]=%d is not a multiple of the %s block size %d", Shown(t.name),
                   t.ne[0], traits.name, traits.block_size);
    }
    // Both products can wrap: ne[0] = 2^62 f32 values would otherwise be a 0-byte row.
    uint64_t row_bytes;
    const uint64_t rows = n / t.ne[0];
    if (__builtin_mul_overflow(t.ne[0] / traits.block_size, uint64_t{traits.type_size}, &row_bytes) ||
        __builtin_mul_overflow(row_bytes, rows, &t.n_bytes)) {
      return Error("byte size of tensor '%s' overflows", Shown(t.name));
    }
    return absl::OkStatus();
  }

  Status PlaceTensorData() {
    const uint64_t a = f_.alignment_;
    uint64_t data_offset;
    if (__builtin_add_overflow(pos_, a - 1, &data_offset)) {
      return Error("data section offset overflows");
    }
    data_offset &= ~(a - 1);
    // Files without tensors may end right after the metadata, without padding.
    if (f_.tensors_.empty() && data_offset > size_) data_offset = size_;
    f_.data_offset_ = data_offset;

    for (GgufTensorInfo& t : f_.tensors_) {
      uint64_t begin, end;
      if (__builtin_add_overflow(data_offset, t.file_offset, &begin) ||
          __builtin_add_overflow(begin, t.n_bytes, &end)) {
        return Error("tensor '%s' data offset %d + size %d overflows", Shown(t.name), t.file_offset,
                     t.n_bytes);
      }
      if (end > size_) {
        return Error("tensor '%s' data [%d, %d) extends past end of file (size %d)", Shown(t.name),
                     begin, end, size_);
      }
      t.file_offset = begin;
      t.data = base_ + begin;
    }

    // Sorted by offset, overlapping ranges are neighbours.
    std::vector<uint32_t> order(f_.tensors_.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](uint32_t x, uint32_t y) {
      return f_.tensors_[x].file_offset < f_.tensors_[y].file_offset;
    });
    for (size_t k = 1; k < order.size(); ++k) {
      const GgufTensorInfo& p = f_.tensors_[order[k - 1]];
      const GgufTensorInfo& q = f_.tensors_[order[k]];
      if (p.file_offset + p.n_bytes > q.file_offset) {
        return Error("tensors '%s' [%d, %d) and '%s' [%d, %d) overlap", Shown(p.name),
                     p.file_offset, p.file_offset + p.n_bytes, Shown(q.name), q.file_offset,
                     q.file_offset + q.n_bytes);
      }
    }
    return absl::OkStatus();
  }

  GgufFile& f_;
  const GgufLimits& limits_;
  const uint8_t* base_;
  uint64_t size_;
  uint64_t pos_ = 0;
  uint64_t tensor_count_ = 0;
  uint64_t kv_count_ = 0;
  const char* ctx_kind_ = nullptr;
  uint64_t ctx_index_ = 0;
  std::string_view ctx_name_;
};

Status GgufFile::Parse(const GgufLimits& limits) {
  index_ = std::make_unique<Index>();
  return GgufParser(*this, limits).Run();
}

StatusOr<std::unique_ptr<GgufFile>> GgufFile::Open(const std::string& path,
                                                   const GgufLimits& limits) {
  R1_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> mapping, MappedFile::Open(path));
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->bytes_ = mapping->bytes();
  f->mapping_ = std::move(mapping);
  f->path_ = path;
  R1_RETURN_IF_ERROR(f->Parse(limits));
  return f;
}

StatusOr<std::unique_ptr<GgufFile>> GgufFile::FromBuffer(absl::Span<const uint8_t> bytes,
                                                         const GgufLimits& limits) {
  return FromBuffer(bytes, "<buffer>", limits);
}

StatusOr<std::unique_ptr<GgufFile>> GgufFile::FromBuffer(absl::Span<const uint8_t> bytes,
                                                         std::string name,
                                                         const GgufLimits& limits) {
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->bytes_ = bytes;
  f->path_ = std::move(name);
  R1_RETURN_IF_ERROR(f->Parse(limits));
  return f;
}

// ---- lookups and typed getters ----

const GgufKeyValue* GgufFile::Find(std::string_view key) const {
  const auto it = index_->kvs.find(key);
  return it == index_->kvs.end() ? nullptr : &kvs_[it->second];
}

const GgufTensorInfo* GgufFile::FindTensor(std::string_view name) const {
  const auto it = index_->tensors.find(name);
  return it == index_->tensors.end() ? nullptr : &tensors_[it->second];
}

Status GgufFile::AddShardTensors(const GgufFile& shard, uint32_t shard_index) {
  tensors_.reserve(tensors_.size() + shard.tensors_.size());
  for (GgufTensorInfo t : shard.tensors_) {
    if (!index_->tensors.emplace(t.name, tensors_.size()).second) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: tensor '%s' is in an earlier shard too", shard.path_, Shown(t.name)));
    }
    t.shard = shard_index;
    tensors_.push_back(t);
  }
  return absl::OkStatus();
}

namespace {

Status NotFound(const std::string& path, std::string_view key) {
  return absl::NotFoundError(absl::StrFormat("%s: key '%s' not found", path, key));
}

Status WrongType(const std::string& path, const GgufKeyValue& kv, std::string_view wanted) {
  return absl::InvalidArgumentError(absl::StrFormat("%s: key '%s' has type %s, not %s", path,
                                                    Shown(kv.key), GgufTypeName(kv.type), wanted));
}

}  // namespace

StatusOr<std::string_view> GgufFile::GetString(std::string_view key) const {
  const GgufKeyValue* kv = Find(key);
  if (kv == nullptr) return NotFound(path_, key);
  if (kv->type != GgufType::kString) return WrongType(path_, *kv, "string");
  // Validated at open: the length and bytes are inside the file.
  const uint64_t len = Load<uint64_t>(kv->value);
  return std::string_view(reinterpret_cast<const char*>(kv->value + 8), len);
}

StatusOr<int64_t> GgufFile::GetInt(std::string_view key) const {
  const GgufKeyValue* kv = Find(key);
  if (kv == nullptr) return NotFound(path_, key);
  const std::optional<Integer> i = LoadInteger(kv->type, kv->value);
  if (!i) return WrongType(path_, *kv, "an integer");
  return ToInt64(*i, absl::StrFormat("%s: key '%s'", path_, key));
}

StatusOr<uint64_t> GgufFile::GetUint(std::string_view key) const {
  const GgufKeyValue* kv = Find(key);
  if (kv == nullptr) return NotFound(path_, key);
  const std::optional<Integer> i = LoadInteger(kv->type, kv->value);
  if (!i) return WrongType(path_, *kv, "an integer");
  if (!i->is_signed) return i->u;
  if (i->s < 0) {
    return absl::OutOfRangeError(
        absl::StrFormat("%s: key '%s' is negative (%d), expected an unsigned value", path_, key,
                        i->s));
  }
  return static_cast<uint64_t>(i->s);
}

StatusOr<double> GgufFile::GetFloat(std::string_view key) const {
  const GgufKeyValue* kv = Find(key);
  if (kv == nullptr) return NotFound(path_, key);
  const std::optional<double> v = LoadNumber(kv->type, kv->value);
  if (!v) return WrongType(path_, *kv, "a number");
  return *v;
}

StatusOr<bool> GgufFile::GetBool(std::string_view key) const {
  const GgufKeyValue* kv = Find(key);
  if (kv == nullptr) return NotFound(path_, key);
  if (kv->type != GgufType::kBool) return WrongType(path_, *kv, "bool");
  return kv->value[0] != 0;
}

StatusOr<const GgufArray*> GgufFile::GetArray(std::string_view key) const {
  const GgufKeyValue* kv = Find(key);
  if (kv == nullptr) return NotFound(path_, key);
  if (kv->type != GgufType::kArray) return WrongType(path_, *kv, "array");
  return kv->array;
}

// ---- array elements ----

namespace {

Status ElementError(std::string_view key, GgufType type, std::string_view wanted) {
  return absl::InvalidArgumentError(absl::StrFormat("array '%s' has %s elements, not %s",
                                                    Shown(key), GgufTypeName(type), wanted));
}

Status IndexError(std::string_view key, uint64_t i, uint64_t size) {
  return absl::OutOfRangeError(
      absl::StrFormat("index %d out of range of array '%s' (size %d)", i, Shown(key), size));
}

}  // namespace

StatusOr<int64_t> GgufArray::IntAt(uint64_t i) const {
  if (i >= size_) return IndexError(key_, i, size_);
  if (type_ == GgufType::kBool) return int64_t{data_[i] != 0};
  const uint64_t elem = ScalarSize(type_);
  const std::optional<Integer> v = elem == 0 ? std::nullopt : LoadInteger(type_, data_ + i * elem);
  if (!v) return ElementError(key_, type_, "integer");
  return ToInt64(*v, absl::StrFormat("array '%s' element %d", Shown(key_), i));
}

StatusOr<double> GgufArray::FloatAt(uint64_t i) const {
  if (i >= size_) return IndexError(key_, i, size_);
  const uint64_t elem = ScalarSize(type_);
  const std::optional<double> v = elem == 0 ? std::nullopt : LoadNumber(type_, data_ + i * elem);
  if (!v) return ElementError(key_, type_, "number");
  return *v;
}

StatusOr<std::string_view> GgufArray::StringAt(uint64_t i) const {
  if (i >= size_) return IndexError(key_, i, size_);
  if (type_ != GgufType::kString) return ElementError(key_, type_, "string");
  return strings_[i];
}

}  // namespace r1
