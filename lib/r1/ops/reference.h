// r1/ops/reference.h — plain scalar reference of every float operator of the forward pass.
//
// These are the readable specification and the test oracle for the SIMD kernels in lib/kernels:
// straightforward loops, f32 storage, double accumulation where a sum is long.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace r1::ref {

// out[i] = x[i] / sqrt(mean(x^2) + eps) * w[i]
inline void RmsNorm(const float* x, const float* w, float eps, float* out, size_t n) {
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += double(x[i]) * double(x[i]);
  const float scale = 1.0f / std::sqrt(float(sum / double(n)) + eps);
  for (size_t i = 0; i < n; ++i) out[i] = x[i] * scale * w[i];
}

// In place: x = exp(x - max) / sum(exp(x - max)).
inline void Softmax(float* x, size_t n) {
  if (n == 0) return;
  const float max = *std::max_element(x, x + n);
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  const float inv = float(1.0 / sum);
  for (size_t i = 0; i < n; ++i) x[i] *= inv;
}

inline float Silu(float x) { return x / (1.0f + std::exp(-x)); }

// SwiGLU's gate: out[i] = silu(gate[i]) * up[i].
inline void SiluMul(const float* gate, const float* up, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = Silu(gate[i]) * up[i];
}

inline void Add(const float* a, const float* b, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

inline float Dot(const float* a, const float* b, size_t n) {
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += double(a[i]) * double(b[i]);
  return float(sum);
}

// y[i] += a * x[i]
inline void Axpy(float a, const float* x, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] += a * x[i];
}

inline void Scale(float* x, float s, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] *= s;
}

// Rotary position embedding of one head vector of head_dim values, in place, given the angle
// table for its position: cos_sin[2*i], cos_sin[2*i+1] are cos and sin of pair i's angle.
// NeoX ordering pairs x[i] with x[i + head_dim/2]; normal (GPT-J) ordering pairs x[2i], x[2i+1].
inline void Rope(float* x, const float* cos_sin, size_t head_dim, bool neox) {
  const size_t half = head_dim / 2;
  for (size_t i = 0; i < half; ++i) {
    const float c = cos_sin[2 * i], s = cos_sin[2 * i + 1];
    const size_t i0 = neox ? i : 2 * i;
    const size_t i1 = neox ? i + half : 2 * i + 1;
    const float x0 = x[i0], x1 = x[i1];
    x[i0] = x0 * c - x1 * s;
    x[i1] = x0 * s + x1 * c;
  }
}

// The three steps of tiled (flash) attention over a block of cached positions.
// Scores: s[r * s_stride + j] = scale * (q_r · k_j) for rows r < n_rows and positions j < n_pos.
inline void AttentionScores(const float* q, int64_t q_stride, int64_t n_rows, const float* k, int64_t k_stride,
                            int64_t n_pos, int64_t dim, float scale, float* s, int64_t s_stride) {
  for (int64_t r = 0; r < n_rows; ++r) {
    for (int64_t j = 0; j < n_pos; ++j) {
      s[r * s_stride + j] = scale * Dot(q + r * q_stride, k + j * k_stride, size_t(dim));
    }
  }
}

// Weighted values: acc[r * acc_stride + i] += sum_j p[r * p_stride + j] * v[j * v_stride + i].
inline void AttentionAccumulate(const float* p, int64_t p_stride, int64_t n_rows, const float* v, int64_t v_stride,
                                int64_t n_pos, int64_t dim, float* acc, int64_t acc_stride) {
  for (int64_t r = 0; r < n_rows; ++r) {
    for (int64_t j = 0; j < n_pos; ++j) Axpy(p[r * p_stride + j], v + j * v_stride, acc + r * acc_stride, size_t(dim));
  }
}

// The largest of x[0 .. n), n > 0.
inline float Max(const float* x, int64_t n) { return *std::max_element(x, x + n); }

// In place x[i] = exp(x[i] - shift); returns the sum of the results.
inline float ExpSum(float* x, int64_t n, float shift) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - shift);
    sum += x[i];
  }
  return float(sum);
}

// Causal attention with grouped-query heads, one sequence.
//   q:   [n_tokens, n_heads * head_dim]      queries at positions pos0 .. pos0 + n_tokens - 1
//   k,v: [n_kv, n_kv_heads * head_dim]       keys/values of positions 0 .. n_kv - 1
//   out: [n_tokens, n_heads * head_dim]
// Query t sees keys 0 .. pos0 + t. Head h uses KV head h / (n_heads / n_kv_heads).
inline void Attention(const float* q, const float* k, const float* v, float* out, size_t n_tokens,
                      size_t pos0, size_t n_kv, size_t n_heads, size_t n_kv_heads, size_t head_dim,
                      float scale) {
  const size_t group = n_heads / n_kv_heads;
  const size_t q_stride = n_heads * head_dim, kv_stride = n_kv_heads * head_dim;
  std::vector<float> scores(n_kv);
  for (size_t t = 0; t < n_tokens; ++t) {
    const size_t n_seen = std::min(n_kv, pos0 + t + 1);
    for (size_t h = 0; h < n_heads; ++h) {
      const float* qh = q + t * q_stride + h * head_dim;
      const size_t g = h / group;
      for (size_t j = 0; j < n_seen; ++j) scores[j] = Dot(qh, k + j * kv_stride + g * head_dim, head_dim) * scale;
      Softmax(scores.data(), n_seen);
      float* oh = out + t * q_stride + h * head_dim;
      std::fill(oh, oh + head_dim, 0.0f);
      for (size_t j = 0; j < n_seen; ++j) Axpy(scores[j], v + j * kv_stride + g * head_dim, oh, head_dim);
    }
  }
}

}  // namespace r1::ref
