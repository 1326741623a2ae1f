// GgufWriter: what it refuses, streaming to a file, fillers, and the layout it produces.
#include <doctest/doctest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "gguf/gguf_reader.h"
#include "gguf/gguf_test_bytes.h"
#include "gguf/gguf_writer.h"
#include "support/test_util.h"

namespace r1 {
namespace {

std::string TempPath(const char* name) {
  return (std::filesystem::temp_directory_path() /
          (std::string("r1_gguf_") + std::to_string(::getpid()) + "_" + name))
      .string();
}

bool Mentions(const Status& s, const std::string& what) {
  return !s.ok() && std::string(s.message()).find(what) != std::string::npos;
}

TEST_SUITE("gguf") {

TEST_CASE("the writer refuses what the reader would reject") {
  GgufWriter w;
  CHECK(Mentions(w.SetVersion(1), "version 1"));
  CHECK(Mentions(w.SetVersion(4), "version 4"));
  CHECK(Mentions(w.SetAlignment(0), "not a power of two"));
  CHECK(Mentions(w.SetAlignment(24), "not a power of two"));
  CHECK(Mentions(w.SetUint32("", 1), "empty key"));
  CHECK(Mentions(w.SetUint32("bad\xff", 1), "not valid UTF-8"));
  CHECK(Mentions(w.SetString("k", "\xc0\x80"), "value of key 'k' is not valid UTF-8"));
  CHECK(Mentions(w.SetStringArray("k", std::vector<std::string>{"ok", "\xed\xa0\x80"}),
                 "element 1 of array 'k'"));
  CHECK(w.kv_count() == 0);

  const std::vector<uint8_t> data(64);
  CHECK(Mentions(w.AddTensor("q", DType::kQ4_0, std::vector<uint64_t>{30}, data),
                 "ne[0]=30 is not a multiple of the Q4_0 block size 32"));
  CHECK(Mentions(w.AddTensor("f", DType::kF32, std::vector<uint64_t>{3}, data),
                 "data has 64 bytes, its shape needs 12"));
  CHECK(Mentions(w.AddTensor("z", DType::kF32, std::vector<uint64_t>{16, 0}, data),
                 "zero dimension"));
  CHECK(Mentions(w.AddTensor("n", DType::kF32, std::vector<uint64_t>{}, data), "0 dimensions"));
  CHECK(Mentions(w.AddTensor("n", DType::kF32, std::vector<uint64_t>{1, 1, 1, 1, 16}, data),
                 "5 dimensions"));
  CHECK(Mentions(w.AddTensor("o", DType::kF32, std::vector<uint64_t>{uint64_t{1} << 62, 4}, data),
                 "overflows"));
  CHECK(Mentions(w.AddTensor("", DType::kF32, std::vector<uint64_t>{16}, data), "empty"));
  CHECK(Mentions(w.AddTensor("t", static_cast<DType>(77), std::vector<uint64_t>{16}, data),
                 "unknown type 77"));
  CHECK(Mentions(w.AddTensorFiller("t", DType::kF32, std::vector<uint64_t>{16}, nullptr),
                 "no filler"));
  CHECK(w.tensor_count() == 0);  // failed adds leave nothing behind

  R1_REQUIRE_OK(w.AddTensor("t", DType::kF32, std::vector<uint64_t>{16}, data));
  CHECK(Mentions(w.AddTensor("t", DType::kF32, std::vector<uint64_t>{16}, data),
                 "duplicate tensor 't'"));
  CHECK(w.tensor_count() == 1);

  // general.alignment set by hand must still be a uint32 power of two.
  R1_REQUIRE_OK(w.SetUint32("general.alignment", 48));
  CHECK(Mentions(w.Serialize().status(), "general.alignment"));
  R1_REQUIRE_OK(w.SetFloat32("general.alignment", 64));
  CHECK(Mentions(w.Serialize().status(), "general.alignment"));
  R1_REQUIRE_OK(w.SetUint32("general.alignment", 64));
  R1_REQUIRE_OK(w.Serialize().status());
}

TEST_CASE("layout: tensors in order at aligned offsets, each padded with zeros") {
  GgufWriter w;
  R1_REQUIRE_OK(w.SetAlignment(64));
  R1_REQUIRE_OK(w.AddTensor("tensor.first", DType::kQ8_0, std::vector<uint64_t>{32},
                            std::vector<uint8_t>(34, 0xaa)));
  R1_REQUIRE_OK(w.AddTensor("tensor.second", DType::kF16, std::vector<uint64_t>{3},
                            std::vector<uint8_t>(6, 0xbb)));
  const auto bytes = w.Serialize();
  R1_REQUIRE_OK(bytes.status());
  const auto f = GgufFile::FromBuffer(*bytes);
  R1_REQUIRE_OK(f.status());
  const GgufTensorInfo& a = (*f)->tensors()[0];
  const GgufTensorInfo& b = (*f)->tensors()[1];
  CHECK(a.file_offset == (*f)->data_offset());
  CHECK(b.file_offset == a.file_offset + 64);
  CHECK(bytes->size() == b.file_offset + 64);
  for (uint64_t i = a.file_offset + 34; i < b.file_offset; ++i) CHECK((*bytes)[i] == 0);
  for (uint64_t i = b.file_offset + 6; i < bytes->size(); ++i) CHECK((*bytes)[i] == 0);
  // The header padding, after the last tensor info's offset field, is zeros too.
  const size_t table_end = test::FindTensorInfo(*bytes, "tensor.second").offset + 8;
  CHECK((*f)->data_offset() % 64 == 0);
  CHECK((*f)->data_offset() >= table_end);
  for (uint64_t i = table_end; i < (*f)->data_offset(); ++i) CHECK((*bytes)[i] == 0);
}

TEST_CASE("WriteToFile streams views and fillers; the result equals Serialize") {
  std::vector<float> big(1 << 16);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<float>(i);
  const absl::Span<const uint8_t> big_bytes(reinterpret_cast<const uint8_t*>(big.data()),
                                            big.size() * sizeof(float));
  int fills = 0;
  GgufWriter w;
  R1_REQUIRE_OK(w.SetVersion(2));
  R1_REQUIRE_OK(w.SetString("general.architecture", "llama"));
  R1_REQUIRE_OK(w.AddTensorView("view", DType::kF32, std::vector<uint64_t>{256, 256}, big_bytes));
  R1_REQUIRE_OK(w.AddTensorFiller("filled", DType::kI32, std::vector<uint64_t>{10, 3},
                                  [&](absl::Span<uint8_t> out) {
                                    ++fills;
                                    REQUIRE(out.size() == 120);
                                    for (size_t i = 0; i < out.size(); ++i) out[i] = uint8_t(i);
                                    return absl::OkStatus();
                                  }));
  const std::string path = TempPath("stream.gguf");
  R1_REQUIRE_OK(w.WriteToFile(path));
  CHECK(fills == 1);
  CHECK(!std::filesystem::exists(path + ".tmp"));
  const auto mem = w.Serialize();
  R1_REQUIRE_OK(mem.status());
  CHECK(fills == 2);
  const auto disk = test::ReadFileBytes(path);
  REQUIRE(disk.has_value());
  CHECK(*disk == *mem);
  CHECK(disk->size() == *w.FileSize());

  const auto f = GgufFile::Open(path);
  R1_REQUIRE_OK(f.status());
  CHECK((*f)->path() == path);
  CHECK((*f)->version() == 2);
  const GgufTensorInfo* view = (*f)->FindTensor("view");
  REQUIRE(view != nullptr);
  CHECK(std::memcmp(view->data, big.data(), big_bytes.size()) == 0);
  const GgufTensorInfo* filled = (*f)->FindTensor("filled");
  REQUIRE(filled != nullptr);
  CHECK(filled->data[119] == 119);
  std::filesystem::remove(path);
}

TEST_CASE("a failing filler fails the write and leaves no file") {
  GgufWriter w;
  R1_REQUIRE_OK(w.AddTensorFiller("bad", DType::kF32, std::vector<uint64_t>{4},
                                  [](absl::Span<uint8_t>) { return absl::InternalError("boom"); }));
  const std::string path = TempPath("failed.gguf");
  const Status s = w.WriteToFile(path);
  CHECK(Mentions(s, "tensor 'bad': boom"));
  CHECK(!std::filesystem::exists(path));
  CHECK(!std::filesystem::exists(path + ".tmp"));
  CHECK(Mentions(w.Serialize().status(), "boom"));
  CHECK(Mentions(w.WriteToFile("/nonexistent-dir/x.gguf"), "cannot create"));
}

TEST_CASE("opening reads only the header: tensor data pages may be unreadable") {
  // Tensor data behind PROT_NONE pages: any touch of it at open would crash the test.
  const long page = ::sysconf(_SC_PAGESIZE);
  GgufWriter w;
  R1_REQUIRE_OK(w.SetAlignment(static_cast<uint32_t>(page)));
  R1_REQUIRE_OK(w.SetStringArray("tokenizer.ggml.tokens", std::vector<std::string>(1000, "tok")));
  const std::vector<uint8_t> data(4 * page, 1);
  const std::vector<uint64_t> ne = {static_cast<uint64_t>(page)};
  R1_REQUIRE_OK(w.AddTensor("a", DType::kF32, ne, data));
  R1_REQUIRE_OK(w.AddTensor("b", DType::kF32, ne, data));
  const auto bytes = w.Serialize();
  R1_REQUIRE_OK(bytes.status());
  const size_t size = bytes->size();
  void* mem = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  REQUIRE(mem != MAP_FAILED);
  std::memcpy(mem, bytes->data(), size);
  const auto probe = GgufFile::FromBuffer(*bytes);
  R1_REQUIRE_OK(probe.status());
  const uint64_t data_offset = (*probe)->data_offset();
  REQUIRE(data_offset % page == 0);
  REQUIRE(::mprotect(static_cast<uint8_t*>(mem) + data_offset, size - data_offset, PROT_NONE) == 0);
  const auto f = GgufFile::FromBuffer({static_cast<const uint8_t*>(mem), size});
  R1_REQUIRE_OK(f.status());
  CHECK((*f)->tensors().size() == 2);
  CHECK((*f)->tensors()[1].n_bytes == 4 * static_cast<uint64_t>(page));
  ::munmap(mem, size);
}

}  // TEST_SUITE

}  // namespace
}  // namespace r1
