// vulkan_ops.h — the f32 operators of a transformer layer on a Vulkan device: RMSNorm, residual
// add, SwiGLU's gate, rotary embedding and causal grouped-query attention over an f32 cache.
// Each is the shader of the same name in shaders/ and matches the scalar reference of the same
// name in r1/ops/reference.h (the tests compare them). Every call checks its sizes against
// the buffers and returns once the device has finished.
#pragma once

#include <cstdint>
#include <memory>

#include "r1/status.h"
#include "vulkan/vulkan_buffer.h"
#include "vulkan/vulkan_device.h"
#include "vulkan/vulkan_kernel.h"

namespace r1::vk {

class FloatOps {
 public:
  static StatusOr<std::unique_ptr<FloatOps>> Create(Device& device);

  // out[r] = RmsNorm(x[r]) · w for n_rows rows of n values.
  Status RmsNorm(Buffer& x, Buffer& w, float eps, Buffer& out, int64_t n_rows, int64_t n);
  // out = a + scale · b over n values; b repeats every b_period values where that is not 0 (a
  // bias added to each of n / b_period rows).
  Status Add(Buffer& a, Buffer& b, Buffer& out, int64_t n, float scale = 1.0f, int64_t b_period = 0);
  // out = silu(gate) · up over n values.
  Status SiluMul(Buffer& gate, Buffer& up, Buffer& out, int64_t n);
  // In place over x ([n_rows, n_heads · head_dim]): n_rot values of each head from `offset` on
  // turned by its row's angles, cos_sin [n_rows, n_rot] (cos, sin of each pair).
  Status Rope(Buffer& x, Buffer& cos_sin, int64_t n_rows, int64_t n_heads, int64_t head_dim, int64_t n_rot, bool neox,
              int64_t offset = 0);
  // out ([n_tokens, n_heads · v_dim]) = attention of q ([n_tokens, n_heads · head_dim], rows at
  // positions pos0 …) over n_kv cached rows of k (k_stride floats apart, n_kv_heads heads of
  // head_dim) and v (v_stride apart, heads of v_dim), each row seeing positions up to its own;
  // scores is scratch of n_tokens · n_heads · n_kv floats. Zero v_dim means head_dim, zero
  // strides the rows packed.
  struct AttentionShape {
    int64_t n_tokens, pos0, n_kv, n_heads, n_kv_heads, head_dim;
    float scale;
    int64_t v_dim = 0, k_stride = 0, v_stride = 0;
  };
  Status Attention(Buffer& q, Buffer& k, Buffer& v, Buffer& out, Buffer& scores, const AttentionShape& shape);

 private:
  FloatOps() = default;
  // out = op(a, b) over n values with one of the elementwise kernels (shaders/elementwise.comp).
  Status Elementwise(Kernel& kernel, const char* op, Buffer& a, Buffer& b, Buffer& out, int64_t n, float scale,
                     int64_t b_period);
  std::unique_ptr<Kernel> rms_norm_, add_, silu_mul_, rope_, attention_;
};

}  // namespace r1::vk
