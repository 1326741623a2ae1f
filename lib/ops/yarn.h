// yarn.h — rotary angles with YaRN context extension (DeepSeek-V2/V3).
#pragma once

#include <cstdint>

namespace r1 {

struct YarnParams {
  int64_t n_rot = 0;         // rotated dimensions per head (even)
  float freq_base = 10000.0f;
  float freq_scale = 1.0f;   // 1 / extension factor
  float ext_factor = 0.0f;   // 0: plain interpolation by freq_scale; 1: YaRN ramp
  float attn_factor = 1.0f;  // magnitude factor on cos and sin
  float corr_low = 0.0f;     // pair indices where the ramp from extrapolation to interpolation
  float corr_high = 0.0f;    // starts and ends
};

// The correction range from the original context length and beta_fast / beta_slow.
YarnParams MakeYarnParams(int64_t n_rot, float freq_base, float freq_scale, float ext_factor, float attn_factor,
                          int64_t n_ctx_orig, float beta_fast, float beta_slow);

// cos_sin[2i], cos_sin[2i+1] = cos, sin of pair i at `pos`, times the magnitude factor. Pair i's
// angle mixes the interpolated angle (theta_i * freq_scale) and the extrapolated one (theta_i)
// by a ramp over [corr_low, corr_high]; with YaRN on the magnitude is also multiplied by
// 1 + 0.1 ln(1 / freq_scale). The f32 operation order is llama.cpp's (ggml rope_yarn).
void YarnCosSin(int64_t pos, const YarnParams& p, float* cos_sin);

}  // namespace r1
