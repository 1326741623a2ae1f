// Every float kernel on every ISA this machine supports, against r1/ops/reference.h.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "kernels/float_kernels.h"
#include "r1/ops/reference.h"
#include "support/test_util.h"

namespace r1 {
namespace {

using test::RandomFloats;

// Sizes that hit empty and partial batches, one batch, and long scalar tails.
const size_t kSizes[] = {1, 3, 7, 8, 15, 16, 17, 31, 64, 100, 255, 4097};

float MaxRelError(const std::vector<float>& got, const std::vector<float>& want) {
  float worst = 0.0f;
  for (size_t i = 0; i < got.size(); ++i) {
    const float denom = std::max(1.0f, std::fabs(want[i]));
    worst = std::max(worst, std::fabs(got[i] - want[i]) / denom);
  }
  return worst;
}

TEST_SUITE("kernels") {

TEST_CASE("float kernels match the reference on every supported ISA") {
  for (Isa isa : SupportedIsas()) {
    const FloatKernels& k = GetFloatKernels(isa);
    CHECK(k.isa == isa);
    for (size_t n : kSizes) {
      INFO("isa = ", IsaName(isa), ", n = ", n);
      const auto x = RandomFloats(n, n * 7 + 1, -3.0f, 3.0f);
      const auto w = RandomFloats(n, n * 7 + 2);
      std::vector<float> got(n), want(n);

      k.rms_norm(x.data(), w.data(), 1e-6f, got.data(), n);
      ref::RmsNorm(x.data(), w.data(), 1e-6f, want.data(), n);
      CHECK(MaxRelError(got, want) < 1e-5f);

      got = x;
      want = x;
      k.softmax(got.data(), n);
      ref::Softmax(want.data(), n);
      CHECK(MaxRelError(got, want) < 1e-5f);

      k.silu_mul(x.data(), w.data(), got.data(), n);
      ref::SiluMul(x.data(), w.data(), want.data(), n);
      CHECK(MaxRelError(got, want) < 1e-5f);

      k.add(x.data(), w.data(), got.data(), n);
      ref::Add(x.data(), w.data(), want.data(), n);
      CHECK(MaxRelError(got, want) == 0.0f);

      CHECK(k.dot(x.data(), w.data(), n) ==
            doctest::Approx(ref::Dot(x.data(), w.data(), n)).epsilon(1e-5).scale(1.0));

      got = w;
      want = w;
      k.axpy(0.37f, x.data(), got.data(), n);
      ref::Axpy(0.37f, x.data(), want.data(), n);
      CHECK(MaxRelError(got, want) < 1e-6f);

      got = x;
      want = x;
      k.scale(got.data(), -1.5f, n);
      ref::Scale(want.data(), -1.5f, n);
      CHECK(MaxRelError(got, want) == 0.0f);
    }
  }
}

TEST_CASE("rope matches the reference in both orderings") {
  for (Isa isa : SupportedIsas()) {
    const FloatKernels& k = GetFloatKernels(isa);
    for (size_t head_dim : {2u, 6u, 16u, 64u, 80u, 128u, 192u, 2048u}) {
      for (bool neox : {false, true}) {
        INFO("isa = ", IsaName(isa), ", head_dim = ", head_dim, ", neox = ", neox);
        const auto x = RandomFloats(head_dim, head_dim + neox);
        std::vector<float> cos_sin(head_dim);
        const auto angles = RandomFloats(head_dim / 2, head_dim * 3, -6.0f, 6.0f);
        for (size_t i = 0; i < head_dim / 2; ++i) {
          cos_sin[2 * i] = std::cos(angles[i]);
          cos_sin[2 * i + 1] = std::sin(angles[i]);
        }
        std::vector<float> got = x, want = x;
        k.rope(got.data(), cos_sin.data(), head_dim, neox);
        ref::Rope(want.data(), cos_sin.data(), head_dim, neox);
        CHECK(MaxRelError(got, want) < 1e-6f);
      }
    }
  }
}

TEST_CASE("softmax of a large range stays finite and sums to one") {
  for (Isa isa : SupportedIsas()) {
    std::vector<float> x = {-1e30f, 0.0f, 80.0f, 88.0f, -80.0f, 1e-30f, 3.0f, 87.5f, -1e4f};
    GetFloatKernels(isa).softmax(x.data(), x.size());
    double sum = 0.0;
    for (float v : x) {
      CHECK(std::isfinite(v));
      sum += v;
    }
    CHECK(sum == doctest::Approx(1.0).epsilon(1e-5));
  }
}

}  // TEST_SUITE
}  // namespace
}  // namespace r1
