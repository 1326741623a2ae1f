// rope.h — rotary position embedding angles.
#pragma once

#include <cstdint>

namespace r1 {

struct RopeParams {
  int64_t n_rot = 0;                 // rotated dimensions per head (even)
  float freq_base = 10000.0f;
  float freq_scale = 1.0f;           // 1 / linear scaling factor
  const float* freq_factors = nullptr;  // [n_rot / 2] divisors of each frequency (Llama 3), or null
};

// cos_sin[2i], cos_sin[2i+1] = cos, sin of pair i's angle at position `pos`, for i < n_rot/2.
// The angle of pair i is pos * base^(-2i/n_rot) / factor_i * freq_scale; the frequency is
// stepped by repeated multiplication in f32, as llama.cpp does, so angles agree to the bit.
void RopeCosSin(int64_t pos, const RopeParams& p, float* cos_sin);

}  // namespace r1
