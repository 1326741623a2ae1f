// Every GGUF file of the shared test-data folder opens, a few known facts hold, and writing a
// file's contents back with GgufWriter reproduces it.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "gguf/gguf_reader.h"
#include "gguf/gguf_test_bytes.h"
#include "gguf/gguf_copy.h"
#include "gguf/gguf_writer.h"
#include "support/test_util.h"

R1_TEST_NEEDS_SHARED_DIR();

namespace r1 {
namespace {

std::vector<std::string> AllGgufFiles() {
  std::vector<std::string> files;
  for (const char* sub : {"reference", "models", "vocab"}) {
    const std::filesystem::path dir = std::filesystem::path(*test::SharedDir()) / sub;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      if (e.path().extension() == ".gguf") files.push_back(e.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::unique_ptr<GgufFile> OpenShared(const std::string& rel) {
  auto f = GgufFile::Open(*test::SharedDir() + "/" + rel);
  REQUIRE_MESSAGE(f.ok(), f.status().ToString());
  return std::move(*f);
}

TEST_SUITE("gguf") {

TEST_CASE("every shared GGUF file opens, with its tensors inside the file and apart") {
  const std::vector<std::string> files = AllGgufFiles();
  CHECK(files.size() >= 30);
  for (const std::string& path : files) {
    INFO(path);
    const auto f = GgufFile::Open(path);
    REQUIRE_MESSAGE(f.ok(), f.status().ToString());
    CHECK((*f)->version() == 3);
    CHECK((*f)->GetString("general.architecture").ok());
    CHECK((*f)->GetArray("tokenizer.ggml.tokens").ok());
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    for (const GgufTensorInfo& t : (*f)->tensors()) {
      CHECK(t.file_offset >= (*f)->data_offset());
      CHECK(t.file_offset + t.n_bytes <= (*f)->bytes().size());
      CHECK(t.file_offset % (*f)->alignment() == 0);
      ranges.emplace_back(t.file_offset, t.file_offset + t.n_bytes);
    }
    std::sort(ranges.begin(), ranges.end());
    for (size_t i = 1; i < ranges.size(); ++i) CHECK(ranges[i - 1].second <= ranges[i].first);
  }
}

TEST_CASE("reference/qwen2-dev.F32.gguf") {
  const auto f = OpenShared("reference/qwen2-dev.F32.gguf");
  CHECK(*f->GetString("general.architecture") == "qwen2");
  CHECK(*f->GetString("general.name") == "qwen2-dev");
  CHECK(f->alignment() == 32);
  CHECK(f->metadata().size() == 21);
  CHECK(f->tensors().size() == 27);
  CHECK(*f->GetUint("qwen2.block_count") == 2);
  CHECK(*f->GetUint("qwen2.embedding_length") == 256);
  CHECK(*f->GetUint("qwen2.attention.head_count_kv") == 2);
  CHECK(*f->GetFloat("qwen2.rope.freq_base") == 1000000.0);
  CHECK(static_cast<float>(*f->GetFloat("qwen2.attention.layer_norm_rms_epsilon")) == 1e-6f);
  CHECK(*f->GetBool("tokenizer.ggml.add_bos_token") == false);
  CHECK(*f->GetUint("tokenizer.ggml.bos_token_id") == 376);
  const GgufArray* tokens = *f->GetArray("tokenizer.ggml.tokens");
  CHECK(tokens->size() == 381);
  CHECK(*tokens->StringAt(0) == "!");
  const GgufArray* merges = *f->GetArray("tokenizer.ggml.merges");
  CHECK(merges->size() == 120);
  CHECK(*merges->StringAt(1) == "\xc4\xa0 t");
  const GgufArray* types = *f->GetArray("tokenizer.ggml.token_type");
  CHECK(types->type() == GgufType::kInt32);
  CHECK(*types->IntAt(0) == 1);

  const GgufTensorInfo* emb = f->FindTensor("token_embd.weight");
  REQUIRE(emb != nullptr);
  CHECK(emb->type == DType::kF32);
  CHECK(emb->n_dims == 2);
  CHECK(emb->ne[0] == 256);
  CHECK(emb->ne[1] == 381);
  CHECK(emb->ne[2] == 1);
  CHECK(emb->n_bytes == 256 * 381 * 4);
  CHECK(emb->file_offset == f->data_offset());
  const GgufTensorInfo* norm = f->FindTensor("output_norm.weight");
  REQUIRE(norm != nullptr);
  CHECK(norm->n_dims == 1);
  CHECK(norm->file_offset == f->data_offset() + 390144);
}

TEST_CASE("reference/deepseek2-dev.Q4_K_M.gguf and models/llama-2-tiny-random.gguf") {
  const auto ds = OpenShared("reference/deepseek2-dev.Q4_K_M.gguf");
  CHECK(*ds->GetString("general.architecture") == "deepseek2");
  CHECK(*ds->GetString("deepseek2.rope.scaling.type") == "yarn");
  CHECK(*ds->GetBool("deepseek2.expert_weights_norm") == true);
  CHECK(*ds->GetFloat("deepseek2.expert_weights_scale") == 2.5);
  CHECK(*ds->GetUint("deepseek2.expert_count") == 8);
  CHECK(ds->FindTensor("output.weight")->type == DType::kQ6_K);
  CHECK(ds->FindTensor("token_embd.weight")->type == DType::kQ4_K);
  CHECK(ds->FindTensor("output_norm.weight")->type == DType::kF32);

  const auto ll = OpenShared("models/llama-2-tiny-random.gguf");
  CHECK(*ll->GetString("tokenizer.ggml.model") == "llama");
  const GgufArray* tokens = *ll->GetArray("tokenizer.ggml.tokens");
  CHECK(tokens->size() == 32000);
  CHECK(*tokens->StringAt(1) == "<s>");
  CHECK((*ll->GetArray("tokenizer.ggml.scores"))->type() == GgufType::kFloat32);
  const GgufTensorInfo* emb = ll->FindTensor("token_embd.weight");
  CHECK(emb->type == DType::kF16);
  CHECK(emb->ne[0] == 8);
  CHECK(emb->ne[1] == 32000);

  const auto vocab = OpenShared("vocab/qwen2.vocab.gguf");
  CHECK(vocab->tensors().empty());
  CHECK(vocab->data_offset() <= vocab->bytes().size());
  CHECK((*vocab->GetArray("tokenizer.ggml.tokens"))->size() > 150000);
}

TEST_CASE("rewriting a shared file with GgufWriter reproduces its contents") {
  for (const std::string& path : AllGgufFiles()) {
    INFO(path);
    const auto f = GgufFile::Open(path);
    REQUIRE(f.ok());
    const GgufFile& src = **f;
    GgufWriter w;
    R1_REQUIRE_OK(w.SetVersion(src.version()));
    for (const GgufKeyValue& kv : src.metadata()) R1_REQUIRE_OK(CopyKeyValue(src, kv, w));
    for (const GgufTensorInfo& t : src.tensors()) {
      R1_REQUIRE_OK(w.AddTensorView(t.name, t.type, absl::Span<const uint64_t>(t.ne, t.n_dims),
                                    {t.data, t.n_bytes}));
    }
    const auto bytes = w.Serialize();
    R1_REQUIRE_OK(bytes.status());
    const absl::Span<const uint8_t> orig = src.bytes();
    if (!src.tensors().empty()) {
      // Written the way llama.cpp writes: the same bytes.
      CHECK(absl::Span<const uint8_t>(*bytes) == orig);
    } else {
      // Vocabulary files differ at most in trailing padding.
      REQUIRE(bytes->size() <= orig.size());
      CHECK(absl::Span<const uint8_t>(*bytes) == orig.subspan(0, bytes->size()));
    }
  }
}

}  // TEST_SUITE

}  // namespace
}  // namespace r1
