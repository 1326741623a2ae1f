#version 450
// Causal attention with grouped-query heads over one sequence's f32 cache: one workgroup per
// (query row t, head h). Row t is at position pos0 + t and sees cached positions 0 … pos0 + t;
// head h reads KV head h / (n_heads / n_kv_heads). Keys have head_dim values, values v_dim, and
// cached rows lie k_stride and v_stride floats apart: deepseek2's compressed cache is one shared
// head whose keys are whole rows [latent, k_pe] and whose values are their latent part. The
// workgroup writes its scores to its own row of `scores` ([n_tokens · n_heads, n_kv]), takes
// their softmax, then sums the values.
layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer Queries { float q[]; };
layout(std430, binding = 1) readonly buffer Keys { float k[]; };
layout(std430, binding = 2) readonly buffer Values { float v[]; };
layout(std430, binding = 3) writeonly buffer Output { float o[]; };
layout(std430, binding = 4) coherent buffer Scores { float scores[]; };  // read across invocations
layout(push_constant) uniform Shape {
  uint pos0;
  uint n_kv;
  uint n_heads;
  uint n_kv_heads;
  uint head_dim;
  uint v_dim;
  uint k_stride;
  uint v_stride;
  float scale;
} shape;

shared float partial[64];

// The max (max_op) or sum of every invocation's `value`, in every invocation.
float Reduce(float value, bool max_op) {
  const uint lane = gl_LocalInvocationID.x;
  partial[lane] = value;
  barrier();
  for (uint half_width = 32u; half_width > 0u; half_width >>= 1) {
    if (lane < half_width) {
      partial[lane] = max_op ? max(partial[lane], partial[lane + half_width]) : partial[lane] + partial[lane + half_width];
    }
    barrier();
  }
  const float result = partial[0];
  barrier();
  return result;
}

void main() {
  const uint t = gl_WorkGroupID.x, h = gl_WorkGroupID.y, lane = gl_LocalInvocationID.x;
  const uint dim = shape.head_dim, v_dim = shape.v_dim, q_stride = shape.n_heads * dim;
  const uint g = h / (shape.n_heads / shape.n_kv_heads);
  const uint n_seen = min(shape.n_kv, shape.pos0 + t + 1u);
  const uint q_base = t * q_stride + h * dim, o_base = (t * shape.n_heads + h) * v_dim;
  const uint s_base = (t * shape.n_heads + h) * shape.n_kv;

  float local_max = -1.0 / 0.0;
  for (uint j = lane; j < n_seen; j += 64u) {
    float dot_qk = 0.0;
    for (uint i = 0u; i < dim; ++i) dot_qk += q[q_base + i] * k[j * shape.k_stride + g * dim + i];
    scores[s_base + j] = dot_qk * shape.scale;
    local_max = max(local_max, dot_qk * shape.scale);
  }
  const float row_max = Reduce(local_max, true);
  float local_sum = 0.0;
  for (uint j = lane; j < n_seen; j += 64u) {
    const float p = exp(scores[s_base + j] - row_max);
    scores[s_base + j] = p;
    local_sum += p;
  }
  const float inv_sum = 1.0 / Reduce(local_sum, false);
  memoryBarrierBuffer();
  barrier();
  for (uint i = lane; i < v_dim; i += 64u) {
    float acc = 0.0;
    for (uint j = 0u; j < n_seen; ++j) acc += scores[s_base + j] * v[j * shape.v_stride + g * v_dim + i];
    o[o_base + i] = acc * inv_sum;
  }
}
