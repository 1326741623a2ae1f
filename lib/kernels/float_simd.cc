// float_simd.cc — the f32 kernels on xsimd batches; compiled once per ISA (see simd_arch.h).
//
// Every loop runs whole batches, then a scalar tail with the same arithmetic.
#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/float_kernels.h"
#include "kernels/simd_arch.h"
#include "kernels/softmax_parts_impl.h"

namespace r1::R1_SIMD_NS {
namespace {

using F = xsimd::batch<float, Arch>;
constexpr size_t kLanes = F::size;

float SumSquares(const float* x, size_t n) {
  F acc0(0.0f), acc1(0.0f);
  size_t i = 0;
  for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
    const F a = F::load_unaligned(x + i), b = F::load_unaligned(x + i + kLanes);
    acc0 = xsimd::fma(a, a, acc0);
    acc1 = xsimd::fma(b, b, acc1);
  }
  for (; i + kLanes <= n; i += kLanes) {
    const F a = F::load_unaligned(x + i);
    acc0 = xsimd::fma(a, a, acc0);
  }
  float sum = xsimd::hadd(acc0 + acc1);
  for (; i < n; ++i) sum += x[i] * x[i];
  return sum;
}

void RmsNorm(const float* x, const float* w, float eps, float* out, size_t n) {
  const float scale = 1.0f / std::sqrt(SumSquares(x, n) / float(n) + eps);
  const F vs(scale);
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    (F::load_unaligned(x + i) * vs * F::load_unaligned(w + i)).store_unaligned(out + i);
  }
  for (; i < n; ++i) out[i] = x[i] * scale * w[i];
}

void Softmax(float* x, size_t n) {
  if (n == 0) return;
  const float sum = ExpShiftSum(x, n, MaxOf(x, n));
  const float inv = 1.0f / sum;
  const F vinv(inv);
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) (F::load_unaligned(x + i) * vinv).store_unaligned(x + i);
  for (; i < n; ++i) x[i] *= inv;
}

void SiluMul(const float* gate, const float* up, float* out, size_t n) {
  const F one(1.0f);
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const F g = F::load_unaligned(gate + i);
    (g / (one + xsimd::exp(-g)) * F::load_unaligned(up + i)).store_unaligned(out + i);
  }
  for (; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void Add(const float* a, const float* b, float* out, size_t n) {
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    (F::load_unaligned(a + i) + F::load_unaligned(b + i)).store_unaligned(out + i);
  }
  for (; i < n; ++i) out[i] = a[i] + b[i];
}

float Dot(const float* a, const float* b, size_t n) {
  F acc0(0.0f), acc1(0.0f);
  size_t i = 0;
  for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
    acc0 = xsimd::fma(F::load_unaligned(a + i), F::load_unaligned(b + i), acc0);
    acc1 = xsimd::fma(F::load_unaligned(a + i + kLanes), F::load_unaligned(b + i + kLanes), acc1);
  }
  for (; i + kLanes <= n; i += kLanes) {
    acc0 = xsimd::fma(F::load_unaligned(a + i), F::load_unaligned(b + i), acc0);
  }
  float sum = xsimd::hadd(acc0 + acc1);
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

void Axpy(float a, const float* x, float* y, size_t n) {
  const F va(a);
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    xsimd::fma(va, F::load_unaligned(x + i), F::load_unaligned(y + i)).store_unaligned(y + i);
  }
  for (; i < n; ++i) y[i] += a * x[i];
}

void Scale(float* x, float s, size_t n) {
  const F vs(s);
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) (F::load_unaligned(x + i) * vs).store_unaligned(x + i);
  for (; i < n; ++i) x[i] *= s;
}

// Rotates pairs (x0[i], x1[i]) by the angles in cos_sin (interleaved cos, sin per pair).
void RotatePairs(float* x0, float* x1, const float* cos_sin, size_t half) {
  alignas(64) float c[kLanes], s[kLanes];
  size_t i = 0;
  for (; i + kLanes <= half; i += kLanes) {
    for (size_t l = 0; l < kLanes; ++l) {
      c[l] = cos_sin[2 * (i + l)];
      s[l] = cos_sin[2 * (i + l) + 1];
    }
    const F vc = F::load_aligned(c), vs = F::load_aligned(s);
    const F a = F::load_unaligned(x0 + i), b = F::load_unaligned(x1 + i);
    xsimd::fms(a, vc, b * vs).store_unaligned(x0 + i);
    xsimd::fma(a, vs, b * vc).store_unaligned(x1 + i);
  }
  for (; i < half; ++i) {
    const float cc = cos_sin[2 * i], ss = cos_sin[2 * i + 1];
    const float a = x0[i], b = x1[i];
    x0[i] = a * cc - b * ss;
    x1[i] = a * ss + b * cc;
  }
}

void Rope(float* x, const float* cos_sin, size_t head_dim, bool neox) {
  const size_t half = head_dim / 2;
  if (neox) {
    RotatePairs(x, x + half, cos_sin, half);
    return;
  }
  // Normal ordering pairs neighbours: de-interleave, rotate as halves, interleave back.
  constexpr size_t kMaxHalf = 512;
  float even[kMaxHalf], odd[kMaxHalf];
  for (size_t start = 0; start < half; start += kMaxHalf) {
    const size_t m = std::min(kMaxHalf, half - start);
    float* xs = x + 2 * start;
    for (size_t i = 0; i < m; ++i) {
      even[i] = xs[2 * i];
      odd[i] = xs[2 * i + 1];
    }
    RotatePairs(even, odd, cos_sin + 2 * start, m);
    for (size_t i = 0; i < m; ++i) {
      xs[2 * i] = even[i];
      xs[2 * i + 1] = odd[i];
    }
  }
}

const FloatKernels kKernels = {
    kIsa, RmsNorm, Softmax, SiluMul, Add, Dot, Axpy, Scale, Rope,
};

}  // namespace

const FloatKernels& GetFloatKernels() { return kKernels; }

}  // namespace r1::R1_SIMD_NS
