#version 450
// y = W·x for one weight type, W's rows in their GGUF block layout, for n_cols columns of x at
// once (a prompt's tokens: each weight is dequantized once for up to kCols of them). Output row r
// reads W's row first_row + r; the rows fall in groups of group_rows (heads, say), group g
// reading x from g · x_stride and writing y[g · y_stride + r % group_rows]: one dispatch
// multiplies every head by its own matrix, or one expert's block of a stacked tensor by x.
// Column c reads x from c · x_col_stride and writes y from c · y_col_stride. One workgroup per
// output row (rows past grid_x continue in gl_WorkGroupID.y) and kCols columns
// (gl_WorkGroupID.z); its 64 invocations take every 64th element of the row, then sum their
// partial sums in shared memory.
layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer Weights { uint w[]; };
layout(std430, binding = 1) readonly buffer Input { float x[]; };
layout(std430, binding = 2) writeonly buffer Output { float y[]; };
layout(push_constant) uniform Shape {
  uint n_in;
  uint n_out;
  uint row_bytes;
  uint grid_x;
  uint first_row;
  uint group_rows;
  uint x_stride;
  uint y_stride;
  uint n_cols;
  uint x_col_stride;
  uint y_col_stride;
} shape;

const uint kCols = 8u;
shared float partial[kCols][64];

// The weights are read as 32-bit words; blocks need not start on one.
uint Byte(uint offset) { return (w[offset >> 2] >> ((offset & 3u) * 8u)) & 0xffu; }
float Half(uint offset) { return unpackHalf2x16(Byte(offset) | (Byte(offset + 1u) << 8)).x; }
float SignedByte(uint offset) { return float(bitfieldExtract(int(Byte(offset)), 0, 8)); }

// Q4_K and Q5_K: sub-block j's 6-bit scale and min, packed into 12 bytes at `at`.
vec2 ScaleMinK4(uint at, uint j) {
  if (j < 4u) return vec2(float(Byte(at + j) & 63u), float(Byte(at + j + 4u) & 63u));
  const uint lo = Byte(at + j + 4u);
  return vec2(float((lo & 0xfu) | ((Byte(at + j - 4u) >> 6) << 4)), float((lo >> 4) | ((Byte(at + j) >> 6) << 4)));
}

// Element k of the row at row_offset, dequantized. The block layouts are GGUF's.
float Weight(uint row_offset, uint k) {
#if defined(TYPE_F32)
  return uintBitsToFloat(w[(row_offset >> 2) + k]);
#elif defined(TYPE_F16)
  return Half(row_offset + 2u * k);
#elif defined(TYPE_BF16)
  return uintBitsToFloat((Byte(row_offset + 2u * k) | (Byte(row_offset + 2u * k + 1u) << 8)) << 16);
#elif defined(TYPE_Q8_0)
  // 34-byte blocks of 32: an f16 scale, then 32 signed bytes.
  const uint block = row_offset + (k / 32u) * 34u;
  return Half(block) * SignedByte(block + 2u + k % 32u);
#elif defined(TYPE_Q4_0) || defined(TYPE_Q4_1) || defined(TYPE_Q5_0) || defined(TYPE_Q5_1)
  // Blocks of 32: an f16 scale d (Q4_1/Q5_1: then an f16 offset m), Q5: 4 bytes of fifth bits,
  // then 16 bytes; element j < 16 is the low nibble of byte j, element j + 16 its high nibble.
  // Q4_0/Q5_0 values are d·(q - 8) and d·(q - 16); Q4_1/Q5_1 values d·q + m.
#if defined(TYPE_Q4_0)
  const uint block_bytes = 18u, quants = 2u;
#elif defined(TYPE_Q4_1)
  const uint block_bytes = 20u, quants = 4u;
#elif defined(TYPE_Q5_0)
  const uint block_bytes = 22u, quants = 6u;
#else
  const uint block_bytes = 24u, quants = 8u;
#endif
  const uint block = row_offset + (k / 32u) * block_bytes, j = k % 32u;
  uint q = (Byte(block + quants + j % 16u) >> (j < 16u ? 0u : 4u)) & 0xfu;
#if defined(TYPE_Q5_0) || defined(TYPE_Q5_1)
  q |= ((Byte(block + quants - 4u + j / 8u) >> (j % 8u)) & 1u) << 4;
#endif
#if defined(TYPE_Q4_0)
  return Half(block) * (float(q) - 8.0);
#elif defined(TYPE_Q5_0)
  return Half(block) * (float(q) - 16.0);
#else
  return Half(block) * float(q) + Half(block + 2u);
#endif
#elif defined(TYPE_Q2_K)
  // 84-byte blocks of 256: 16 bytes of (min << 4 | scale), 64 of 2-bit quants, d, dmin.
  const uint block = row_offset + (k / 256u) * 84u, e = k % 256u;
  const uint n = e / 128u, g = (e % 128u) / 32u, l = e % 32u;
  const uint sm = Byte(block + 8u * n + 2u * g + l / 16u);
  const uint q = (Byte(block + 16u + 32u * n + l) >> (2u * g)) & 3u;
  return Half(block + 80u) * float(sm & 0xfu) * float(q) - Half(block + 82u) * float(sm >> 4);
#elif defined(TYPE_Q3_K)
  // 110-byte blocks of 256: 32 bytes of high bits, 64 of 2-bit quants, 12 of packed 6-bit
  // scales, d. A quant is its 2 bits, less 4 where its high bit is clear; scales are less 32.
  const uint block = row_offset + (k / 256u) * 110u, e = k % 256u;
  const uint n = e / 128u, g = (e % 128u) / 32u, l = e % 32u, s = 8u * n + 2u * g + l / 16u;
  const uint low = s < 8u ? Byte(block + 96u + s) & 0xfu : Byte(block + 96u + s - 8u) >> 4;
  const uint high = (Byte(block + 96u + 8u + s % 4u) >> (2u * (s / 4u))) & 3u;
  const float scale = float(int(low | (high << 4)) - 32);
  int q = int((Byte(block + 32u + 32u * n + l) >> (2u * g)) & 3u);
  if ((Byte(block + l) & (1u << (4u * n + g))) == 0u) q -= 4;
  return Half(block + 108u) * scale * float(q);
#elif defined(TYPE_Q4_K) || defined(TYPE_Q5_K)
  // Q4_K: 144-byte blocks of 256: d, dmin, 12 bytes of 6-bit scales and mins, 128 of nibbles
  // (32 bytes per 64 elements: low nibbles first). Q5_K: 176 bytes, 32 bytes of fifth bits
  // before the nibbles. Values d·scale·q - dmin·min.
#if defined(TYPE_Q4_K)
  const uint block = row_offset + (k / 256u) * 144u, nibbles = 16u;
#else
  const uint block = row_offset + (k / 256u) * 176u, nibbles = 48u;
#endif
  const uint e = k % 256u, j = e / 64u, l = e % 64u, sub = 2u * j + l / 32u;
  uint q = (Byte(block + nibbles + 32u * j + l % 32u) >> (l < 32u ? 0u : 4u)) & 0xfu;
#if defined(TYPE_Q5_K)
  q |= ((Byte(block + 16u + l % 32u) >> sub) & 1u) << 4;
#endif
  const vec2 sm = ScaleMinK4(block + 4u, sub);
  return Half(block) * sm.x * float(q) - Half(block + 2u) * sm.y;
#elif defined(TYPE_Q6_K)
  // 210-byte blocks of 256: 128 bytes of low nibbles, 64 of 2-bit highs, 16 signed scales, d.
  // Values d·scale·(q - 32).
  const uint block = row_offset + (k / 256u) * 210u, e = k % 256u;
  const uint n = e / 128u, g = (e % 128u) / 32u, l = e % 32u;
  const uint low = (Byte(block + 64u * n + l + 32u * (g & 1u)) >> (g < 2u ? 0u : 4u)) & 0xfu;
  const uint high = (Byte(block + 128u + 32u * n + l) >> (2u * g)) & 3u;
  const float scale = SignedByte(block + 192u + 8u * n + l / 16u + 2u * g);
  return Half(block + 208u) * scale * float(int(low | (high << 4)) - 32);
#else
#error "define one weight type"
#endif
}

void main() {
  const uint row = gl_WorkGroupID.y * shape.grid_x + gl_WorkGroupID.x;
  const uint lane = gl_LocalInvocationID.x, group = row / shape.group_rows;
  const uint col0 = gl_WorkGroupID.z * kCols, n_here = min(kCols, shape.n_cols - col0);
  float sums[kCols];
  for (uint c = 0u; c < kCols; ++c) sums[c] = 0.0;
  if (row < shape.n_out) {
    const uint row_offset = (shape.first_row + row) * shape.row_bytes;
    const uint x_base = col0 * shape.x_col_stride + group * shape.x_stride;
    for (uint k = lane; k < shape.n_in; k += 64u) {
      const float weight = Weight(row_offset, k);
      for (uint c = 0u; c < kCols; ++c) {  // unrolled: the sums stay in registers
        if (c < n_here) sums[c] += weight * x[x_base + c * shape.x_col_stride + k];
      }
    }
  }
  for (uint c = 0u; c < kCols; ++c) partial[c][lane] = sums[c];
  barrier();
  for (uint half_width = 32u; half_width > 0u; half_width >>= 1) {
    if (lane < half_width) {
      for (uint c = 0u; c < kCols; ++c) partial[c][lane] += partial[c][lane + half_width];
    }
    barrier();
  }
  if (lane < n_here && row < shape.n_out) {
    y[(col0 + lane) * shape.y_col_stride + group * shape.y_stride + row % shape.group_rows] = partial[lane][0];
  }
}
