// The tiled-attention kernels on every ISA this machine supports, against r1/ops/reference.h,
// at sizes that hit partial batches of positions, rows and dimensions.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/attention_kernels.h"
#include "r1/ops/reference.h"
#include "support/test_util.h"

namespace r1 {
namespace {

using test::RandomFloats;

double MaxDiff(const std::vector<float>& got, const std::vector<float>& want) {
  double worst = 0.0;
  for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(double(got[i]) - double(want[i])));
  return worst;
}

TEST_SUITE("kernels") {

TEST_CASE("attention scores match the reference") {
  for (Isa isa : SupportedIsas()) {
    const AttentionKernels& k = GetAttentionKernels(isa);
    CHECK(k.isa == isa);
    for (int64_t dim : {1, 7, 16, 33, 64, 128, 576}) {
      for (int64_t n_rows : {1, 3, 32}) {
        for (int64_t n_pos : {1, 7, 15, 16, 17, 64}) {
          INFO(IsaName(isa), " dim ", dim, " rows ", n_rows, " positions ", n_pos);
          // Strides wider than the data, as tiles inside larger buffers have.
          const int64_t q_stride = dim + 3, k_stride = dim + 5, s_stride = n_pos + 2;
          const auto q = RandomFloats(size_t(n_rows * q_stride), uint64_t(dim * 31 + n_rows), -2.0f, 2.0f);
          const auto kv = RandomFloats(size_t(n_pos * k_stride), uint64_t(dim * 37 + n_pos), -2.0f, 2.0f);
          std::vector<float> got(size_t(n_rows * s_stride), -7.0f), want(got);
          k.scores(q.data(), q_stride, n_rows, kv.data(), k_stride, n_pos, dim, 0.125f, got.data(), s_stride);
          ref::AttentionScores(q.data(), q_stride, n_rows, kv.data(), k_stride, n_pos, dim, 0.125f, want.data(),
                               s_stride);
          // f32 sums of up to 576 products of magnitude <= 4, scaled by 1/8.
          CHECK(MaxDiff(got, want) < 1e-4 * std::sqrt(double(dim)));
        }
      }
    }
  }
}

TEST_CASE("attention value accumulation matches the reference") {
  for (Isa isa : SupportedIsas()) {
    const AttentionKernels& k = GetAttentionKernels(isa);
    for (int64_t dim : {1, 7, 16, 33, 64, 100, 128, 512}) {
      for (int64_t n_rows : {1, 2, 5, 32}) {
        for (int64_t n_pos : {1, 16, 17, 64}) {
          INFO(IsaName(isa), " dim ", dim, " rows ", n_rows, " positions ", n_pos);
          const int64_t p_stride = n_pos + 1, v_stride = dim + 2, acc_stride = dim + 4;
          const auto p = RandomFloats(size_t(n_rows * p_stride), uint64_t(dim + n_rows * 3), 0.0f, 1.0f);
          const auto v = RandomFloats(size_t(n_pos * v_stride), uint64_t(dim * 5 + n_pos), -2.0f, 2.0f);
          std::vector<float> got = RandomFloats(size_t(n_rows * acc_stride), 99), want = got;
          k.accumulate(p.data(), p_stride, n_rows, v.data(), v_stride, n_pos, dim, got.data(), acc_stride);
          ref::AttentionAccumulate(p.data(), p_stride, n_rows, v.data(), v_stride, n_pos, dim, want.data(),
                                   acc_stride);
          CHECK(MaxDiff(got, want) < 1e-5 * double(n_pos));
        }
      }
    }
  }
}

TEST_CASE("exp_sum matches the reference") {
  for (Isa isa : SupportedIsas()) {
    const AttentionKernels& k = GetAttentionKernels(isa);
    for (int64_t n : {1, 7, 16, 17, 63, 64}) {
      INFO(IsaName(isa), " n ", n);
      std::vector<float> got = RandomFloats(size_t(n), uint64_t(n), -20.0f, 3.0f), want = got;
      const float shift = *std::max_element(got.begin(), got.end());
      const float got_sum = k.exp_sum(got.data(), n, shift);
      const float want_sum = ref::ExpSum(want.data(), n, shift);
      CHECK(MaxDiff(got, want) < 1e-6);
      CHECK(std::fabs(got_sum - want_sum) < 1e-5 * double(n));
    }
  }
}

}  // TEST_SUITE

}  // namespace
}  // namespace r1
