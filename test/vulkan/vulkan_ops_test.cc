// The Vulkan f32 layer operators against their scalar references (r1/ops/reference.h) on
// random inputs of awkward sizes, on whatever Vulkan device the machine has.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "r1/ops/reference.h"
#include "support/test_util.h"
#include "vulkan/vulkan_ops.h"
#include "vulkan_test_util.h"

namespace r1::vk {
namespace {

[[maybe_unused]] const bool kHaveDevice = vulkan_test::RequireDeviceOrSkip();
using vulkan_test::BufferOf;
using vulkan_test::Read;

// Counts the values of got farther from want than tolerance · (1 + |want|), and shows the first.
int64_t CountFar(const std::vector<float>& got, const std::vector<float>& want, float tolerance) {
  REQUIRE(got.size() == want.size());
  int64_t far = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!(std::fabs(got[i] - want[i]) <= tolerance * (1.0f + std::fabs(want[i])))) {
      if (far++ == 0) MESSAGE("element " << i << ": " << got[i] << " vs " << want[i]);
    }
  }
  return far;
}

struct Fixture {
  std::unique_ptr<Device> device = vulkan_test::OpenDevice();
  std::unique_ptr<FloatOps> ops = [this] {
    auto created = FloatOps::Create(*device);
    REQUIRE_MESSAGE(created.ok(), created.status().ToString());
    return *std::move(created);
  }();
};

TEST_CASE_FIXTURE(Fixture, "Vulkan RmsNorm matches the reference") {
  for (const auto& [n_rows, n] : {std::pair<int64_t, int64_t>{1, 1}, {3, 63}, {7, 1536}, {2, 4097}}) {
    CAPTURE(n_rows);
    CAPTURE(n);
    const auto x = test::RandomFloats(static_cast<size_t>(n_rows * n), 1, -3.0f, 3.0f);
    const auto w = test::RandomFloats(static_cast<size_t>(n), 2);
    std::vector<float> want(x.size());
    for (int64_t r = 0; r < n_rows; ++r) ref::RmsNorm(&x[r * n], w.data(), 1e-6f, &want[r * n], static_cast<size_t>(n));
    auto bx = BufferOf(*device, x), bw = BufferOf(*device, w), out = BufferOf(*device, std::vector<float>(x.size()));
    REQUIRE(ops->RmsNorm(*bx, *bw, 1e-6f, *out, n_rows, n).ok());
    CHECK(CountFar(Read(*out, x.size()), want, 1e-5f) == 0);
  }
}

TEST_CASE_FIXTURE(Fixture, "Vulkan Add, weighted Add and SiluMul match the reference") {
  // The last size needs more than one grid row of workgroups.
  for (const int64_t n : {int64_t{1}, int64_t{63}, int64_t{65}, int64_t{100003}, int64_t{64} * 65535 + 5}) {
    CAPTURE(n);
    const auto a = test::RandomFloats(static_cast<size_t>(n), 3, -8.0f, 8.0f);
    const auto b = test::RandomFloats(static_cast<size_t>(n), 4, -2.0f, 2.0f);
    std::vector<float> sum(a.size()), gated(a.size());
    ref::Add(a.data(), b.data(), sum.data(), a.size());
    ref::SiluMul(a.data(), b.data(), gated.data(), a.size());
    auto ba = BufferOf(*device, a), bb = BufferOf(*device, b), out = BufferOf(*device, std::vector<float>(a.size()));
    REQUIRE(ops->Add(*ba, *bb, *out, n).ok());
    CHECK(CountFar(Read(*out, a.size()), sum, 1e-6f) == 0);
    REQUIRE(ops->SiluMul(*ba, *bb, *out, n).ok());
    CHECK(CountFar(Read(*out, a.size()), gated, 1e-5f) == 0);
    // A weighted add (one expert's share): out = a + 0.37 · b.
    std::vector<float> weighted = a;
    ref::Axpy(0.37f, b.data(), weighted.data(), a.size());
    REQUIRE(ops->Add(*ba, *bb, *out, n, 0.37f).ok());
    CHECK(CountFar(Read(*out, a.size()), weighted, 1e-6f) == 0);
    // A bias added to every row: b's first `period` values repeat.
    for (const int64_t period : {int64_t{1}, int64_t{7}, n}) {
      if (n % period != 0) continue;
      CAPTURE(period);
      std::vector<float> biased(a.size());
      for (int64_t i = 0; i < n; ++i) biased[size_t(i)] = a[size_t(i)] + b[size_t(i % period)];
      REQUIRE(ops->Add(*ba, *bb, *out, n, 1.0f, period).ok());
      CHECK(CountFar(Read(*out, a.size()), biased, 1e-6f) == 0);
    }
  }
}

TEST_CASE_FIXTURE(Fixture, "Vulkan Rope matches the reference, whole and partial heads, both orderings") {
  // offset: the rotated part starts inside the head (deepseek2's q_pe after q_nope).
  struct Case {
    int64_t n_rows, n_heads, head_dim, n_rot, offset;
  };
  for (const Case c : {Case{1, 1, 2, 2, 0}, Case{5, 3, 64, 64, 0}, Case{2, 12, 128, 128, 0}, Case{3, 7, 96, 32, 0},
                       Case{2, 5, 192, 64, 128}, Case{1, 1, 576, 64, 512}, Case{3, 4, 40, 6, 17}}) {
    for (const bool neox : {true, false}) {
      CAPTURE(c.n_heads);
      CAPTURE(c.head_dim);
      CAPTURE(c.n_rot);
      CAPTURE(c.offset);
      CAPTURE(neox);
      const auto x = test::RandomFloats(static_cast<size_t>(c.n_rows * c.n_heads * c.head_dim), 5);
      std::vector<float> cos_sin(static_cast<size_t>(c.n_rows * c.n_rot));
      const auto angles = test::RandomFloats(cos_sin.size() / 2, 6, -3.2f, 3.2f);
      for (size_t i = 0; i < angles.size(); ++i) {
        cos_sin[2 * i] = std::cos(angles[i]);
        cos_sin[2 * i + 1] = std::sin(angles[i]);
      }
      std::vector<float> want = x;
      for (int64_t r = 0; r < c.n_rows; ++r) {
        for (int64_t h = 0; h < c.n_heads; ++h) {
          ref::Rope(&want[(r * c.n_heads + h) * c.head_dim + c.offset], &cos_sin[r * c.n_rot],
                    static_cast<size_t>(c.n_rot), neox);
        }
      }
      auto bx = BufferOf(*device, x), bcs = BufferOf(*device, cos_sin);
      REQUIRE(ops->Rope(*bx, *bcs, c.n_rows, c.n_heads, c.head_dim, c.n_rot, neox, c.offset).ok());
      CHECK(CountFar(Read(*bx, x.size()), want, 1e-6f) == 0);
    }
  }
}

TEST_CASE_FIXTURE(Fixture, "Vulkan Attention matches the reference: causal, grouped-query heads") {
  for (const FloatOps::AttentionShape& s :
       {FloatOps::AttentionShape{1, 0, 1, 1, 1, 64, 0.125f}, FloatOps::AttentionShape{1, 200, 201, 12, 2, 128, 0.088f},
        FloatOps::AttentionShape{5, 17, 30, 4, 4, 40, 0.16f}, FloatOps::AttentionShape{3, 0, 3, 8, 1, 256, 0.0625f}}) {
    CAPTURE(s.n_tokens);
    CAPTURE(s.pos0);
    CAPTURE(s.n_kv);
    CAPTURE(s.n_heads);
    const auto q = test::RandomFloats(static_cast<size_t>(s.n_tokens * s.n_heads * s.head_dim), 7, -2.0f, 2.0f);
    const auto k = test::RandomFloats(static_cast<size_t>(s.n_kv * s.n_kv_heads * s.head_dim), 8, -2.0f, 2.0f);
    const auto v = test::RandomFloats(k.size(), 9);
    std::vector<float> want(q.size());
    ref::Attention(q.data(), k.data(), v.data(), want.data(), static_cast<size_t>(s.n_tokens), static_cast<size_t>(s.pos0),
                   static_cast<size_t>(s.n_kv), static_cast<size_t>(s.n_heads), static_cast<size_t>(s.n_kv_heads),
                   static_cast<size_t>(s.head_dim), s.scale);
    auto bq = BufferOf(*device, q), bk = BufferOf(*device, k), bv = BufferOf(*device, v);
    auto out = BufferOf(*device, std::vector<float>(q.size()));
    auto scores = BufferOf(*device, std::vector<float>(static_cast<size_t>(s.n_tokens * s.n_heads * s.n_kv)));
    REQUIRE(ops->Attention(*bq, *bk, *bv, *out, *scores, s).ok());
    CHECK(CountFar(Read(*out, q.size()), want, 1e-5f) == 0);
  }
}

// Latent attention's shape: one shared KV head whose keys are whole cached rows of `row` values
// and whose values are the first v_dim of the same rows; the reference spelled out from its steps.
TEST_CASE_FIXTURE(Fixture, "Vulkan Attention matches the reference with values narrower than keys in shared rows") {
  struct Case {
    int64_t n_tokens, pos0, n_kv, n_heads, row, v_dim;
  };
  for (const Case c : {Case{1, 0, 1, 1, 3, 1}, Case{1, 40, 41, 16, 96, 64}, Case{4, 9, 13, 3, 77, 70}}) {
    CAPTURE(c.n_heads);
    CAPTURE(c.row);
    CAPTURE(c.v_dim);
    const float scale = 0.11f;
    const auto q = test::RandomFloats(static_cast<size_t>(c.n_tokens * c.n_heads * c.row), 10, -2.0f, 2.0f);
    const auto cache = test::RandomFloats(static_cast<size_t>(c.n_kv * c.row), 11, -2.0f, 2.0f);
    std::vector<float> want(static_cast<size_t>(c.n_tokens * c.n_heads * c.v_dim), 0.0f);
    std::vector<float> scores(static_cast<size_t>(c.n_kv));
    for (int64_t t = 0; t < c.n_tokens; ++t) {
      const int64_t n_seen = c.pos0 + t + 1;
      for (int64_t h = 0; h < c.n_heads; ++h) {
        const float* qh = &q[static_cast<size_t>((t * c.n_heads + h) * c.row)];
        for (int64_t j = 0; j < n_seen; ++j) {
          scores[static_cast<size_t>(j)] = scale * ref::Dot(qh, &cache[static_cast<size_t>(j * c.row)], size_t(c.row));
        }
        ref::Softmax(scores.data(), static_cast<size_t>(n_seen));
        float* oh = &want[static_cast<size_t>((t * c.n_heads + h) * c.v_dim)];
        for (int64_t j = 0; j < n_seen; ++j) {
          ref::Axpy(scores[static_cast<size_t>(j)], &cache[static_cast<size_t>(j * c.row)], oh, size_t(c.v_dim));
        }
      }
    }
    FloatOps::AttentionShape shape{c.n_tokens, c.pos0, c.n_kv, c.n_heads, 1, c.row, scale};
    shape.v_dim = c.v_dim;
    shape.k_stride = shape.v_stride = c.row;
    auto bq = BufferOf(*device, q), bcache = BufferOf(*device, cache);
    auto out = BufferOf(*device, std::vector<float>(want.size()));
    auto bscores = BufferOf(*device, std::vector<float>(static_cast<size_t>(c.n_tokens * c.n_heads * c.n_kv)));
    REQUIRE(ops->Attention(*bq, *bcache, *bcache, *out, *bscores, shape).ok());
    CHECK(CountFar(Read(*out, want.size()), want, 1e-5f) == 0);
  }
}

TEST_CASE_FIXTURE(Fixture, "Vulkan layer operators refuse sizes that do not fit") {
  auto small = BufferOf(*device, std::vector<float>(16)), big = BufferOf(*device, std::vector<float>(1024));
  const auto refused = [](const Status& s) { return s.code() == absl::StatusCode::kInvalidArgument; };
  CHECK(refused(ops->RmsNorm(*big, *small, 1e-6f, *big, 1, 32)));  // the weight is too short
  CHECK(refused(ops->RmsNorm(*big, *big, 1e-6f, *big, 0, 32)));
  CHECK(refused(ops->Add(*small, *big, *big, 17)));
  CHECK(refused(ops->SiluMul(*big, *big, *big, 0)));
  CHECK(refused(ops->Add(*big, *small, *big, 64, 1.0f, 32)));  // the period past b
  CHECK(refused(ops->Add(*big, *big, *big, 60, 1.0f, 16)));    // rows not whole periods
  CHECK(ops->Add(*big, *small, *big, 64, 1.0f, 16).ok());
  CHECK(refused(ops->Rope(*big, *big, 1, 2, 8, 3, true)));   // an odd rotary width
  CHECK(refused(ops->Rope(*big, *big, 1, 2, 8, 10, true)));  // wider than the head
  CHECK(refused(ops->Rope(*big, *small, 4, 2, 8, 8, true)));  // too few angles
  CHECK(refused(ops->Rope(*big, *big, 1, 2, 8, 4, true, 5)));  // the rotated part past the head
  const FloatOps::AttentionShape fine{2, 3, 5, 4, 2, 8, 0.3f};
  CHECK(ops->Attention(*big, *big, *big, *big, *big, fine).ok());
  FloatOps::AttentionShape bad = fine;
  bad.n_kv_heads = 3;  // not a divisor of n_heads
  CHECK(refused(ops->Attention(*big, *big, *big, *big, *big, bad)));
  bad = fine;
  bad.pos0 = 4;  // rows past the cache
  CHECK(refused(ops->Attention(*big, *big, *big, *big, *big, bad)));
  bad = fine;
  CHECK(refused(ops->Attention(*big, *big, *big, *big, *small, bad)));  // scores: 2 · 4 · 5 > 16
  bad = fine;
  bad.k_stride = 8;  // rows overlapping: 2 KV heads of 8 need 16 floats apart
  CHECK(refused(ops->Attention(*big, *big, *big, *big, *big, bad)));
  bad = fine;
  bad.v_dim = 12;
  bad.v_stride = 300;  // the last cached value row past the buffer
  CHECK(refused(ops->Attention(*big, *big, *big, *big, *big, bad)));
}

}  // namespace
}  // namespace r1::vk
