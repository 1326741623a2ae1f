// Malformed and hostile files: each gives an error naming the problem, never a crash.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gguf/gguf_reader.h"
#include "gguf/gguf_test_bytes.h"
#include "gguf/gguf_writer.h"

namespace r1 {
namespace {

using test::After;
using test::FindTensorInfo;
using test::PatchU32;
using test::PatchU64;
using test::RawGguf;

constexpr uint64_t kHuge = uint64_t{1} << 62;
constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

GgufLimits Unlimited() {
  GgufLimits l;
  l.max_string_bytes = l.max_array_elements = l.max_kv_count = l.max_tensor_count = kMax;
  return l;
}

// A small valid file: a few keys of each kind, a Q4_0 tensor (36 bytes, padded to 64) and an
// F32 tensor of exactly 32 bytes, so the file ends where the last tensor's data ends.
std::vector<uint8_t> ValidFile(uint32_t alignment = 0) {
  GgufWriter w;
  if (alignment != 0) R1_REQUIRE_OK(w.SetAlignment(alignment));
  R1_REQUIRE_OK(w.SetString("general.architecture", "llama"));
  R1_REQUIRE_OK(w.SetUint32("dup.aaa", 1));
  R1_REQUIRE_OK(w.SetUint32("dup.bbb", 2));
  R1_REQUIRE_OK(w.SetBool("flag.b", true));
  R1_REQUIRE_OK(w.SetArray("list.u32", std::vector<uint32_t>{1, 2, 3}));
  R1_REQUIRE_OK(w.SetStringArray("list.str", std::vector<std::string>{"tok0", "tok1"}));
  R1_REQUIRE_OK(w.AddTensor("tensor.q", DType::kQ4_0, std::vector<uint64_t>{64},
                            std::vector<uint8_t>(36, 0x11)));
  R1_REQUIRE_OK(w.AddTensor("tensor.f", DType::kF32, std::vector<uint64_t>{4, 2},
                            std::vector<uint8_t>(32, 0x22)));
  auto bytes = w.Serialize();
  R1_REQUIRE_OK(bytes.status());
  REQUIRE(test::ParseResult(*bytes) == "OK");
  return *bytes;
}

// Offset of the uint64 length of a string value (after the key's type tag).
size_t StringValueLength(const std::vector<uint8_t>& b, std::string_view key) {
  return After(b, key) + 4;
}

TEST_SUITE("gguf") {

TEST_CASE("bad magic") {
  auto b = ValidFile();
  b[0] = 'X';
  R1_CHECK_GGUF_ERROR(b, "<buffer>: bad magic 58 47 55 46 (expected \"GGUF\")");
  const auto named = GgufFile::FromBuffer(b, "dir/model.gguf");
  CHECK(std::string(named.status().message()).rfind("dir/model.gguf: bad magic", 0) == 0);
  const std::vector<uint8_t> short_file = {'G', 'G'}, empty_file;
  R1_CHECK_GGUF_ERROR(short_file, "truncated at offset 0 while reading magic");
  R1_CHECK_GGUF_ERROR(empty_file, "truncated at offset 0 while reading magic");
}

TEST_CASE("header fields: version") {
  for (uint32_t v : {0u, 1u, 4u, 0x7fffffffu, 0xffffffffu}) {
    auto b = ValidFile();
    PatchU32(b, 4, v);
    R1_CHECK_GGUF_ERROR(b, "unsupported GGUF version " + std::to_string(v));
  }
  auto b = ValidFile();
  PatchU32(b, 4, 0x03000000);  // 3, byte-swapped
  R1_CHECK_GGUF_ERROR(b, "big-endian");
}

TEST_CASE("header fields: tensor count and kv count") {
  for (uint64_t n : {kMax, kHuge, uint64_t{1} << 20 | 1}) {
    auto b = ValidFile();
    PatchU64(b, 8, n);
    R1_CHECK_GGUF_ERROR(b, "tensor count");
    b = ValidFile();
    PatchU64(b, 16, n);
    R1_CHECK_GGUF_ERROR(b, "kv count");
  }
  // Within the limits but more than the bytes can hold.
  auto b = ValidFile();
  PatchU64(b, 8, 100000);
  R1_CHECK_GGUF_ERROR(b, "cannot fit");
  b = ValidFile();
  PatchU64(b, 16, 100000);
  R1_CHECK_GGUF_ERROR(b, "cannot fit");
  // Without limits, the byte bound must still hold (and not overflow).
  for (uint64_t n : {kMax, kHuge, kMax / 13 + 1}) {
    b = ValidFile();
    PatchU64(b, 16, n);
    R1_CHECK_GGUF_ERROR(b, "cannot fit", Unlimited());
    b = ValidFile();
    PatchU64(b, 8, n);
    R1_CHECK_GGUF_ERROR(b, "cannot fit", Unlimited());
  }
  // One more kv than written: the tensor table is read as a kv and something fails.
  b = ValidFile();
  PatchU64(b, 16, 7);
  CHECK(test::ParseResult(b) != "OK");
  // Custom limits apply.
  GgufLimits small;
  small.max_kv_count = 3;
  R1_CHECK_GGUF_ERROR(ValidFile(), "kv count 6 exceeds the limit of 3", small);
  small = {};
  small.max_tensor_count = 1;
  R1_CHECK_GGUF_ERROR(ValidFile(), "tensor count 2 exceeds the limit of 1", small);
}

TEST_CASE("truncation at every byte offset") {
  const std::vector<uint8_t> full = ValidFile();
  for (size_t n = 0; n < full.size(); ++n) {
    const std::vector<uint8_t> prefix(full.begin(), full.begin() + n);
    const std::string msg = test::ParseResult(prefix);
    INFO("prefix ", n, " of ", full.size(), ": ", msg);
    CHECK(msg != "OK");
    const bool named = msg.find("truncated at offset") != std::string::npos ||
                       msg.find("cannot fit") != std::string::npos ||
                       msg.find("extends past end of file") != std::string::npos;
    CHECK(named);
  }
  CHECK(test::ParseResult(full) == "OK");

  // And for a file with metadata only, which needs no padding at its end.
  GgufWriter w;
  R1_REQUIRE_OK(w.SetString("general.name", "meta"));
  R1_REQUIRE_OK(w.SetArray("list.f", std::vector<float>{1, 2}));
  R1_REQUIRE_OK(w.SetStringArray("list.s", std::vector<std::string>{"a", "b"}));
  const std::vector<uint8_t> meta = *w.Serialize();
  for (size_t n = 0; n < meta.size(); ++n) {
    const std::vector<uint8_t> prefix(meta.begin(), meta.begin() + n);
    INFO("prefix ", n);
    CHECK(test::ParseResult(prefix) != "OK");
  }
  CHECK(test::ParseResult(meta) == "OK");
}

TEST_CASE("string lengths huge or past the end") {
  // The first key's length is at offset 24.
  for (uint64_t len : {kMax, kHuge, uint64_t{1} << 26 | 1}) {
    auto b = ValidFile();
    PatchU64(b, 24, len);
    R1_CHECK_GGUF_ERROR(b, "over the limit");
  }
  for (uint64_t len : {kMax, kMax - 7, kHuge, uint64_t{1000}}) {
    auto b = ValidFile();
    PatchU64(b, 24, len);
    R1_CHECK_GGUF_ERROR(b, "truncated at offset 32 while reading key", Unlimited());
  }
  // A string value, a string array element, and a tensor name.
  auto b = ValidFile();
  PatchU64(b, StringValueLength(b, "general.architecture"), kMax);
  R1_CHECK_GGUF_ERROR(b, "while reading string value", Unlimited());
  b = ValidFile();
  PatchU64(b, test::FindUnique(b, "tok1") - 8, 5000);
  R1_CHECK_GGUF_ERROR(b, "string array element", Unlimited());
  b = ValidFile();
  PatchU64(b, FindTensorInfo(b, "tensor.f").name_len, kMax - 1);
  R1_CHECK_GGUF_ERROR(b, "while reading tensor name", Unlimited());
}

TEST_CASE("array counts huge with a small file") {
  // list.u32: type tag, element type, count.
  for (uint64_t n : {kHuge, kMax, uint64_t{1} << 26 | 1}) {
    auto b = ValidFile();
    PatchU64(b, After(b, "list.u32") + 8, n);
    R1_CHECK_GGUF_ERROR(b, "over the limit");
  }
  for (uint64_t n : {kHuge, kMax, kMax / 4 + 1, uint64_t{1} << 61, uint64_t{1000}}) {
    auto b = ValidFile();
    PatchU64(b, After(b, "list.u32") + 8, n);
    R1_CHECK_GGUF_ERROR(b, "extends past end of file", Unlimited());
    b = ValidFile();
    PatchU64(b, After(b, "list.str") + 8, n);
    R1_CHECK_GGUF_ERROR(b, "cannot fit", Unlimited());
  }
  // Nested arrays: each element needs at least its own header.
  RawGguf r;
  r.Header(3, 0, 1).Str("nested").Type(GgufType::kArray).Type(GgufType::kArray).U64(kHuge);
  r.Type(GgufType::kUint8).U64(0);
  R1_CHECK_GGUF_ERROR(r.b, "cannot fit", Unlimited());
}

TEST_CASE("unknown value types") {
  for (uint32_t t : {13u, 100u, 0xffffffffu}) {
    auto b = ValidFile();
    PatchU32(b, After(b, "dup.aaa"), t);
    R1_CHECK_GGUF_ERROR(b, "key 'dup.aaa' has unknown value type " + std::to_string(t));
    b = ValidFile();
    PatchU32(b, After(b, "list.u32") + 4, t);
    R1_CHECK_GGUF_ERROR(b, "unknown element type " + std::to_string(t));
  }
}

TEST_CASE("bad values: bools other than 0/1, empty keys, nesting too deep") {
  auto b = ValidFile();
  b[After(b, "flag.b") + 4] = 2;
  R1_CHECK_GGUF_ERROR(b, "neither 0 nor 1");

  RawGguf r;
  r.Header(3, 0, 1).Str("bools").Type(GgufType::kArray).Type(GgufType::kBool).U64(3);
  r.U8(1).U8(0).U8(7);
  R1_CHECK_GGUF_ERROR(r.b, "bool array element 2");

  RawGguf e;
  e.Header(3, 0, 1).Str("").Type(GgufType::kUint8).U8(0);
  R1_CHECK_GGUF_ERROR(e.b, "empty key");

  RawGguf d;
  d.Header(3, 0, 1).Str("deep").Type(GgufType::kArray);
  for (int i = 0; i < 20; ++i) d.Type(GgufType::kArray).U64(1);
  d.Type(GgufType::kUint8).U64(0);
  R1_CHECK_GGUF_ERROR(d.b, "nested deeper");
}

TEST_CASE("tensor types, dimensions and shapes") {
  for (uint32_t t : {4u, 5u, 31u, 34u, 77u, 0xffffffffu}) {
    auto b = ValidFile();
    PatchU32(b, FindTensorInfo(b, "tensor.f").type, t);
    R1_CHECK_GGUF_ERROR(b, "tensor 'tensor.f' has unknown type " + std::to_string(t));
  }
  auto b = ValidFile();
  PatchU32(b, FindTensorInfo(b, "tensor.f").n_dims, 0);
  R1_CHECK_GGUF_ERROR(b, "tensor 'tensor.f' has 0 dimensions");
  for (uint32_t n : {5u, 0xffffffffu}) {
    b = ValidFile();
    PatchU32(b, FindTensorInfo(b, "tensor.f").n_dims, n);
    R1_CHECK_GGUF_ERROR(b,
                        "tensor 'tensor.f' has " + std::to_string(n) + " dimensions (at most 4)");
  }
  b = ValidFile();
  PatchU64(b, FindTensorInfo(b, "tensor.f").ne + 8, 0);
  R1_CHECK_GGUF_ERROR(b, "tensor 'tensor.f' has a zero dimension (ne[1]=0)");

  // Element counts past 64 bits, or past int64.
  const std::pair<uint64_t, uint64_t> overflowing[] = {
      {uint64_t{1} << 32, uint64_t{1} << 32}, {kMax, 2}, {uint64_t{1} << 62, 2}, {4, kMax}};
  for (const auto& [ne0, ne1] : overflowing) {
    b = ValidFile();
    const auto at = FindTensorInfo(b, "tensor.f");
    PatchU64(b, at.ne, ne0);
    PatchU64(b, at.ne + 8, ne1);
    R1_CHECK_GGUF_ERROR(b, "element count of tensor 'tensor.f' overflows");
  }
  // 2^62 F32 elements fit in int64, but not their 2^64 bytes.
  b = ValidFile();
  const auto at = FindTensorInfo(b, "tensor.f");
  PatchU64(b, at.ne, uint64_t{1} << 31);
  PatchU64(b, at.ne + 8, uint64_t{1} << 31);
  R1_CHECK_GGUF_ERROR(b, "byte size of tensor 'tensor.f' overflows");
  // Large but representable: the data cannot be in the file.
  b = ValidFile();
  PatchU64(b, at.ne, uint64_t{1} << 20);
  R1_CHECK_GGUF_ERROR(b, "extends past end of file");

  // ne[0] of a Q4_0 tensor must be whole blocks.
  b = ValidFile();
  PatchU64(b, FindTensorInfo(b, "tensor.q").ne, 30);
  R1_CHECK_GGUF_ERROR(b, "tensor 'tensor.q': ne[0]=30 is not a multiple of the Q4_0 block size 32");
}

TEST_CASE("tensor offsets: overflow, past the end, misaligned, overlapping") {
  auto b = ValidFile();
  PatchU64(b, FindTensorInfo(b, "tensor.f").offset, kMax - 31);  // aligned, and wraps around
  R1_CHECK_GGUF_ERROR(b, "tensor 'tensor.f' data offset 18446744073709551584 + size 32 overflows");
  // The start fits in 64 bits, the end does not.
  const uint64_t data_offset = (*GgufFile::FromBuffer(ValidFile()))->data_offset();
  b = ValidFile();
  PatchU64(b, FindTensorInfo(b, "tensor.f").offset, kMax - 31 - data_offset);
  R1_CHECK_GGUF_ERROR(b, "+ size 32 overflows");

  b = ValidFile();
  const size_t size = b.size();
  PatchU64(b, FindTensorInfo(b, "tensor.f").offset, 1024);
  const uint64_t begin = data_offset + 1024;
  R1_CHECK_GGUF_ERROR(b, "tensor 'tensor.f' data [" + std::to_string(begin) + ", " +
                             std::to_string(begin + 32) + ") extends past end of file (size " +
                             std::to_string(size) + ")");

  b = ValidFile();
  PatchU64(b, FindTensorInfo(b, "tensor.f").offset, 65);
  R1_CHECK_GGUF_ERROR(b, "tensor 'tensor.f' data offset 65 not aligned to 32");
  b = ValidFile(128);
  PatchU64(b, FindTensorInfo(b, "tensor.f").offset, 64);
  R1_CHECK_GGUF_ERROR(b, "not aligned to 128");

  for (uint64_t off : {0u, 32u}) {  // tensor.q covers [0, 36)
    b = ValidFile();
    PatchU64(b, FindTensorInfo(b, "tensor.f").offset, off);
    R1_CHECK_GGUF_ERROR(b, "overlap");
  }
}

TEST_CASE("general.alignment: zero, not a power of two, wrong type") {
  for (uint32_t a : {0u, 3u, 48u, 0xffffffffu}) {
    auto b = ValidFile(64);
    PatchU32(b, After(b, "general.alignment") + 4, a);
    R1_CHECK_GGUF_ERROR(b, "general.alignment " + std::to_string(a) + " is not a power of two");
  }
  auto b = ValidFile(64);
  PatchU32(b, After(b, "general.alignment"), static_cast<uint32_t>(GgufType::kInt32));
  R1_CHECK_GGUF_ERROR(b, "general.alignment has type int32 (must be uint32)");
  b = ValidFile(64);
  PatchU32(b, After(b, "general.alignment"), static_cast<uint32_t>(GgufType::kFloat32));
  R1_CHECK_GGUF_ERROR(b, "general.alignment has type float32");

  RawGguf r;
  r.Header(3, 0, 1).Str("general.alignment").Type(GgufType::kUint64).U64(32);
  R1_CHECK_GGUF_ERROR(r.b, "general.alignment has type uint64");
}

TEST_CASE("duplicate keys and duplicate tensor names") {
  auto b = ValidFile();
  std::memcpy(b.data() + test::FindUnique(b, "dup.bbb"), "dup.aaa", 7);
  R1_CHECK_GGUF_ERROR(b, "duplicate key 'dup.aaa'");

  b = ValidFile();
  b[test::FindUnique(b, "tensor.f") + 7] = 'q';
  R1_CHECK_GGUF_ERROR(b, "duplicate tensor 'tensor.q'");
}

TEST_CASE("invalid UTF-8 in keys, string values, string arrays and tensor names") {
  auto b = ValidFile();
  b[test::FindUnique(b, "dup.aaa") + 4] = 0xff;
  R1_CHECK_GGUF_ERROR(b, "key at offset");
  CHECK(test::ParseResult(b).find("not valid UTF-8") != std::string::npos);

  b = ValidFile();
  b[test::FindUnique(b, "llama") + 1] = 0xc0;  // an overlong lead byte
  R1_CHECK_GGUF_ERROR(b, "string value at offset");
  CHECK(test::ParseResult(b).find("(kv 'general.architecture')") != std::string::npos);

  b = ValidFile();
  b[test::FindUnique(b, "tok1") + 3] = 0x80;  // a lone continuation byte
  R1_CHECK_GGUF_ERROR(b, "string array element at offset");

  b = ValidFile();
  std::memcpy(b.data() + test::FindUnique(b, "tensor.f") + 6, "\xed\xa0", 2);  // a surrogate
  R1_CHECK_GGUF_ERROR(b, "tensor name at offset");
}

TEST_CASE("long names are cut short in messages") {
  const std::string name(5000, 'n');
  RawGguf r;
  r.Header(3, 0, 2).Str(name).Type(GgufType::kUint8).U8(1).Str(name).Type(GgufType::kUint8).U8(2);
  const std::string msg = test::ParseResult(r.b);
  INFO(msg);
  CHECK(msg.find("duplicate key 'nnnn") != std::string::npos);
  CHECK(msg.find("...'") != std::string::npos);
  CHECK(msg.size() < 300);
}

TEST_CASE("Open names the file") {
  const auto f = GgufFile::Open("/nonexistent/model.gguf");
  CHECK(f.status().code() == absl::StatusCode::kNotFound);
  CHECK(std::string(f.status().message()).find("/nonexistent/model.gguf") != std::string::npos);
}

TEST_CASE("random mutations never crash") {
  const std::vector<uint8_t> base = ValidFile();
  std::mt19937_64 rng(12345);
  int ok = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::vector<uint8_t> b = base;
    const int n_mut = 1 + static_cast<int>(rng() % 4);
    for (int m = 0; m < n_mut; ++m) {
      const size_t at = rng() % b.size();
      switch (rng() % 4) {
        case 0: b[at] = static_cast<uint8_t>(rng()); break;
        case 1: b[at] ^= static_cast<uint8_t>(1u << (rng() % 8)); break;
        case 2:  // a large little-endian word in the header region
          if (at + 8 <= b.size()) PatchU64(b, at, rng() >> (rng() % 64));
          break;
        default: b.resize(at); break;
      }
      if (b.empty()) break;
    }
    const auto f = GgufFile::FromBuffer(b, iter % 2 ? Unlimited() : GgufLimits{});
    if (f.ok()) {
      ++ok;
      for (const GgufTensorInfo& t : (*f)->tensors()) {
        REQUIRE(t.file_offset + t.n_bytes <= b.size());
      }
    } else {
      CHECK(!f.status().message().empty());
    }
  }
  MESSAGE(ok, " of 20000 mutated files still parse");
}

}  // TEST_SUITE

}  // namespace
}  // namespace r1
