// Speculative decoding with the model's own multi-token-prediction (nextn) block
// (Session::SetNextnDraft): the output is the target's own, token for token, whether the block
// agrees with the model almost always (a block built to predict as the model does) or rarely
// (a random one); after rejected guesses the block's cache is as if it had read only the kept
// tokens; a model without a usable block is refused.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gguf/gguf_copy.h"
#include "gguf/gguf_reader.h"
#include "gguf/gguf_writer.h"
#include "r1/session.h"
#include "support/test_util.h"
#include "model/tiny_moe_model.h"

namespace r1 {
namespace {

using test::TinyMoeSpec;

std::shared_ptr<const Model> LoadAndRemove(const std::string& path) {
  auto model = Model::Load(path);
  std::filesystem::remove(path);  // the mapping stays valid
  REQUIRE_MESSAGE(model.ok(), model.status().ToString());
  return *std::move(model);
}

std::vector<float> Floats(const GgufTensorInfo& t) {
  REQUIRE(t.type == DType::kF32);
  std::vector<float> v(t.n_elements);
  std::memcpy(v.data(), t.data, t.n_bytes);
  return v;
}

// A one-layer model whose MTP block guesses exactly what the model would predict next: the
// layers' attention outputs are zero, so a position's logits depend on its token alone; the
// block is a copy of the layer, eh_proj passes the normalized embedding of the next token
// through and ignores the hidden state, and every embedding has unit RMS (the norm keeps it).
// With block_attention > 0 the block's attention output is the random one times that: its
// guesses then depend on what its cache holds, and agree less.
std::shared_ptr<const Model> AgreeingModel(float block_attention = 0.0f) {
  const std::string path = test::WriteTinyMoeModel(TinyMoeSpec{.n_layers = 1, .n_dense_lead = 0, .seed = 3, .n_nextn = 1, .tokenizer = true});
  auto file = GgufFile::Open(path);
  REQUIRE(file.ok());
  const GgufFile& f = **file;
  const int64_t d = TinyMoeSpec{}.d_model;
  GgufWriter w;
  for (const GgufKeyValue& kv : f.metadata()) REQUIRE(CopyKeyValue(f, kv, w).ok());
  for (const GgufTensorInfo& t : f.tensors()) {
    const std::string name(t.name);
    std::vector<float> v = Floats(t);
    if (name.starts_with("blk.1.") && !name.starts_with("blk.1.nextn.")) {
      v = Floats(*f.FindTensor("blk.0." + name.substr(6)));
    }
    if (name.ends_with("attn_output.weight")) {
      for (float& x : v) x = name.starts_with("blk.1.") ? x * block_attention : 0.0f;
    }
    if (name == "blk.1.nextn.eh_proj.weight") {  // [2d -> d]: output o is input o
      std::fill(v.begin(), v.end(), 0.0f);
      for (int64_t o = 0; o < d; ++o) v[size_t(o * 2 * d + o)] = 1.0f;
    }
    if (name == "blk.1.nextn.enorm.weight") std::fill(v.begin(), v.end(), 1.0f);
    if (name == "blk.1.nextn.shared_head_norm.weight") v = Floats(*f.FindTensor("output_norm.weight"));
    if (name == "token_embd.weight") {
      for (size_t row = 0; row < v.size(); row += size_t(d)) {
        double sq = 0;
        for (int64_t i = 0; i < d; ++i) sq += double(v[row + size_t(i)]) * v[row + size_t(i)];
        const float scale = float(1.0 / std::sqrt(sq / double(d)));
        for (int64_t i = 0; i < d; ++i) v[row + size_t(i)] *= scale;
      }
    }
    const std::vector<uint64_t> ne(t.ne, t.ne + t.n_dims);
    REQUIRE(w.AddTensor(name, t.type, ne, {reinterpret_cast<const uint8_t*>(v.data()), t.n_bytes}).ok());
  }
  const std::string out = path + ".agreeing.gguf";
  REQUIRE(w.WriteToFile(out).ok());
  std::filesystem::remove(path);
  return LoadAndRemove(out);
}

// A random MTP block: it seldom guesses what the model chooses.
std::shared_ptr<const Model> RandomModel() { return LoadAndRemove(test::WriteTinyMoeModel(TinyMoeSpec{.n_nextn = 1, .tokenizer = true})); }

std::unique_ptr<Session> Open(std::shared_ptr<const Model> model, bool nextn, const DraftOptions& draft = {}) {
  SessionOptions o;
  o.n_ctx = 512;
  o.n_batch = 64;
  o.n_threads = 2;
  o.batch_invariant = true;  // the same bits however rows are batched: runs can be compared exactly
  auto s = Session::Create(std::move(model), o);
  REQUIRE_MESSAGE(s.ok(), s.status().ToString());
  if (nextn) REQUIRE((*s)->SetNextnDraft(draft).ok());
  return *std::move(s);
}

GenerateOptions Options(float temperature, int64_t n) {
  GenerateOptions o;
  o.max_new_tokens = n;
  o.ignore_eos = true;
  o.sampler.temperature = temperature;
  o.sampler.seed = 17;
  return o;
}

GenerateResult Run(Session& s, const std::vector<int32_t>& prompt, const GenerateOptions& o) {
  auto r = s.GenerateFromTokens(prompt, o);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return *std::move(r);
}

TEST_CASE("with the model's MTP block drafting, the output is the model's own, greedy and sampled") {
  const auto agreeing = AgreeingModel(), random = RandomModel();
  const auto prompt = test::RandomTokenIds(TinyMoeSpec{}.n_vocab, 20, 4);
  for (const auto& [model, name] : {std::pair{agreeing, std::string("agreeing block")}, std::pair{random, std::string("random block")}}) {
    for (const float temperature : {0.0f, 0.9f}) {
      CAPTURE(name);
      CAPTURE(temperature);
      const GenerateResult alone = Run(*Open(model, false), prompt, Options(temperature, 300));
      const GenerateResult drafted = Run(*Open(model, true), prompt, Options(temperature, 300));
      CHECK(drafted.tokens == alone.tokens);
      CHECK(drafted.n_drafted_tokens > 0);
      MESSAGE(name, " at temperature ", temperature, ": ", drafted.n_accepted_tokens, " of ",
              drafted.n_drafted_tokens, " guesses kept");
      if (model == agreeing && temperature == 0.0f) CHECK(drafted.acceptance_rate() > 0.9);
      if (model == random) CHECK(drafted.acceptance_rate() < 0.5);
    }
  }
}

TEST_CASE("after rejected guesses the MTP block's cache is as if it had read only the kept tokens") {
  // A block whose guesses depend on its cache and agree with the model only now and then:
  // rounds end early, and the rows of rejected guesses are overwritten. Its guesses afterwards
  // must be those of a block that read the resulting text once; with a fixed draft length they
  // decide the counts of a generation.
  const auto model = AgreeingModel(3.0f);
  const DraftOptions fixed{.max_draft_tokens = 4, .adaptive = false};
  const auto prompt = test::RandomTokenIds(TinyMoeSpec{}.n_vocab, 20, 6);
  auto rolled = Open(model, true, fixed);
  const GenerateResult first = Run(*rolled, prompt, Options(0.0f, 150));
  CHECK(first.n_accepted_tokens > 0);
  CHECK(first.n_accepted_tokens < first.n_drafted_tokens);
  const std::vector<int32_t> context(rolled->tokens().begin(), rolled->tokens().end());
  const std::string state = (std::filesystem::temp_directory_path() / "r1-nextn-draft-state.bin").string();
  REQUIRE(rolled->SaveState(state).ok());

  const GenerateResult after_rollbacks = Run(*rolled, context, Options(0.0f, 100));
  const GenerateResult read_once = Run(*Open(model, true, fixed), context, Options(0.0f, 100));
  CHECK(after_rollbacks.tokens == read_once.tokens);
  CHECK(after_rollbacks.n_drafted_tokens == read_once.n_drafted_tokens);
  CHECK(after_rollbacks.n_accepted_tokens == read_once.n_accepted_tokens);
  CHECK(read_once.n_accepted_tokens > 0);
  CHECK(read_once.n_accepted_tokens < read_once.n_drafted_tokens);

  // A new prompt that shares only the start of the context: the rows after the divergence go,
  // and the block keeps guessing from the rest.
  std::vector<int32_t> other(context.begin(), context.begin() + 60);
  const auto tail = test::RandomTokenIds(TinyMoeSpec{}.n_vocab, 30, 9);
  other.insert(other.end(), tail.begin(), tail.end());
  const GenerateResult diverged = Run(*rolled, other, Options(0.0f, 100));
  CHECK(diverged.tokens == Run(*Open(model, false), other, Options(0.0f, 100)).tokens);
  CHECK(diverged.n_accepted_tokens > 0);
  // Every round guessed 4 (fewer only as the limit nears): the first token comes from the
  // prompt, each round then yields its kept guesses and one more.
  const int64_t rounds = 99 - diverged.n_accepted_tokens;
  CHECK(diverged.n_drafted_tokens >= 4 * rounds - 6);

  // A session restored from a state file drafts from what it evaluates after the restore.
  auto restored = Open(model, true, fixed);
  REQUIRE(restored->LoadState(state).ok());
  std::filesystem::remove(state);
  const GenerateResult resumed = Run(*restored, context, Options(0.0f, 100));
  CHECK(resumed.tokens == read_once.tokens);
  CHECK(resumed.n_accepted_tokens > 0);
}

// A copy of a deepseek2 file with an MTP block appended: its last layer again, eh_proj passing
// the next token's normalized embedding through, unit norms, the model's output norm.
std::shared_ptr<const Model> WithNextnBlock(const std::string& src) {
  auto file = GgufFile::Open(src);
  REQUIRE(file.ok());
  const GgufFile& f = **file;
  const int64_t n_layers = *f.GetInt("deepseek2.block_count"), d = *f.GetInt("deepseek2.embedding_length");
  REQUIRE_FALSE(f.Has("deepseek2.nextn_predict_layers"));
  GgufWriter w;
  for (const GgufKeyValue& kv : f.metadata()) REQUIRE(CopyKeyValue(f, kv, w).ok());
  REQUIRE(w.SetUint32("deepseek2.block_count", uint32_t(n_layers + 1)).ok());
  REQUIRE(w.SetUint32("deepseek2.nextn_predict_layers", 1).ok());
  const std::string last = "blk." + std::to_string(n_layers - 1) + ".", block = "blk." + std::to_string(n_layers) + ".";
  for (const GgufTensorInfo& t : f.tensors()) {
    const std::vector<uint64_t> ne(t.ne, t.ne + t.n_dims);
    REQUIRE(w.AddTensorView(t.name, t.type, ne, {t.data, t.n_bytes}).ok());
    if (t.name.starts_with(last)) REQUIRE(w.AddTensorView(block + std::string(t.name.substr(last.size())), t.type, ne, {t.data, t.n_bytes}).ok());
  }
  std::vector<float> eh(size_t(2 * d * d), 0.0f), ones(size_t(d), 1.0f);
  for (int64_t o = 0; o < d; ++o) eh[size_t(o * 2 * d + o)] = 1.0f;
  const auto bytes = [](const std::vector<float>& v) { return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(float)); };
  REQUIRE(w.AddTensor(block + "nextn.eh_proj.weight", DType::kF32, {uint64_t(2 * d), uint64_t(d)}, bytes(eh)).ok());
  REQUIRE(w.AddTensor(block + "nextn.enorm.weight", DType::kF32, {uint64_t(d)}, bytes(ones)).ok());
  REQUIRE(w.AddTensor(block + "nextn.hnorm.weight", DType::kF32, {uint64_t(d)}, bytes(ones)).ok());
  const std::string out = (std::filesystem::temp_directory_path() /
                           ("r1-nextn-" + std::to_string(::getpid()) + "-" + std::filesystem::path(src).filename().string())).string();
  REQUIRE(w.WriteToFile(out).ok());
  return LoadAndRemove(out);
}

TEST_CASE("the deepseek2 reference models given an MTP block draft for themselves without changing a token") {
  const std::optional<std::string> shared = test::SharedDir();
  if (!shared) {
    MESSAGE("skipped: the shared test data (R1_SHARED_DIR, meson option shared_dir) is not there");
    return;
  }
  int checked = 0;
  for (const std::string& path : test::SharedModelPaths()) {
    if (path.find("/reference/deepseek2") == std::string::npos) continue;
    CAPTURE(path);
    const auto model = WithNextnBlock(path);
    REQUIRE(model->NextnDraftStatus().ok());
    const auto prompt = test::RandomTokenIds(model->config().n_vocab, 24, 8);
    for (const float temperature : {0.0f, 0.8f}) {
      const GenerateResult alone = Run(*Open(model, false), prompt, Options(temperature, 150));
      const GenerateResult drafted = Run(*Open(model, true), prompt, Options(temperature, 150));
      CHECK(drafted.tokens == alone.tokens);
      CHECK(drafted.n_drafted_tokens > 0);
      MESSAGE(std::filesystem::path(path).filename().string(), " at temperature ", temperature, ": ",
              drafted.n_accepted_tokens, " of ", drafted.n_drafted_tokens, " guesses kept");
    }
    ++checked;
  }
  CHECK(checked > 0);
}

TEST_CASE("a model without an MTP block is refused, and the session keeps decoding alone") {
  const auto model = LoadAndRemove(test::WriteTinyMoeModel(TinyMoeSpec{.tokenizer = true}));
  auto s = Open(model, false);
  const Status refused = s->SetNextnDraft();
  CHECK(refused.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(refused.message()).find("nextn") != std::string::npos);
  CHECK_FALSE(s->has_draft());
  CHECK(s->SetNextnDraft({.max_draft_tokens = 0}).code() != absl::StatusCode::kOk);
  const auto prompt = test::RandomTokenIds(TinyMoeSpec{}.n_vocab, 8, 1);
  CHECK(Run(*s, prompt, Options(0.0f, 20)).tokens == Run(*Open(model, false), prompt, Options(0.0f, 20)).tokens);

  auto with_block = Open(RandomModel(), true);
  CHECK(with_block->has_draft());
  with_block->ClearDraft();
  CHECK_FALSE(with_block->has_draft());
}

}  // namespace
}  // namespace r1
