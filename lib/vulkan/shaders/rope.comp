#version 450
// Rotary position embedding, in place, of every head of every row of x ([n_rows, n_heads ·
// head_dim]): n_rot values of a head from `offset` on (0 for llama and qwen, the shared-key part
// for deepseek2) turn by the angles of its row, cos_sin[row] holding cos and sin of pair i at 2i
// and 2i + 1. NeoX pairs element i with i + n_rot/2, GPT-J 2i with 2i + 1. One invocation per pair.
layout(local_size_x = 64) in;

layout(std430, binding = 0) buffer Rows { float x[]; };
layout(std430, binding = 1) readonly buffer Angles { float cos_sin[]; };
layout(push_constant) uniform Shape {
  uint n_rows;
  uint n_heads;
  uint head_dim;
  uint n_rot;
  uint neox;
  uint grid_x;
  uint offset;
} shape;

void main() {
  const uint half_rot = shape.n_rot / 2u;
  const uint id = (gl_WorkGroupID.y * shape.grid_x + gl_WorkGroupID.x) * 64u + gl_LocalInvocationID.x;
  if (id >= shape.n_rows * shape.n_heads * half_rot) return;
  const uint pair = id % half_rot, head = (id / half_rot) % shape.n_heads, row = id / (half_rot * shape.n_heads);
  const uint base = (row * shape.n_heads + head) * shape.head_dim + shape.offset;
  const uint i0 = base + (shape.neox != 0u ? pair : 2u * pair);
  const uint i1 = base + (shape.neox != 0u ? pair + half_rot : 2u * pair + 1u);
  const float c = cos_sin[row * shape.n_rot + 2u * pair], s = cos_sin[row * shape.n_rot + 2u * pair + 1u];
  const float x0 = x[i0], x1 = x[i1];
  x[i0] = x0 * c - x1 * s;
  x[i1] = x0 * s + x1 * c;
}
