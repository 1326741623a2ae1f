#include "ops/yarn.h"

#include <algorithm>
#include <cmath>

namespace r1 {
namespace {

constexpr float kPi = 3.14159265358979323846f;

// The dimension at which a wavelength makes n_rot_turns turns over the original context.
float CorrDim(int64_t n_dims, int64_t n_ctx_orig, float n_rot_turns, float base) {
  return static_cast<float>(n_dims) * std::log(static_cast<float>(n_ctx_orig) / (n_rot_turns * 2 * kPi)) /
         (2 * std::log(base));
}

}  // namespace

YarnParams MakeYarnParams(int64_t n_rot, float freq_base, float freq_scale, float ext_factor, float attn_factor,
                          int64_t n_ctx_orig, float beta_fast, float beta_slow) {
  YarnParams p;
  p.n_rot = n_rot;
  p.freq_base = freq_base;
  p.freq_scale = freq_scale;
  p.ext_factor = ext_factor;
  p.attn_factor = attn_factor;
  const float start = std::floor(CorrDim(n_rot, n_ctx_orig, beta_fast, freq_base));
  const float end = std::ceil(CorrDim(n_rot, n_ctx_orig, beta_slow, freq_base));
  p.corr_low = std::max(0.0f, start);
  p.corr_high = std::min(static_cast<float>(n_rot - 1), end);
  return p;
}

void YarnCosSin(int64_t pos, const YarnParams& p, float* cos_sin) {
  const float theta_scale = std::pow(p.freq_base, -2.0f / static_cast<float>(p.n_rot));
  float theta_extrap = static_cast<float>(pos);
  for (int64_t i = 0; i < p.n_rot / 2; ++i) {
    const float theta_interp = p.freq_scale * theta_extrap;
    float theta = theta_interp;
    float mscale = p.attn_factor;
    if (p.ext_factor != 0.0f) {
      // i is the pair index (dimension 2i), as ggml's ramp uses i0 / 2.
      const float y = (static_cast<float>(i) - p.corr_low) / std::max(0.001f, p.corr_high - p.corr_low);
      const float ramp_mix = (1.0f - std::min(1.0f, std::max(0.0f, y))) * p.ext_factor;
      theta = theta_interp * (1 - ramp_mix) + theta_extrap * ramp_mix;
      mscale *= 1.0f + 0.1f * std::log(1.0f / p.freq_scale);
    }
    cos_sin[2 * i] = std::cos(theta) * mscale;
    cos_sin[2 * i + 1] = std::sin(theta) * mscale;
    theta_extrap *= theta_scale;
  }
}

}  // namespace r1
