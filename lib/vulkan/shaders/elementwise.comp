#version 450
// One f32 operation per element over `count` elements (OP_ADD: out = a + scale · b, a residual
// add or one expert's weighted share; OP_SILU_MUL: out = silu(a) · b, SwiGLU's gate). b repeats
// every b_period values where that is not 0 (a bias added to every row).
// Workgroups of 64 in a grid of grid_x columns.
layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) writeonly buffer Output { float y[]; };
layout(push_constant) uniform Shape {
  uint count;
  uint grid_x;
  float scale;
  uint b_period;
} shape;

void main() {
  const uint i = (gl_WorkGroupID.y * shape.grid_x + gl_WorkGroupID.x) * 64u + gl_LocalInvocationID.x;
  if (i >= shape.count) return;
  const uint j = shape.b_period != 0u ? i % shape.b_period : i;
#if defined(OP_ADD)
  y[i] = a[i] + shape.scale * b[j];
#elif defined(OP_SILU_MUL)
  y[i] = a[i] / (1.0 + exp(-a[i])) * b[j];
#else
#error "define one operation"
#endif
}
