// gguf_test_bytes.h — hand-made and patched GGUF bytes for the reader's tests.
//
// Valid files come from GgufWriter; invalid ones are made by patching fields found by their
// (unique) key or tensor name, or built field by field with RawGguf.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/gguf_reader.h"
#include "gguf/gguf_writer.h"

namespace r1::test {

// Little-endian bytes, appended field by field.
struct RawGguf {
  std::vector<uint8_t> b;

  RawGguf& U8(uint8_t v) { return Put(v); }
  RawGguf& U32(uint32_t v) { return Put(v); }
  RawGguf& U64(uint64_t v) { return Put(v); }
  RawGguf& Str(std::string_view s) {
    U64(s.size());
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  RawGguf& Header(uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    b.insert(b.end(), {'G', 'G', 'U', 'F'});
    return U32(version).U64(n_tensors).U64(n_kv);
  }
  RawGguf& Type(GgufType t) { return U32(static_cast<uint32_t>(t)); }

 private:
  template <typename T>
  RawGguf& Put(T v) {
    const size_t at = b.size();
    b.resize(at + sizeof(T));
    std::memcpy(b.data() + at, &v, sizeof(T));
    return *this;
  }
};

// Offset of the only occurrence of `needle` (a key or tensor name) in `bytes`.
inline size_t FindUnique(const std::vector<uint8_t>& bytes, std::string_view needle) {
  const std::string_view hay(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  const size_t at = hay.find(needle);
  REQUIRE_MESSAGE(at != std::string_view::npos, "not found: ", std::string(needle));
  REQUIRE_MESSAGE(hay.find(needle, at + 1) == std::string_view::npos, "not unique: ",
                  std::string(needle));
  return at;
}

// Offset just past a key or tensor name: the value type tag, or the tensor's n_dims.
inline size_t After(const std::vector<uint8_t>& bytes, std::string_view name) {
  return FindUnique(bytes, name) + name.size();
}

inline void PatchU32(std::vector<uint8_t>& bytes, size_t at, uint32_t v) {
  REQUIRE(at + 4 <= bytes.size());
  std::memcpy(bytes.data() + at, &v, 4);
}
inline void PatchU64(std::vector<uint8_t>& bytes, size_t at, uint64_t v) {
  REQUIRE(at + 8 <= bytes.size());
  std::memcpy(bytes.data() + at, &v, 8);
}

// Where the fields of a tensor's table entry are, found by its name.
struct TensorInfoAt {
  size_t name_len;  // the uint64 length before the name
  size_t n_dims;
  size_t ne;        // ne[0]; ne[d] is at ne + 8 * d
  size_t type;
  size_t offset;
};
inline TensorInfoAt FindTensorInfo(const std::vector<uint8_t>& bytes, std::string_view name) {
  TensorInfoAt at;
  at.name_len = FindUnique(bytes, name) - 8;
  at.n_dims = at.name_len + 8 + name.size();
  uint32_t n_dims;
  std::memcpy(&n_dims, bytes.data() + at.n_dims, 4);
  at.ne = at.n_dims + 4;
  at.type = at.ne + 8 * n_dims;
  at.offset = at.type + 4;
  return at;
}

// "OK" when the bytes parse, else the error message.
inline std::string ParseResult(const std::vector<uint8_t>& bytes, const GgufLimits& limits = {}) {
  auto f = GgufFile::FromBuffer(bytes, limits);
  if (f.ok()) return "OK";
  return std::string(f.status().message());
}

}  // namespace r1::test

// The bytes must fail to parse with a message containing `substr`.
#define R1_CHECK_GGUF_ERROR(bytes, substr, ...)                                  \
  do {                                                                           \
    const std::string r1_msg_ = ::r1::test::ParseResult((bytes) __VA_OPT__(, ) __VA_ARGS__); \
    INFO("message: ", r1_msg_);                                                  \
    CHECK(r1_msg_ != "OK");                                                      \
    CHECK(r1_msg_.find(substr) != std::string::npos);                            \
  } while (0)

// Writer calls in tests: fail the test case with the status message on error.
#define R1_REQUIRE_OK(expr)                                            \
  do {                                                                 \
    const ::absl::Status r1_s_ = (expr);                               \
    REQUIRE_MESSAGE(r1_s_.ok(), std::string(r1_s_.ToString()));        \
  } while (0)
