// The attention engines: FlashAttention over f32, f16 and q8_0 rows against ExactAttention over
// the same rows in f32 (so only the order of arithmetic differs), and ExactAttention against
// r1/ops/reference.h — at cache lengths 1, 7, 33 and 4,099, GQA groups 1, 6, 8 and 40 (more
// heads than one tile holds), MLA's values-inside-keys rows, and 1 to 3 threads (decode shares
// a cache's chunks among the threads when there are few tiles); and a prompt's rows against
// decode steps at the same positions, bit for bit.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/attention.h"
#include "quant/quant_kernels.h"
#include "r1/ops/reference.h"
#include "op_context_for_test.h"
#include "support/test_util.h"

namespace r1 {
namespace {

using test::Context;

// n rows of `width` random values stored as `type`, and the f32 values the rows hold.
struct Rows {
  std::vector<uint8_t> bytes;
  std::vector<float> dense;
  uint64_t row_bytes = 0;
  KvRows view(DType type) const { return {bytes.data(), type, row_bytes}; }
  KvRows dense_view(int64_t width) const {
    return {reinterpret_cast<const uint8_t*>(dense.data()), DType::kF32, uint64_t(width) * sizeof(float)};
  }
};

Rows MakeRows(DType type, int64_t n, int64_t width, uint64_t seed) {
  const QuantKernels* k = GetQuantKernels(Isa::kScalar, type);
  const auto values = test::RandomFloats(size_t(n * width), seed, -2.0f, 2.0f);
  Rows r;
  r.row_bytes = *RowBytes(type, uint64_t(width));
  r.bytes.resize(size_t(n) * r.row_bytes);
  r.dense.resize(values.size());
  for (int64_t i = 0; i < n; ++i) {
    k->from_float(values.data() + i * width, r.bytes.data() + uint64_t(i) * r.row_bytes, width);
    k->to_float(r.bytes.data() + uint64_t(i) * r.row_bytes, r.dense.data() + i * width, width);
  }
  return r;
}

double MaxDiff(const std::vector<float>& a, const std::vector<float>& b) {
  double worst = 0.0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(double(a[i]) - double(b[i])));
  return worst;
}

struct Case {
  int64_t n_heads, n_kv_heads, k_dim, v_dim;
  bool v_in_k;  // MLA: one KV head whose values are the first v_dim values of each key row
};

// FlashAttention on typed rows == ExactAttention on their f32 values, for every ISA and
// thread count.
void CheckFlash(const Case& c, DType type, int64_t pos0, int64_t n_tokens) {
  const int64_t n_kv = pos0 + n_tokens;
  const int64_t k_width = c.n_kv_heads * c.k_dim, v_width = c.n_kv_heads * c.v_dim;
  const Rows k = MakeRows(type, n_kv, k_width, uint64_t(n_kv * 3 + c.n_heads));
  const Rows v = c.v_in_k ? Rows{} : MakeRows(type, n_kv, v_width, uint64_t(n_kv * 5 + c.k_dim));
  const auto q = test::RandomFloats(size_t(n_tokens * c.n_heads * c.k_dim), uint64_t(pos0 + 11), -2.0f, 2.0f);
  AttentionShape shape{c.n_heads, c.n_kv_heads, c.k_dim, c.v_dim, c.n_heads * c.k_dim, c.n_heads * c.v_dim,
                             1.0f / std::sqrt(float(c.k_dim)), c.v_in_k};
  const KvRows k_rows = k.view(type), v_rows = c.v_in_k ? k_rows : v.view(type);
  const KvRows k_dense = k.dense_view(k_width), v_dense = c.v_in_k ? k_dense : v.dense_view(v_width);

  std::vector<float> want(size_t(n_tokens * c.n_heads * c.v_dim));
  {
    Context ctx(Isa::kScalar, 1);
    AttentionScratch scratch;
    scratch.Reserve(1, false, c.k_dim, c.v_dim, n_kv);
    ExactAttention(q.data(), k_dense, v_dense, want.data(), n_tokens, pos0, n_kv, shape, scratch, ctx.ctx);
  }
  for (Isa isa : SupportedIsas()) {
    std::vector<float> one_thread;
    for (int n_threads : {1, 2, 3}) {
      INFO(IsaName(isa), " ", DTypeName(type), " heads ", c.n_heads, "/", c.n_kv_heads, " dims ", c.k_dim, "/",
           c.v_dim, " pos0 ", pos0, " tokens ", n_tokens, " threads ", n_threads);
      Context ctx(isa, n_threads);
      AttentionScratch scratch;
      scratch.Reserve(n_threads, true, c.k_dim, c.v_dim, 0);
      std::vector<float> got(want.size(), -9.0f);
      FlashAttention(q.data(), k_rows, v_rows, got.data(), n_tokens, pos0, n_kv, shape, scratch, ctx.ctx);
      CHECK(MaxDiff(got, want) < 2e-5);
      // How a cache is split does not depend on the threads: the same bits with any number.
      if (n_threads == 1) one_thread = got;
      CHECK(got == one_thread);
    }
    // Nor on the batch: each token's rows are what a decode step at its position computes.
    Context ctx(isa, 2);
    AttentionScratch scratch;
    scratch.Reserve(2, true, c.k_dim, c.v_dim, 0);
    const int64_t q_row = c.n_heads * c.k_dim, out_row = c.n_heads * c.v_dim;
    for (int64_t t = 0; t < n_tokens && n_tokens > 1; ++t) {
      INFO(IsaName(isa), " ", DTypeName(type), " heads ", c.n_heads, "/", c.n_kv_heads, " pos0 ", pos0, " token ", t);
      std::vector<float> step(static_cast<size_t>(out_row));
      FlashAttention(q.data() + t * q_row, k_rows, v_rows, step.data(), 1, pos0 + t, pos0 + t + 1, shape, scratch,
                     ctx.ctx);
      CHECK(std::equal(step.begin(), step.end(), one_thread.begin() + t * out_row));
    }
  }
}

TEST_CASE("FlashAttention equals exact attention over the same rows") {
  const Case cases[] = {
      {2, 2, 32, 32, false},    // group 1
      {12, 2, 64, 64, false},   // group 6 (R1-Distill-Qwen-1.5B's)
      {8, 1, 128, 128, false},  // group 8
      {40, 1, 32, 32, false},   // a group wider than one tile of rows
      {5, 1, 96, 64, true},     // MLA: values are the leading part of the key rows
      {8, 4, 8, 8, false},      // heads narrower than a SIMD register (the 260K stories models')
      {6, 3, 40, 24, false},    // head sizes that leave a tail after whole registers
  };
  for (const Case& c : cases) {
    for (DType type : {DType::kF32, DType::kF16, DType::kQ8_0}) {
      // A Q8_0 cache holds whole blocks of 32 per head (sessions refuse other head sizes).
      if (type == DType::kQ8_0 && (c.k_dim % 32 != 0 || c.v_dim % 32 != 0)) continue;
      // Decode at cache lengths 1, 7, 33 and 4,099; prompts from empty and from deep caches.
      for (const auto& [pos0, n_tokens] : {std::pair<int64_t, int64_t>{0, 1}, {6, 1}, {32, 1}, {4098, 1}, {0, 7},
                                           {0, 33}, {3, 7}, {4066, 33}}) {
        CheckFlash(c, type, pos0, n_tokens);
      }
    }
  }
}

TEST_CASE("ExactAttention matches the reference over a cache, with grouped heads") {
  for (Isa isa : SupportedIsas()) {
    for (const auto& [n_heads, n_kv_heads, head_dim] :
         {std::tuple<int64_t, int64_t, int64_t>{4, 2, 16}, {3, 1, 7}, {8, 8, 128}, {6, 2, 64}}) {
      for (const auto& [pos0, n_tokens] : {std::pair<int64_t, int64_t>{0, 1}, {0, 9}, {5, 1}, {11, 6}}) {
        INFO(IsaName(isa), " heads ", n_heads, "/", n_kv_heads, " dim ", head_dim, " pos0 ", pos0, " n ", n_tokens);
        const int64_t n_kv = pos0 + n_tokens, q_dim = n_heads * head_dim, kv_dim = n_kv_heads * head_dim;
        const auto q = test::RandomFloats(size_t(n_tokens * q_dim), 1, -2.0f, 2.0f);
        const auto k = test::RandomFloats(size_t(n_kv * kv_dim), 2, -2.0f, 2.0f);
        const auto v = test::RandomFloats(size_t(n_kv * kv_dim), 3);
        const float scale = 1.0f / std::sqrt(float(head_dim));
        std::vector<float> want(size_t(n_tokens * q_dim)), got(want.size());
        ref::Attention(q.data(), k.data(), v.data(), want.data(), size_t(n_tokens), size_t(pos0), size_t(n_kv),
                       size_t(n_heads), size_t(n_kv_heads), size_t(head_dim), scale);
        Context c(isa, 2);
        AttentionScratch scratch;
        scratch.Reserve(2, false, head_dim, head_dim, 64);
        const auto rows = [&](const std::vector<float>& x) {
          return KvRows{reinterpret_cast<const uint8_t*>(x.data()), DType::kF32, uint64_t(kv_dim) * sizeof(float)};
        };
        const AttentionShape shape{n_heads, n_kv_heads, head_dim, head_dim, q_dim, q_dim, scale};
        Attention(q.data(), rows(k), rows(v), got.data(), n_tokens, pos0, n_kv, shape, scratch, c.ctx);
        CHECK(MaxDiff(got, want) < 1e-5);
      }
    }
  }
}

}  // namespace
}  // namespace r1
