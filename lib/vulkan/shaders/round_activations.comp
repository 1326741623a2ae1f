#version 450
// The activations a product reads, rounded as the CPU rounds them before its dot products: to
// the weight type's vec_dot_type (quant/quant_kernels.h) and back to f32, so that a product on
// the device multiplies the same values as on the CPU and picks the same experts where the
// router's scores are close. ROUND_Q8_0 (also Q8_1's values): blocks of 32, d = max|x| / 127
// kept in f16, q = round(x / d) half away from zero. ROUND_Q8_K: blocks of 256, the value of
// largest magnitude (the first) m, q = min(127, roundEven(-127 / m · x)), d = 1 / (-127 / m).
// ROUND_F16, ROUND_BF16: each value to nearest-even of the narrower float.
//
// x holds n_groups rows of n_in values, x_stride apart; blocks start at each row's start. One
// workgroup per (block, row); out has x's layout.
layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer Input { float x[]; };
layout(std430, binding = 1) writeonly buffer Output { float y[]; };
layout(push_constant) uniform Shape {
  uint n_in;
  uint x_stride;
} shape;

#if defined(ROUND_Q8_0)
const uint kBlock = 32u;
#elif defined(ROUND_Q8_K)
const uint kBlock = 256u;
#else
const uint kBlock = 64u;
#endif

// The nearest f16 value, ties to even, as f32 (f16's range; below it, 0 or the least subnormal).
float RoundToHalf(float value) {
  const uint bits = floatBitsToUint(value), exponent = (bits >> 23) & 0xffu;
  if (exponent < 103u) return abs(value) > 2.98023224e-8 ? sign(value) * 5.96046448e-8 : value * 0.0;
  if (exponent >= 143u) return value;  // past f16's range; not reached by normed activations
  const uint shift = exponent < 113u ? 126u - exponent : 13u;  // f16 subnormals keep fewer bits
  const uint half_ulp = 1u << (shift - 1u), rest = bits & ((1u << shift) - 1u);
  uint rounded = bits - rest;
  if (rest > half_ulp || (rest == half_ulp && ((rounded >> shift) & 1u) != 0u)) rounded += 1u << shift;
  return uintBitsToFloat(rounded);
}

float RoundToBf16(float value) {
  const uint bits = floatBitsToUint(value);
  return uintBitsToFloat((bits + 0x7fffu + ((bits >> 16) & 1u)) & 0xffff0000u);
}

shared float partial[64];
shared uint partial_index[64];

void main() {
  const uint lane = gl_LocalInvocationID.x, base = gl_WorkGroupID.y * shape.x_stride + gl_WorkGroupID.x * kBlock;
#if defined(ROUND_F16) || defined(ROUND_BF16)
  const uint k = gl_WorkGroupID.x * kBlock + lane;
  if (k >= shape.n_in) return;
#if defined(ROUND_F16)
  y[base + lane] = RoundToHalf(x[base + lane]);
#else
  y[base + lane] = RoundToBf16(x[base + lane]);
#endif
#else
  // The largest magnitude in the block, and where it first occurs.
  float best = 0.0;
  uint best_index = 0u;
  for (uint i = lane; i < kBlock; i += 64u) {
    const float a = abs(x[base + i]);
    if (a > best) {
      best = a;
      best_index = i;
    }
  }
  partial[lane] = best;
  partial_index[lane] = best_index;
  barrier();
  for (uint half_width = 32u; half_width > 0u; half_width >>= 1) {
    if (lane < half_width) {
      const float other = partial[lane + half_width];
      const uint other_index = partial_index[lane + half_width];
      if (other > partial[lane] || (other == partial[lane] && other > 0.0 && other_index < partial_index[lane])) {
        partial[lane] = other;
        partial_index[lane] = other_index;
      }
    }
    barrier();
  }
  const float amax = partial[0];
#if defined(ROUND_Q8_0)
  const float d = amax / 127.0, inverse = d != 0.0 ? 1.0 / d : 0.0, d_half = RoundToHalf(d);
  for (uint i = lane; i < kBlock; i += 64u) {
    const float v = x[base + i] * inverse, whole = trunc(v);  // v - whole is exact
    y[base + i] = (abs(v - whole) >= 0.5 ? whole + sign(v) : whole) * d_half;
  }
#else
  const float m = x[base + partial_index[0]];
  const float iscale = amax != 0.0 ? -127.0 / m : 0.0, d = amax != 0.0 ? 1.0 / iscale : 0.0;
  for (uint i = lane; i < kBlock; i += 64u) y[base + i] = min(127.0, roundEven(iscale * x[base + i])) * d;
#endif
#endif
}
