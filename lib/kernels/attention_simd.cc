// attention_simd.cc — the tiled-attention kernels on xsimd batches; compiled once per ISA (see
// simd_arch.h). Scores take a batch of positions at a time and reduce their accumulators
// together; the weighted sum keeps two rows' slices of the output in registers while
// the value rows stream past.
#include <algorithm>
#include <cmath>

#include "kernels/attention_kernels.h"
#include "kernels/simd_arch.h"
#include "kernels/softmax_parts_impl.h"

namespace r1::R1_SIMD_NS {
namespace {

using F = xsimd::batch<float, Arch>;
constexpr int64_t kLanes = static_cast<int64_t>(F::size);

// Lane p of the result = the sum of the lanes of acc[p], for kLanes batches. (xsimd 8's own
// haddp orders AVX-512 lanes wrongly.)
[[gnu::always_inline]] inline F ReduceLanes(const F* acc) {
#if defined(R1_SIMD_AVX512)
  // Pairs of rows, then pairs of pairs, within each 128-bit lane; then the four lanes.
  const auto pair = [](__m512 a, __m512 b) { return _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b)); };
  const auto quad = [](__m512 a, __m512 b) {
    const __m512d da = _mm512_castps_pd(a), db = _mm512_castps_pd(b);
    return _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(da, db)), _mm512_castpd_ps(_mm512_unpackhi_pd(da, db)));
  };
  const auto lanes = [](__m512 a, __m512 b) {
    return _mm512_add_ps(_mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
  };
  __m512 q[4];
  for (int i = 0; i < 4; ++i) q[i] = quad(pair(acc[4 * i], acc[4 * i + 1]), pair(acc[4 * i + 2], acc[4 * i + 3]));
  return lanes(lanes(q[0], q[1]), lanes(q[2], q[3]));
#elif defined(R1_SIMD_AVX2)
  return xsimd::haddp(acc);
#else
  alignas(64) float sums[kLanes];
  for (int64_t p = 0; p < kLanes; ++p) sums[p] = xsimd::hadd(acc[p]);
  return F::load_aligned(sums);
#endif
}

float DotTail(const float* a, const float* b, int64_t from, int64_t n) {
  float sum = 0.0f;
  for (int64_t i = from; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

// Scores of query row qr with `count` <= kLanes key rows from kj, into sr. Every position's
// dot is summed in the same order whether its group is full or the last, partial one (lane p
// of ReduceLanes depends on acc[p] only), so a score never depends on how many positions
// shared the call.
template <bool kFull>
[[gnu::always_inline]] inline void ScoreGroup(const float* qr, const float* kj, int64_t k_stride, int64_t count, int64_t dim, F vscale, float* sr) {
  const int64_t whole = dim / kLanes * kLanes;
  const int64_t n = kFull ? kLanes : count;
  F acc[kLanes];
#pragma GCC unroll 16
  for (int64_t p = 0; p < kLanes; ++p) acc[p] = F(0.0f);
  for (int64_t d = 0; d < whole; d += kLanes) {
    const F qv = F::load_unaligned(qr + d);
#pragma GCC unroll 16
    for (int64_t p = 0; p < n; ++p) acc[p] = xsimd::fma(qv, F::load_unaligned(kj + p * k_stride + d), acc[p]);
  }
  F sums = ReduceLanes(acc);
  alignas(64) float lanes[kLanes] = {};
  if (whole < dim) {
    for (int64_t p = 0; p < n; ++p) lanes[p] = DotTail(qr, kj + p * k_stride, whole, dim);
    sums += F::load_aligned(lanes);
  }
  sums *= vscale;
  if constexpr (kFull) {
    sums.store_unaligned(sr);
  } else {
    sums.store_aligned(lanes);
    std::copy_n(lanes, n, sr);
  }
}

void Scores(const float* q, int64_t q_stride, int64_t n_rows, const float* k, int64_t k_stride, int64_t n_pos,
            int64_t dim, float scale, float* s, int64_t s_stride) {
  const F vscale(scale);
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* qr = q + r * q_stride;
    float* sr = s + r * s_stride;
    int64_t j = 0;
    for (; j + kLanes <= n_pos; j += kLanes) ScoreGroup<true>(qr, k + j * k_stride, k_stride, kLanes, dim, vscale, sr + j);
    if (j < n_pos) ScoreGroup<false>(qr, k + j * k_stride, k_stride, n_pos - j, dim, vscale, sr + j);
  }
}

// acc[r][d0 .. d0 + kChunks * kLanes) += sum_j p[r][j] * v[j][same], for kRows rows at once.
template <int kRows, int kChunks>
void AccumulateSlice(const float* p, int64_t p_stride, const float* v, int64_t v_stride, int64_t n_pos, int64_t d0,
                     float* acc, int64_t acc_stride) {
  F a[kRows][kChunks];
  for (int r = 0; r < kRows; ++r) {
    for (int c = 0; c < kChunks; ++c) a[r][c] = F::load_unaligned(acc + r * acc_stride + d0 + c * kLanes);
  }
  for (int64_t j = 0; j < n_pos; ++j) {
    const float* vj = v + j * v_stride + d0;
    F vv[kChunks];
    for (int c = 0; c < kChunks; ++c) vv[c] = F::load_unaligned(vj + c * kLanes);
    for (int r = 0; r < kRows; ++r) {
      const F pr(p[r * p_stride + j]);
      for (int c = 0; c < kChunks; ++c) a[r][c] = xsimd::fma(pr, vv[c], a[r][c]);
    }
  }
  for (int r = 0; r < kRows; ++r) {
    for (int c = 0; c < kChunks; ++c) a[r][c].store_unaligned(acc + r * acc_stride + d0 + c * kLanes);
  }
}

// The last dim - d0 (< kLanes) columns, through zero-padded registers. Every element is the
// same chain of fused multiply-adds as in a whole slice: a plain scalar loop here was compiled
// (AVX-512) into a partly vectorized sum whose rounding depended on n_pos, so a position's
// output changed with the number of positions after it.
template <int kRows>
void AccumulateTail(const float* p, int64_t p_stride, const float* v, int64_t v_stride, int64_t n_pos, int64_t d0,
                    int64_t dim, float* acc, int64_t acc_stride) {
  const int64_t rest = dim - d0;
  alignas(64) float buf[kLanes] = {};
  F a[kRows];
  for (int r = 0; r < kRows; ++r) {
    std::copy_n(acc + r * acc_stride + d0, rest, buf);
    a[r] = F::load_aligned(buf);
  }
  for (int64_t j = 0; j < n_pos; ++j) {
    std::copy_n(v + j * v_stride + d0, rest, buf);
    const F vv = F::load_aligned(buf);
    for (int r = 0; r < kRows; ++r) a[r] = xsimd::fma(F(p[r * p_stride + j]), vv, a[r]);
  }
  for (int r = 0; r < kRows; ++r) {
    a[r].store_aligned(buf);
    std::copy_n(buf, rest, acc + r * acc_stride + d0);
  }
}

template <int kRows>
void AccumulateRows(const float* p, int64_t p_stride, const float* v, int64_t v_stride, int64_t n_pos, int64_t dim,
                    float* acc, int64_t acc_stride) {
  int64_t d = 0;
  for (; d + 4 * kLanes <= dim; d += 4 * kLanes) AccumulateSlice<kRows, 4>(p, p_stride, v, v_stride, n_pos, d, acc, acc_stride);
  for (; d + kLanes <= dim; d += kLanes) AccumulateSlice<kRows, 1>(p, p_stride, v, v_stride, n_pos, d, acc, acc_stride);
  if (d < dim) AccumulateTail<kRows>(p, p_stride, v, v_stride, n_pos, d, dim, acc, acc_stride);
}

void Accumulate(const float* p, int64_t p_stride, int64_t n_rows, const float* v, int64_t v_stride, int64_t n_pos,
                int64_t dim, float* acc, int64_t acc_stride) {
  int64_t r = 0;
  for (; r + 2 <= n_rows; r += 2) {
    AccumulateRows<2>(p + r * p_stride, p_stride, v, v_stride, n_pos, dim, acc + r * acc_stride, acc_stride);
  }
  if (r < n_rows) AccumulateRows<1>(p + r * p_stride, p_stride, v, v_stride, n_pos, dim, acc + r * acc_stride, acc_stride);
}

float Max(const float* x, int64_t n) { return MaxOf(x, static_cast<size_t>(n)); }
float ExpSum(float* x, int64_t n, float shift) { return ExpShiftSum(x, static_cast<size_t>(n), shift); }

const AttentionKernels kKernels = {kIsa, Scores, Accumulate, Max, ExpSum};

}  // namespace

const AttentionKernels& GetAttentionKernels() { return kKernels; }

}  // namespace r1::R1_SIMD_NS
