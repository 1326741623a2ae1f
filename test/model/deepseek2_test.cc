// deepseek2 (MLA attention, mixture of experts, YaRN) on random models of many shapes: the
// absorbed attention agrees with the plain (decompressed) one, prefill agrees with decode,
// the compressed cache has its width, a token reads only its experts, states round-trip.
#include <doctest/doctest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fcntl.h>
#include <memory>
#include <string>
#include <vector>

#include "gguf/gguf_copy.h"
#include "kernels/isa.h"
#include "model/forward.h"
#include "model/nextn_block.h"
#include "model/model_impl.h"
#include "r1/session.h"
#include "reference_data.h"
#include "support/test_util.h"
#include "tiny_moe_model.h"

namespace r1 {
namespace {

using test::TinyMoeSpec;

std::shared_ptr<const Model> Load(const std::string& path) {
  auto model = Model::Load(path);
  REQUIRE_MESSAGE(model.ok(), model.status().ToString());
  return *std::move(model);
}

// Forward without a Session, so a test can pick the attention path and read the statistics.
struct Runner {
  std::shared_ptr<const Model> model;
  ThreadPool pool;
  OpContext ctx;
  KvCache kv;
  Activations acts;
  int64_t n_past = 0;

  Runner(std::shared_ptr<const Model> m, bool plain, int n_threads = 2, int64_t n_ctx = 64, int64_t n_batch = 64,
         DType cache = DType::kF32)
      : model(std::move(m)), pool(n_threads) {
    ctx.isa = DefaultIsa();
    ctx.kernels = &GetFloatKernels(ctx.isa);
    ctx.pool = &pool;
    const ModelConfig& c = model->config();
    REQUIRE(InitKvCache(model->impl(), n_ctx, cache, ctx.isa, kv).ok());
    acts.Init(model->impl(), n_batch, n_ctx, n_threads, cache);
    if (plain) acts.EnablePlainMla(c, n_ctx, n_threads);
  }

  // All rows' logits of `ids`, evaluated in one batch.
  std::vector<float> Batch(const std::vector<int32_t>& ids) {
    REQUIRE(Forward(model->impl(), ids.data(), int64_t(ids.size()), n_past, LogitRows::kAll, kv, acts, ctx).ok());
    n_past += int64_t(ids.size());
    const size_t n = ids.size() * size_t(model->config().n_vocab);
    return {acts.logits.begin(), acts.logits.begin() + long(n)};
  }
  // The same, one token per Forward call.
  std::vector<float> Stepwise(const std::vector<int32_t>& ids) {
    std::vector<float> out;
    for (int32_t id : ids) {
      const auto row = Batch({id});
      out.insert(out.end(), row.begin(), row.end());
    }
    return out;
  }
};

double MaxDiff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  return test::MaxAbsDiff(a.data(), b.data(), a.size());
}

void CheckShape(const TinyMoeSpec& spec, double bound) {
  const std::string path = test::WriteTinyMoeModel(spec);
  const auto model = Load(path);
  const auto prompt = test::RandomTokenIds(spec.n_vocab, 19, spec.seed);

  Runner plain(model, true);
  const auto want = plain.Batch(prompt);
  Runner absorbed(model, false);
  const auto got = absorbed.Batch(prompt);
  CHECK(MaxDiff(got, want) <= bound);
  if (spec.matrix_type == DType::kF32) {
    // An independent double-precision forward pass over the file's tensors.
    const double ref_diff = MaxDiff(got, test::ReferenceMoeForward(path, prompt));
    MESSAGE("independent reference: max |diff| ", ref_diff);
    CHECK(ref_diff <= bound);
  }

  Runner plain_steps(model, true, 1);
  CHECK(MaxDiff(plain_steps.Stepwise(prompt), want) <= bound);
  Runner absorbed_steps(model, false, 1);
  const auto steps = absorbed_steps.Stepwise(prompt);
  CHECK(MaxDiff(steps, got) <= bound);

  // The f16 cache (tiled attention over the latent rows, split over the threads in decode)
  // against the f32 cache, batched and token by token: within the f16 cache's rounding.
  const double f16_bound = std::max(bound, 5e-3);
  Runner flash(model, false, 2, 64, 64, DType::kF16);
  CHECK(MaxDiff(flash.Batch(prompt), got) <= f16_bound);
  Runner flash_steps(model, false, 2, 64, 64, DType::kF16);
  CHECK(MaxDiff(flash_steps.Stepwise(prompt), got) <= f16_bound);

  // Split prefill: two batches, the second attending to the first's cache.
  Runner split(model, false);
  const std::vector<int32_t> head(prompt.begin(), prompt.begin() + 7), tail(prompt.begin() + 7, prompt.end());
  auto rows = split.Batch(head);
  const auto rest = split.Batch(tail);
  rows.insert(rows.end(), rest.begin(), rest.end());
  CHECK(MaxDiff(rows, got) <= bound);

  // The same weights stored as one attn_kv_b (older files) give the same logits.
  if (spec.matrix_type == DType::kF32 && !spec.legacy_kv_b) {
    TinyMoeSpec legacy = spec;
    legacy.legacy_kv_b = true;
    const std::string legacy_path = test::WriteTinyMoeModel(legacy);
    Runner old_file(Load(legacy_path), false);
    CHECK(MaxDiff(old_file.Batch(prompt), got) <= bound);
    std::filesystem::remove(legacy_path);
  }
  std::filesystem::remove(path);
}

TEST_CASE("deepseek2: absorbed and plain MLA, prefill and decode agree on many shapes") {
  SUBCASE("low-rank query, sigmoid gates with bias, expert groups, YaRN, one shared expert") {
    CheckShape(TinyMoeSpec{.n_groups = 4, .n_groups_used = 2, .seed = 1}, 1e-4);
  }
  SUBCASE("plain query, softmax gates, no groups, no rope scaling, two shared experts, no dense lead") {
    CheckShape(TinyMoeSpec{.n_dense_lead = 0, .q_lora_rank = 0, .n_shared = 2, .gating = 1, .weights_norm = false,
                           .weights_scale = 1.0f, .probs_bias = false, .yarn_factor = 0, .seed = 2},
               1e-4);
  }
  SUBCASE("many experts, softmax over the selected, no shared expert, wide latent, odd heads") {
    CheckShape(TinyMoeSpec{.n_heads = 3, .kv_lora_rank = 96, .qk_nope = 32, .n_rot = 32, .v_head = 64,
                           .n_experts = 32, .n_experts_used = 6, .n_shared = 0, .gating = 3, .yarn_log_mul = 0.0f,
                           .seed = 3},
               1e-4);
  }
  SUBCASE("quantized weights (Q8_0)") {
    // The two paths round different activations to 8-bit blocks (the query side vs the
    // latents), so they differ by quantization noise: the Q8_0 reference bound.
    CheckShape(TinyMoeSpec{.matrix_type = DType::kQ8_0, .seed = 4}, 0.05);
  }
}

TEST_CASE("deepseek2: trailing MTP (nextn) blocks are counted apart and never run as layers") {
  const TinyMoeSpec spec{.n_nextn = 1};
  const std::string path = test::WriteTinyMoeModel(spec);
  const auto model = Load(path);
  CHECK(model->config().n_layers == spec.n_layers);
  CHECK(model->config().n_nextn_layers == 1);
  const auto prompt = test::RandomTokenIds(spec.n_vocab, 11, 3);
  Runner absorbed(model, false);
  CHECK(MaxDiff(absorbed.Batch(prompt), test::ReferenceMoeForward(path, prompt)) <= 1e-4);
}

TEST_CASE("deepseek2: the MTP (nextn) block's guesses are its definition's, a row at a time and many at once") {
  for (const TinyMoeSpec& spec : {TinyMoeSpec{.n_nextn = 1}, TinyMoeSpec{.q_lora_rank = 0, .seed = 7, .n_nextn = 1}}) {
    CAPTURE(spec.q_lora_rank);
    const std::string path = test::WriteTinyMoeModel(spec);
    const auto model = Load(path);
    REQUIRE(model->NextnDraftStatus().ok());
    const auto prompt = test::RandomTokenIds(spec.n_vocab, 13, 5);
    const int64_t rows = int64_t(prompt.size()) - 1, d = spec.d_model, V = spec.n_vocab;
    const std::vector<float> want = test::ReferenceNextnForward(path, prompt);  // [rows][V]
    Runner target(model, false);
    (void)target.Batch(prompt);
    const std::vector<float> hidden = target.acts.x;  // the last hidden states [prompt, d]
    auto block = NextnBlock::Create(model->impl(), 64, 16, DType::kF32, target.ctx.isa, 2);
    REQUIRE_MESSAGE(block.ok(), block.status().ToString());
    const auto guess_of = [&](int64_t row) {
      return std::vector<float>(want.begin() + row * V, want.begin() + (row + 1) * V);
    };
    const auto logits = [&] { return std::vector<float>((*block)->logits().begin(), (*block)->logits().end()); };
    for (int64_t i = 0; i < rows; ++i) {  // as decoding feeds it: one row a pass
      (*block)->Run({hidden.data() + i * d, &prompt[size_t(i) + 1], 1, i, i}, true, target.ctx);
      CHECK(MaxDiff(logits(), guess_of(i)) <= 1e-4);
    }
    // As a prompt feeds it: every row in one pass, the cache rewritten from its start.
    (*block)->Run({hidden.data(), &prompt[1], rows, 0, 0}, true, target.ctx);
    CHECK(MaxDiff(logits(), guess_of(rows - 1)) <= 1e-4);
    // A chained row reads the previous row's output as its hidden state.
    const std::vector<float> out(static_cast<const float*>((*block)->output(rows - 1)),
                                 (*block)->output(rows - 1) + d);
    (*block)->Run({(*block)->output(rows - 1), &prompt[0], 1, rows, rows}, true, target.ctx);
    const std::vector<float> chained = logits();
    (*block)->Run({out.data(), &prompt[0], 1, rows, rows}, true, target.ctx);
    CHECK(MaxDiff(logits(), chained) == 0.0);
    std::filesystem::remove(path);
  }
}

TEST_CASE("deepseek2: a missing or broken MTP block is reported, and the model runs without it") {
  const std::string plain = test::WriteTinyMoeModel(TinyMoeSpec{});
  CHECK(Load(plain)->NextnDraftStatus().code() == absl::StatusCode::kFailedPrecondition);
  std::filesystem::remove(plain);

  // The block's hnorm dropped from a file that declares the block.
  const std::string whole = test::WriteTinyMoeModel(TinyMoeSpec{.n_nextn = 1});
  auto file = GgufFile::Open(whole);
  REQUIRE(file.ok());
  GgufWriter w;
  for (const GgufKeyValue& kv : (*file)->metadata()) REQUIRE(CopyKeyValue(**file, kv, w).ok());
  for (const GgufTensorInfo& t : (*file)->tensors()) {
    if (t.name == "blk.3.nextn.hnorm.weight") continue;
    REQUIRE(w.AddTensor(t.name, t.type, std::vector<uint64_t>(t.ne, t.ne + t.n_dims), {t.data, t.n_bytes}).ok());
  }
  const std::string broken = whole + ".broken.gguf";
  REQUIRE(w.WriteToFile(broken).ok());
  const auto model = Load(broken);
  const Status usable = model->NextnDraftStatus();
  CHECK(usable.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(usable.message()).find("blk.3.nextn.hnorm.weight") != std::string::npos);
  const auto prompt = test::RandomTokenIds(61, 9, 2);
  Runner runs(model, false);
  CHECK(MaxDiff(runs.Batch(prompt), test::ReferenceMoeForward(whole, prompt)) <= 1e-4);
  std::filesystem::remove(whole);
  std::filesystem::remove(broken);
}

TEST_CASE("deepseek2: the KV cache holds kv_lora_rank + rope dims per token per layer") {
  const TinyMoeSpec spec{.kv_lora_rank = 64, .n_rot = 16};
  const std::string path = test::WriteTinyMoeModel(spec);
  const auto model = Load(path);
  const ModelConfig& c = model->config();
  KvCache kv;
  REQUIRE(InitKvCache(model->impl(), 100, DType::kF32, Isa::kScalar, kv).ok());
  CHECK(kv.n_k_dim() == 64 + 16);
  CHECK(kv.n_v_dim() == 0);
  CHECK(kv.reserved_bytes() == uint64_t(spec.n_layers) * 100 * (64 + 16) * sizeof(float));
  KvCache kv16;
  REQUIRE(InitKvCache(model->impl(), 100, DType::kF16, Isa::kScalar, kv16).ok());
  CHECK(kv16.bytes_per_position() == uint64_t(spec.n_layers) * (64 + 16) * 2);
  // A dense cache of the same heads would hold n_heads * (k + v) per token and layer.
  CHECK(kv.n_k_dim() < c.n_heads * (c.head_dim + c.v_head_dim));

  // The cached row of a position is [rms_norm(latent), rotated k_pe]: after one token, the
  // latent part of every layer's row has unit RMS times the norm weights (non-zero), and
  // nothing is written past the rows of the positions seen.
  Runner r(model, false, 1, 100);
  r.Batch({5, 6, 7});
  for (int64_t l = 0; l < c.n_layers; ++l) {
    const float* rows = reinterpret_cast<const float*>(r.kv.KeyRow(l, 0));
    double filled = 0, beyond = 0;
    for (int64_t i = 0; i < 3 * kv.n_k_dim(); ++i) filled += std::abs(rows[i]);
    for (int64_t i = 3 * kv.n_k_dim(); i < 100 * kv.n_k_dim(); ++i) beyond += std::abs(rows[i]);
    CHECK(filled > 0);
    CHECK(beyond == 0);
  }
  std::filesystem::remove(path);
}

TEST_CASE("deepseek2: a token reads only its selected experts' weights") {
  const TinyMoeSpec spec{.d_model = 256, .n_layers = 3, .n_dense_lead = 1, .d_ff_expert = 256, .n_experts = 64,
                         .n_experts_used = 2, .n_shared = 1, .matrix_type = DType::kQ8_0};
  const std::string path = test::WriteTinyMoeModel(spec);
  const auto model = Load(path);
  const LayerWeights& L = model->impl().weights->layers[1];
  const uint64_t expert_bytes = L.experts.gate.expert_bytes + L.experts.up.expert_bytes + L.experts.down.expert_bytes;
  const uint64_t all_experts = expert_bytes * uint64_t(spec.n_experts) * uint64_t(spec.n_layers - spec.n_dense_lead);

  Runner r(model, false, 2);
  const auto prompt = test::RandomTokenIds(spec.n_vocab, 8, 9);
  r.Batch({prompt[0]});  // warm up; then count one decode step
  r.acts.expert_stats = {};
  r.Batch({prompt[1]});
  const ExpertReadStats& s = r.acts.expert_stats;
  const uint64_t n_moe = uint64_t(spec.n_layers - spec.n_dense_lead);
  CHECK(s.matrices == 3 * n_moe * uint64_t(spec.n_experts_used));
  CHECK(s.bytes == n_moe * uint64_t(spec.n_experts_used) * expert_bytes);
  CHECK(s.rows == n_moe * uint64_t(spec.n_experts_used) * uint64_t(2 * spec.d_ff_expert + spec.d_model));
  CHECK(s.bytes * 16 < all_experts);
  MESSAGE("one decode step read ", s.bytes, " of ", all_experts, " expert bytes (", s.pages, " pages of 4 KiB)");

  // A batch reads each selected expert once, however many of its tokens chose it.
  r.acts.expert_stats = {};
  r.Batch(std::vector<int32_t>(prompt.begin() + 2, prompt.end()));
  CHECK(r.acts.expert_stats.matrices <= 3 * n_moe * uint64_t(std::min<int64_t>(spec.n_experts, 6 * spec.n_experts_used)));
  std::filesystem::remove(path);
}

// Pages of [begin, begin + length) in the page cache (mincore), or -1.
long CachedPages(uintptr_t begin, size_t length, long page) {
  std::vector<unsigned char> vec((length + size_t(page) - 1) / size_t(page));
  if (mincore(reinterpret_cast<void*>(begin), length, vec.data()) != 0) return -1;
  long n = 0;
  for (unsigned char v : vec) n += v & 1;
  return n;
}

// Evicts the model's file from this process and the page cache, with read-ahead off, runs one
// decode step of `token` and returns the file pages it brought in; -1 when eviction is not
// possible here.
long PagesOfOneStep(Runner& r, const std::string& path, int32_t token) {
  const absl::Span<const uint8_t> file = r.model->impl().files.maps[0]->bytes();
  const long page = sysconf(_SC_PAGESIZE);
  const uintptr_t base = reinterpret_cast<uintptr_t>(file.data()) & ~uintptr_t(page - 1);
  const size_t length = reinterpret_cast<uintptr_t>(file.data()) + file.size() - base;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return -1;
  const bool ok = madvise(reinterpret_cast<void*>(base), length, MADV_DONTNEED) == 0 &&
                  madvise(reinterpret_cast<void*>(base), length, MADV_RANDOM) == 0 &&
                  fsync(fileno(f)) == 0 && posix_fadvise(fileno(f), 0, 0, POSIX_FADV_DONTNEED) == 0;
  std::fclose(f);
  if (!ok || CachedPages(base, length, page) != 0) return -1;
  r.Batch({token});
  return CachedPages(base, length, page);
}

uint64_t ExpertBytes(const Model& model) {
  const ModelConfig& c = model.config();
  uint64_t n = 0;
  for (int64_t l = c.n_dense_lead; l < c.n_layers; ++l) {
    const LayerWeights& L = model.impl().weights->layers[size_t(l)];
    n += (L.experts.gate.expert_bytes + L.experts.up.expert_bytes + L.experts.down.expert_bytes) * uint64_t(c.n_experts);
  }
  return n;
}

TEST_CASE("deepseek2: a decode step brings in only its experts' pages of the file") {
  const TinyMoeSpec spec{.d_model = 256, .n_layers = 3, .n_dense_lead = 1, .d_ff_expert = 256, .n_experts = 64,
                         .n_experts_used = 2, .n_shared = 1, .matrix_type = DType::kQ8_0, .seed = 6};
  const std::string path = test::WriteTinyMoeModel(spec);
  const auto model = Load(path);
  const uint64_t file_bytes = model->impl().files.maps[0]->bytes().size();
  const uint64_t page = uint64_t(sysconf(_SC_PAGESIZE));
  Runner r(model, false, 1);
  r.Batch({3});
  r.acts.expert_stats = {};
  const long touched = PagesOfOneStep(r, path, 4);
  if (touched < 0) {
    MESSAGE("cannot evict the file from the page cache here: skipped");
    std::filesystem::remove(path);
    return;
  }
  const uint64_t non_expert = file_bytes - ExpertBytes(*model);
  MESSAGE("one decode step brought in ", touched, " of ", file_bytes / page, " pages; its experts span ",
          r.acts.expert_stats.pages, " pages, the non-expert data ", non_expert / page, " pages");
  CHECK(touched > 0);
  // Everything but the routed experts may be read; of the experts only the selected ones.
  CHECK(uint64_t(touched) <= non_expert / page + r.acts.expert_stats.pages + 8);
  std::filesystem::remove(path);
}

TEST_CASE("deepseek2: expert bytes and pages read per decoded token of the reference models") {
  const auto shared = test::SharedDir();
  if (!shared) {
    MESSAGE("no shared folder: skipped");
    return;
  }
  for (const char* type : {"F32", "F16", "Q8_0", "Q4_K_M"}) {
    const std::string path = *shared + "/reference/deepseek2-dev." + type + ".gguf";
    if (!std::filesystem::exists(path)) continue;
    const auto model = Load(path);
    const ModelConfig& c = model->config();
    uint64_t all_experts = 0;
    for (int64_t l = c.n_dense_lead; l < c.n_layers; ++l) {
      const LayerWeights& L = model->impl().weights->layers[size_t(l)];
      all_experts += (L.experts.gate.expert_bytes + L.experts.up.expert_bytes + L.experts.down.expert_bytes) * uint64_t(c.n_experts);
    }
    Runner r(model, false, 2, 128);
    const auto prompt = test::RandomTokenIds(c.n_vocab - 6, 33, 11);
    r.Batch({prompt[0]});
    r.acts.expert_stats = {};
    for (size_t i = 1; i < prompt.size(); ++i) r.Batch({prompt[i]});
    const double n = double(prompt.size() - 1);
    const ExpertReadStats& s = r.acts.expert_stats;
    CHECK(s.matrices == uint64_t(n) * 3 * uint64_t(c.n_experts_used * (c.n_layers - c.n_dense_lead)));
    MESSAGE("deepseek2-dev.", std::string(type), ": per decoded token ", double(s.bytes) / n, " expert bytes of ", all_experts,
            " in the file, ", double(s.pages) / n, " pages of 4 KiB");
    const long touched = PagesOfOneStep(r, path, prompt[1]);
    if (touched >= 0) {
      MESSAGE("deepseek2-dev.", std::string(type), ": one decode step from an evicted file brought in ", touched, " of ",
              model->impl().files.maps[0]->bytes().size() / 4096, " pages");
    }
  }
}

TEST_CASE("deepseek2: saved session states restore the compressed cache") {
  const std::string path = test::WriteTinyMoeModel(TinyMoeSpec{.seed = 5});
  const auto model = Load(path);
  SessionOptions o;
  o.n_ctx = 64;
  o.n_threads = 2;
  auto a = Session::Create(model, o);
  auto b = Session::Create(model, o);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  const auto prompt = test::RandomTokenIds(61, 12, 7);
  REQUIRE((*a)->Evaluate(prompt).ok());
  const std::string state = path + ".state";
  REQUIRE((*a)->SaveState(state).ok());
  REQUIRE((*b)->LoadState(state).ok());
  CHECK((*b)->n_past() == 12);
  const int32_t next = 3;
  REQUIRE((*a)->Evaluate({&next, 1}).ok());
  REQUIRE((*b)->Evaluate({&next, 1}).ok());
  CHECK(test::MaxAbsDiff((*a)->Logits().data(), (*b)->Logits().data(), 61) == 0.0);
  std::filesystem::remove(state);
  std::filesystem::remove(path);
}

TEST_CASE("deepseek2: inconsistent metadata is an error, never a crash") {
  const auto load_error = [](const TinyMoeSpec& spec) {
    const std::string path = test::WriteTinyMoeModel(spec);
    auto model = Model::Load(path);
    std::filesystem::remove(path);
    REQUIRE_FALSE(model.ok());
    return std::string(model.status().message());
  };
  CHECK(load_error(TinyMoeSpec{.n_experts_used = 9}).find("expert_used_count") != std::string::npos);
  CHECK(load_error(TinyMoeSpec{.n_experts_used = 0}).find("expert_used_count") != std::string::npos);
  CHECK(load_error(TinyMoeSpec{.n_groups = 3, .n_groups_used = 1}).find("groups") != std::string::npos);
  CHECK(load_error(TinyMoeSpec{.n_groups = 4, .n_groups_used = 5}).find("expert_group_used_count") !=
        std::string::npos);
  CHECK(load_error(TinyMoeSpec{.n_experts_used = 6, .n_groups = 4, .n_groups_used = 1}).find("groups") !=
        std::string::npos);
  CHECK(load_error(TinyMoeSpec{.gating = 7}).find("expert_gating_func") != std::string::npos);
}

}  // namespace
}  // namespace r1
