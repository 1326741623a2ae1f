#version 450
// out[r, i] = x[r, i] / sqrt(mean_i(x[r, i]²) + eps) · w[i]: one workgroup per row.
layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer Input { float x[]; };
layout(std430, binding = 1) readonly buffer Weight { float w[]; };
layout(std430, binding = 2) writeonly buffer Output { float y[]; };
layout(push_constant) uniform Shape {
  uint n;
  float eps;
} shape;

shared float partial[64];

void main() {
  const uint row = gl_WorkGroupID.x, lane = gl_LocalInvocationID.x, base = row * shape.n;
  float sum = 0.0;
  for (uint i = lane; i < shape.n; i += 64u) sum += x[base + i] * x[base + i];
  partial[lane] = sum;
  barrier();
  for (uint half_width = 32u; half_width > 0u; half_width >>= 1) {
    if (lane < half_width) partial[lane] += partial[lane + half_width];
    barrier();
  }
  const float scale = 1.0 / sqrt(partial[0] / float(shape.n) + shape.eps);
  for (uint i = lane; i < shape.n; i += 64u) y[base + i] = x[base + i] * scale * w[i];
}
