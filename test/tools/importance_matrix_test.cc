// Importance matrices: llama-imatrix's GGUF and legacy layouts read to per-column means, and
// malformed files refused with a message.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "absl/strings/str_format.h"
#include "gguf/gguf_writer.h"
#include "tools/importance_matrix.h"

namespace r1::tools {
namespace {

std::string TempPath(const std::string& name) {
  return absl::StrFormat("/tmp/r1_imatrix_test_%d_%s", static_cast<int>(getpid()), name);
}

absl::Span<const uint8_t> Bytes(const std::vector<float>& v) {
  return {reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(float)};
}

void WriteBytes(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

template <class T>
void Put(std::string& s, T v) {
  s.append(reinterpret_cast<const char*>(&v), sizeof(v));
}

TEST_SUITE("tools") {
  TEST_CASE("GGUF importance matrices: sums divided by each expert's count") {
    GgufWriter w;
    REQUIRE(w.SetUint32("imatrix.chunk_count", 7).ok());
    const std::vector<float> dense_sums = {2, 4, 6, 8}, dense_counts = {2};
    // Two experts of 3 columns; the second never saw a token: neutral importance 1.
    const std::vector<float> moe_sums = {3, 6, 9, 5, 5, 5}, moe_counts = {3, 0};
    const uint64_t ne_dense[2] = {4, 1}, ne_dense_c[2] = {1, 1}, ne_moe[2] = {3, 2}, ne_moe_c[2] = {1, 2};
    REQUIRE(w.AddTensor("blk.0.ffn_down.weight.in_sum2", DType::kF32, ne_dense, Bytes(dense_sums)).ok());
    REQUIRE(w.AddTensor("blk.0.ffn_down.weight.counts", DType::kF32, ne_dense_c, Bytes(dense_counts)).ok());
    REQUIRE(w.AddTensor("blk.0.ffn_up_exps.weight.in_sum2", DType::kF32, ne_moe, Bytes(moe_sums)).ok());
    REQUIRE(w.AddTensor("blk.0.ffn_up_exps.weight.counts", DType::kF32, ne_moe_c, Bytes(moe_counts)).ok());
    const std::string path = TempPath("m.gguf");
    REQUIRE(w.WriteToFile(path).ok());
    auto m = LoadImportanceMatrix(path);
    REQUIRE_MESSAGE(m.ok(), m.status().ToString());
    CHECK(m->n_chunks == 7);
    CHECK(m->columns.at("blk.0.ffn_down.weight") == std::vector<float>{1, 2, 3, 4});
    CHECK(m->columns.at("blk.0.ffn_up_exps.weight") == std::vector<float>{1, 2, 3, 1, 1, 1});

    GgufWriter half;  // sums without counts
    REQUIRE(half.AddTensor("a.weight.in_sum2", DType::kF32, ne_dense, Bytes(dense_sums)).ok());
    REQUIRE(half.WriteToFile(path).ok());
    auto bad = LoadImportanceMatrix(path);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.status().message().find("lacks its .counts") != std::string::npos);
    std::remove(path.c_str());
  }

  TEST_CASE("legacy importance matrices: values divided by the call count, trailer read") {
    std::string s;
    Put<int32_t>(s, 1);
    const std::string name = "blk.3.attn_q.weight";
    Put<int32_t>(s, static_cast<int32_t>(name.size()));
    s += name;
    Put<int32_t>(s, 4);  // calls
    Put<int32_t>(s, 2);  // values
    Put<float>(s, 8.0f);
    Put<float>(s, 2.0f);
    Put<int32_t>(s, 12);  // chunks
    Put<int32_t>(s, 8);
    s += "wiki.txt";
    const std::string path = TempPath("m.dat");
    WriteBytes(path, s);
    auto m = LoadImportanceMatrix(path);
    REQUIRE_MESSAGE(m.ok(), m.status().ToString());
    CHECK(m->columns.at(name) == std::vector<float>{2.0f, 0.5f});
    CHECK(m->n_chunks == 12);
    CHECK(m->datasets == std::vector<std::string>{"wiki.txt"});

    // Every truncation is an error, never a read past the end.
    for (size_t cut = 0; cut < 4 + 4 + name.size() + 8 + 8; ++cut) {
      WriteBytes(path, s.substr(0, cut));
      CHECK_FALSE(LoadImportanceMatrix(path).ok());
    }
    std::string huge;
    Put<int32_t>(huge, 1);
    Put<int32_t>(huge, 0x7fffffff);  // a name longer than the file
    WriteBytes(path, huge);
    CHECK(LoadImportanceMatrix(path).status().message().find("bad name length") != std::string::npos);
    std::remove(path.c_str());
    CHECK(LoadImportanceMatrix(TempPath("missing")).status().code() == absl::StatusCode::kNotFound);
  }
}

}  // namespace
}  // namespace r1::tools
