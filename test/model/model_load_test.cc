// Model::Load on files that are valid GGUF but not a usable model: each is a clear error.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "gguf/gguf_copy.h"
#include "gguf/gguf_reader.h"
#include "gguf/gguf_writer.h"
#include "r1/model.h"
#include "tiny_model.h"

namespace r1 {
namespace {

// Rewrites a tiny model with one change: `edit` may alter metadata or drop/replace tensors.
std::string Variant(const std::function<void(GgufWriter&, const GgufFile&)>& edit,
                    const std::function<bool(std::string_view)>& keep_tensor = [](std::string_view) { return true; }) {
  const std::string base = test::WriteTinyModel(test::TinyModelSpec{});
  auto file = GgufFile::Open(base);
  REQUIRE(file.ok());
  GgufWriter w;
  for (const GgufKeyValue& kv : (*file)->metadata()) REQUIRE(CopyKeyValue(**file, kv, w).ok());
  for (const GgufTensorInfo& t : (*file)->tensors()) {
    if (!keep_tensor(t.name)) continue;
    std::vector<uint64_t> ne(t.ne, t.ne + t.n_dims);
    REQUIRE(w.AddTensor(t.name, t.type, ne, {t.data, t.n_bytes}).ok());
  }
  edit(w, **file);
  const std::string path = base + ".variant.gguf";
  REQUIRE(w.WriteToFile(path).ok());
  std::filesystem::remove(base);
  return path;
}

std::string LoadError(const std::string& path) {
  auto model = Model::Load(path);
  std::filesystem::remove(path);
  REQUIRE_FALSE(model.ok());
  return std::string(model.status().message());
}

TEST_CASE("unusable models are refused with a message naming the problem") {
  SUBCASE("missing file") {
    auto model = Model::Load("/nonexistent/model.gguf");
    CHECK(model.status().code() == absl::StatusCode::kNotFound);
  }
  SUBCASE("unknown architecture") {
    const auto msg = LoadError(Variant([](GgufWriter& w, const GgufFile&) {
      REQUIRE(w.SetString("general.architecture", "mamba").ok());
    }));
    CHECK(msg.find("mamba") != std::string::npos);
  }
  SUBCASE("missing tensor") {
    const auto msg = LoadError(Variant([](GgufWriter&, const GgufFile&) {},
                                       [](std::string_view name) { return name != "blk.1.ffn_up.weight"; }));
    CHECK(msg.find("blk.1.ffn_up.weight") != std::string::npos);
  }
  SUBCASE("head count that does not match the tensors") {
    const auto msg = LoadError(Variant([](GgufWriter& w, const GgufFile&) {
      REQUIRE(w.SetUint32("llama.attention.head_count", 2).ok());
      REQUIRE(w.SetUint32("llama.attention.head_count_kv", 2).ok());
    }));
    CHECK(msg.find("attn_q.weight") != std::string::npos);
  }
  SUBCASE("KV heads that do not divide the heads") {
    const auto msg = LoadError(Variant([](GgufWriter& w, const GgufFile&) {
      REQUIRE(w.SetUint32("llama.attention.head_count_kv", 3).ok());
    }));
    CHECK(msg.find("KV heads") != std::string::npos);
  }
  SUBCASE("vocabulary size that does not match the embedding") {
    const auto msg = LoadError(Variant([](GgufWriter& w, const GgufFile&) {
      REQUIRE(w.SetUint32("llama.vocab_size", 1000).ok());
    }));
    CHECK(msg.find("token_embd.weight") != std::string::npos);
  }
  SUBCASE("absurd layer count") {
    const auto msg = LoadError(Variant([](GgufWriter& w, const GgufFile&) {
      REQUIRE(w.SetUint32("llama.block_count", 4000000000u).ok());
    }));
    CHECK(msg.find("block_count") != std::string::npos);
  }
  SUBCASE("more layers than tensors") {
    const auto msg = LoadError(Variant([](GgufWriter& w, const GgufFile&) {
      REQUIRE(w.SetUint32("llama.block_count", 3).ok());
    }));
    CHECK(msg.find("blk.2.") != std::string::npos);
  }
  SUBCASE("a weight matrix stored as integers") {
    const auto msg = LoadError(Variant(
        [](GgufWriter& w, const GgufFile& f) {
          const GgufTensorInfo* t = f.FindTensor("blk.0.attn_v.weight");
          std::vector<uint64_t> ne(t->ne, t->ne + t->n_dims);
          REQUIRE(w.AddTensor("blk.0.attn_v.weight", DType::kI32, ne, {t->data, t->n_bytes}).ok());
        },
        [](std::string_view name) { return name != "blk.0.attn_v.weight"; }));
    CHECK(msg.find("blk.0.attn_v.weight") != std::string::npos);
  }
  SUBCASE("a string where a number belongs") {
    const auto msg = LoadError(Variant([](GgufWriter& w, const GgufFile&) {
      REQUIRE(w.SetString("llama.embedding_length", "sixty-four").ok());
    }));
    CHECK(msg.find("embedding_length") != std::string::npos);
  }
}

}  // namespace
}  // namespace r1
