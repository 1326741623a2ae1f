// r1/quant/ref_float.h — scalar reference for F32, F16 and BF16 rows.
//
// Dot products multiply in f32 and accumulate in f64, as ggml's scalar ggml_vec_dot_f32/f16/
// bf16 do.
#pragma once

#include <cstdint>
#include <cstring>

#include "r1/quant/half.h"

namespace r1::quant::ref {

inline void ConvertRowF32ToF16(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = F32ToF16(x[i]);
}
inline void ConvertRowF16ToF32(const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = F16ToF32(x[i]);
}
inline void ConvertRowF32ToBf16(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = F32ToBf16(x[i]);
}
inline void ConvertRowBf16ToF32(const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = Bf16ToF32(x[i]);
}
inline void CopyRowF32(const float* x, float* y, int64_t n) {
  if (n > 0) std::memcpy(y, x, static_cast<size_t>(n) * sizeof(float));
}

inline float VecDotF32(int64_t n, const float* x, const float* y) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * y[i]);
  return static_cast<float>(sum);
}
inline float VecDotF16(int64_t n, const uint16_t* x, const uint16_t* y) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(F16ToF32(x[i]) * F16ToF32(y[i]));
  return static_cast<float>(sum);
}
inline float VecDotBf16(int64_t n, const uint16_t* x, const uint16_t* y) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(Bf16ToF32(x[i]) * Bf16ToF32(y[i]));
  return static_cast<float>(sum);
}

}  // namespace r1::quant::ref
