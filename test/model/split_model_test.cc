// Split GGUF models: shard names, opening by any shard, the same logits as the whole file, and
// a clear error naming the shard for every inconsistency.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "gguf/gguf_copy.h"
#include "gguf/gguf_reader.h"
#include "gguf/gguf_split.h"
#include "gguf/gguf_writer.h"
#include "r1/model.h"
#include "r1/session.h"
#include "tiny_model.h"
#include "tools/model_tools.h"
#include "tools/split_model.h"

namespace r1 {
namespace {

namespace fs = std::filesystem;

// A fresh directory for one test's shards, removed at the end.
struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("r1-split-" + std::to_string(reinterpret_cast<uintptr_t>(this)) + "-" +
                                        std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

std::vector<float> AllLogits(const std::string& path, const std::vector<int32_t>& tokens) {
  auto model = Model::Load(path);
  REQUIRE_MESSAGE(model.ok(), model.status().message());
  SessionOptions o;
  o.n_ctx = 64;
  o.n_threads = 1;
  o.cache_type = CacheType::kF32;
  auto session = Session::Create(*model, o);
  REQUIRE(session.ok());
  REQUIRE((*session)->Evaluate(tokens, /*all_logits=*/true).ok());
  std::vector<float> out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const auto row = (*session)->Logits(static_cast<int64_t>(i));
    out.insert(out.end(), row.begin(), row.end());
  }
  return out;
}

// Rewrites the GGUF file at `path` in place with `edit` applied to its metadata.
void RewriteMetadata(const std::string& path, const std::function<void(GgufWriter&)>& edit,
                     const std::function<bool(std::string_view)>& keep_tensor = [](std::string_view) { return true; }) {
  GgufWriter w;
  {
    auto file = GgufFile::Open(path);
    REQUIRE(file.ok());
    for (const GgufKeyValue& kv : (*file)->metadata()) REQUIRE(CopyKeyValue(**file, kv, w).ok());
    for (const GgufTensorInfo& t : (*file)->tensors()) {
      if (!keep_tensor(t.name)) continue;
      std::vector<uint64_t> ne(t.ne, t.ne + t.n_dims);
      REQUIRE(w.AddTensor(t.name, t.type, ne, {t.data, t.n_bytes}).ok());
    }
    edit(w);
    REQUIRE(w.WriteToFile(path + ".new").ok());
  }
  fs::rename(path + ".new", path);
}

std::string LoadError(const std::string& path) {
  auto model = Model::Load(path);
  REQUIRE_FALSE(model.ok());
  return std::string(model.status().message());
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST_CASE("shard names follow gguf-split's PREFIX-NNNNN-of-MMMMM.gguf") {
  auto p = ParseSplitPath("/m/DeepSeek-R1-UD-IQ1_S-00002-of-00003.gguf");
  REQUIRE(p);
  CHECK(p->prefix == "/m/DeepSeek-R1-UD-IQ1_S");
  CHECK(p->index == 1);
  CHECK(p->count == 3);
  CHECK(SplitPath(p->prefix, 0, 3) == "/m/DeepSeek-R1-UD-IQ1_S-00001-of-00003.gguf");
  CHECK(ParseSplitPath("model.gguf") == std::nullopt);
  CHECK(ParseSplitPath("m-00004-of-00003.gguf") == std::nullopt);  // past the count
  CHECK(ParseSplitPath("m-00000-of-00003.gguf") == std::nullopt);  // numbered from 1
  CHECK(ParseSplitPath("m-0001-of-0003.gguf") == std::nullopt);    // five digits
  CHECK(ParseSplitPath("m-00001-of-00003.bin") == std::nullopt);
  CHECK(ParseSplitPath("-00001-of-00003.gguf") == std::nullopt);   // no prefix
  CHECK(ParseSplitPath("m-00001-of-999999999999.gguf") == std::nullopt);
}

TEST_CASE("a split model opens by any shard and computes what the whole file does") {
  TempDir dir;
  test::TinyModelSpec spec;
  spec.n_layers = 3;
  const std::string whole = test::WriteTinyModel(spec);
  const std::vector<int32_t> tokens = {1, 5, 9, 33, 2, 71};
  const std::vector<float> want = AllLogits(whole, tokens);

  tools::SplitOptions by_count;
  by_count.max_tensors = 5;
  auto shards = tools::SplitModel(whole, dir / "tiny", by_count);
  REQUIRE_MESSAGE(shards.ok(), shards.status().message());
  REQUIRE(shards->size() >= 3);
  CHECK(shards->front() == dir / ("tiny-00001-of-0000" + std::to_string(shards->size()) + ".gguf"));
  for (const std::string& shard : *shards) {
    CAPTURE(shard);
    CHECK(AllLogits(shard, tokens) == want);
  }
  auto model = Model::Load((*shards)[1]);
  REQUIRE(model.ok());
  CHECK((*model)->file_paths() == *shards);
  uint64_t total = 0;
  for (const std::string& shard : *shards) total += fs::file_size(shard);
  CHECK((*model)->file_bytes() == total);

  SUBCASE("by size, and a split model splits again") {
    tools::SplitOptions by_size;
    by_size.max_bytes = 20000;
    auto again = tools::SplitModel((*shards)[2], dir / "again", by_size);
    REQUIRE_MESSAGE(again.ok(), again.status().message());
    CHECK(again->size() > 1);
    CHECK(AllLogits(again->back(), tokens) == want);
  }
  SUBCASE("quantize reads every shard and writes one file") {
    const std::string out = dir / "one.gguf";
    REQUIRE(tools::QuantizeModel((*shards)[0], out, *tools::ParseQuantScheme("F32"), {}).ok());
    auto one = GgufFile::Open(out);
    REQUIRE(one.ok());
    CHECK_FALSE((*one)->Has("split.count"));
    CHECK(AllLogits(out, tokens) == want);
  }
  SUBCASE("existing shards are not replaced without overwrite, nor the input ever") {
    auto again = tools::SplitModel(whole, dir / "tiny", by_count);
    CHECK(again.status().code() == absl::StatusCode::kAlreadyExists);
    tools::SplitOptions force = by_count;
    force.overwrite = true;
    CHECK(tools::SplitModel(whole, dir / "tiny", force).ok());
    tools::SplitOptions one_shard;
    one_shard.max_tensors = 1000;
    auto solo = tools::SplitModel(whole, dir / "solo", one_shard);
    REQUIRE(solo.ok());
    REQUIRE(solo->size() == 1);
    // Splitting solo-00001-of-00001.gguf the same way would write over it.
    one_shard.overwrite = true;
    auto self = tools::SplitModel(solo->front(), dir / "solo", one_shard);
    CHECK(self.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(AllLogits(solo->front(), tokens) == want);
  }
  fs::remove(whole);
}

TEST_CASE("an inconsistent split model is refused naming the shard") {
  TempDir dir;
  const std::string whole = test::WriteTinyModel({});
  tools::SplitOptions o;
  o.max_tensors = 6;
  auto shards = tools::SplitModel(whole, dir / "m", o);
  fs::remove(whole);
  REQUIRE(shards.ok());
  REQUIRE(shards->size() >= 3);
  const std::string first = (*shards)[0], second = (*shards)[1], third = (*shards)[2];

  SUBCASE("a missing shard") {
    fs::remove(third);
    const std::string msg = LoadError(first);
    CHECK(Contains(msg, third));
    CHECK(Model::Load(first).status().code() == absl::StatusCode::kNotFound);
  }
  SUBCASE("a missing first shard, opened by another") {
    fs::remove(first);
    const std::string msg = LoadError(second);
    CHECK(Contains(msg, "first shard"));
    CHECK(Contains(msg, first));
  }
  SUBCASE("a shard with another split.no") {
    RewriteMetadata(second, [](GgufWriter& w) { REQUIRE(w.SetUint16("split.no", 2).ok()); });
    const std::string msg = LoadError(first);
    CHECK(Contains(msg, second));
    CHECK(Contains(msg, "split.no"));
  }
  SUBCASE("a shard with another split.count") {
    RewriteMetadata(third, [](GgufWriter& w) { REQUIRE(w.SetUint16("split.count", 7).ok()); });
    const std::string msg = LoadError(first);
    CHECK(Contains(msg, third));
    CHECK(Contains(msg, "split.count"));
  }
  SUBCASE("a shard without split keys") {
    GgufWriter w;
    REQUIRE(w.WriteToFile(second + ".new").ok());
    fs::rename(second + ".new", second);
    CHECK(Contains(LoadError(first), second));
  }
  SUBCASE("a tensor in two shards") {
    // The third shard also carries the first tensor of the second.
    auto second_file = GgufFile::Open(second);
    REQUIRE(second_file.ok());
    const GgufTensorInfo t = (*second_file)->tensors()[0];
    const std::string name(t.name);
    const std::vector<uint64_t> ne(t.ne, t.ne + t.n_dims);
    const std::vector<uint8_t> data(t.data, t.data + t.n_bytes);
    second_file->reset();
    RewriteMetadata(third, [&](GgufWriter& w) { REQUIRE(w.AddTensor(name, t.type, ne, data).ok()); });
    const std::string msg = LoadError(first);
    CHECK(Contains(msg, third));
    CHECK(Contains(msg, name));
  }
  SUBCASE("a tensor missing from every shard") {
    std::string dropped;
    {
      auto second_file = GgufFile::Open(second);
      REQUIRE(second_file.ok());
      dropped = std::string((*second_file)->tensors()[0].name);
    }
    RewriteMetadata(second, [](GgufWriter&) {}, [&](std::string_view name) { return name != dropped; });
    CHECK(Contains(LoadError(first), "split.tensors.count"));
  }
  SUBCASE("a shard renamed so that its siblings cannot be found") {
    const std::string plain = dir / "plain.gguf";
    fs::rename(first, plain);
    const std::string msg = LoadError(plain);
    CHECK(Contains(msg, "not named"));
  }
  SUBCASE("a name that promises more shards than the file says") {
    const std::string renamed = dir / "m-00001-of-00009.gguf";
    fs::copy_file(first, renamed);
    CHECK(Contains(LoadError(renamed), "split.count"));
  }
}

}  // namespace
}  // namespace r1
