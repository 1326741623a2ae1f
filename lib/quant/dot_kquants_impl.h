// dot_kquants_impl.h — vec_dot of the K types with Q8_K activations.
//
// Per super-block the quants are unpacked to unsigned bytes, multiplied with the activation
// bytes into 16-bit pair sums, and those are multiplied by the 16-bit group scales into 32-bit
// lanes (with VNNI, multiplied and added in one vpdpwssd): the super-block's integer dot
// product, exact. Offsets (Q3_K's -4, Q6_K's -32) and
// mins (Q2_K, Q4_K, Q5_K) are applied through Q8_K's per-16 bsums. One f32 multiply-add per
// super-block then adds it to the running sum. With AVX-512, Q4_K, Q5_K and Q6_K take 64 quants
// per register; with VNNI, Q4_K and Q5_K sum four products per lane in one vpdpbusd and scale two
// such registers, packed to 16 bits, in one vpdpwssd. Q4_K and Q6_K (Q5_K with AVX-512) also
// take several activation rows at once (vec_dot_tokens, a batched decode step), unpacking each
// block once. Other ISAs use the reference.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/simd_arch.h"
#include "quant/x86_util_impl.h"
#include "r1/quant/reference.h"

namespace r1::R1_SIMD_NS::qk {

using quant::BlockQ2_K;
using quant::BlockQ3_K;
using quant::BlockQ4_K;
using quant::BlockQ5_K;
using quant::BlockQ6_K;
using quant::BlockQ8_K;
using quant::kQK_K;

namespace kq {

// The 6-bit scales (bytes 0..7) and mins (bytes 8..15) of a Q4_K / Q5_K block, as four
// little-endian words.
struct Words {
  uint32_t w[4];
};
inline Words UnpackK4(const uint8_t packed[12]) {
  uint32_t a[3];
  std::memcpy(a, packed, 12);
  return {{a[0] & 0x3f3f3f3fu, (a[2] & 0x0f0f0f0fu) | (((a[0] >> 6) & 0x03030303u) << 4),
           a[1] & 0x3f3f3f3fu, ((a[2] >> 4) & 0x0f0f0f0fu) | (((a[1] >> 6) & 0x03030303u) << 4)}};
}

// The 16 Q3_K group scales plus 32 (so in [0, 63]), as four little-endian words.
inline Words UnpackQ3K(const uint8_t packed[12]) {
  uint32_t a[3];
  std::memcpy(a, packed, 12);
  return {{(a[0] & 0x0f0f0f0fu) | (((a[2] >> 0) & 0x03030303u) << 4),
           (a[1] & 0x0f0f0f0fu) | (((a[2] >> 2) & 0x03030303u) << 4),
           ((a[0] >> 4) & 0x0f0f0f0fu) | (((a[2] >> 4) & 0x03030303u) << 4),
           ((a[1] >> 4) & 0x0f0f0f0fu) | (((a[2] >> 6) & 0x03030303u) << 4)}};
}

inline uint8_t WordByte(const Words& v, int j) {
  return static_cast<uint8_t>(v.w[j / 4] >> (8 * (j % 4)));
}

}  // namespace kq

#if defined(R1_QUANT_X86)

namespace kq {

// The words in a register, built from general registers: storing them to memory and loading
// 16 bytes back would stall on store forwarding.
inline __m128i ToVec(const Words& v) {
  return _mm_set_epi32(static_cast<int>(v.w[3]), static_cast<int>(v.w[2]), static_cast<int>(v.w[1]),
                       static_cast<int>(v.w[0]));
}

// 16 int8 (or uint8) values widened to int16, the same 8 (of `half`) in both 128-bit halves.
inline __m256i BroadcastHalfI16(__m256i i16, int half) {
  return half == 0 ? _mm256_permute2x128_si256(i16, i16, 0x00)
                   : _mm256_permute2x128_si256(i16, i16, 0x11);
}

// acc + the 32-bit sums of pairs of 16-bit products p16 ⊙ scales16: one vpdpwssd with VNNI.
inline __m256i AddScaledPairs(__m256i acc, __m256i p16, __m256i scales16) {
#if defined(R1_SIMD_AVX512VNNI)
  return _mm256_dpwssd_epi32(acc, p16, scales16);
#else
  return _mm256_add_epi32(acc, _mm256_madd_epi16(p16, scales16));
#endif
}

}  // namespace kq

inline float VecDotQ2_K(int64_t n, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ2_K*>(vw);
  const auto* x = static_cast<const BlockQ8_K*>(vx);
  const __m256i m3 = _mm256_set1_epi8(3);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float dall = x[i].d * HalfToFloat(w[i].d);
    const float dmin = x[i].d * HalfToFloat(w[i].dmin);
    const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w[i].scales));
    const __m256i mins =
        _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sc8, 4), _mm_set1_epi8(0x0f)));
    const __m256i scales = _mm256_cvtepu8_epi16(_mm_and_si128(sc8, _mm_set1_epi8(0x0f)));
    const __m256i summ = _mm256_madd_epi16(Load256(x[i].bsums), mins);
    acc = _mm256_fnmadd_ps(_mm256_set1_ps(dmin), _mm256_cvtepi32_ps(summ), acc);

    const int8_t* q8 = x[i].qs;
    __m256i sumi = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i q2 = Load256(w[i].qs + 32 * h);
      const __m256i sc = kq::BroadcastHalfI16(scales, h);
      for (int k = 0; k < 4; ++k, q8 += 32) {
        const __m256i u = _mm256_and_si256(_mm256_srli_epi16(q2, 2 * k), m3);
        const __m256i p = _mm256_maddubs_epi16(u, Load256(q8));
        sumi = kq::AddScaledPairs(sumi, p, PickSplit(sc, k));
      }
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(dall), _mm256_cvtepi32_ps(sumi), acc);
  }
  return HsumF32(acc);
}

inline float VecDotQ3_K(int64_t n, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ3_K*>(vw);
  const auto* x = static_cast<const BlockQ8_K*>(vx);
  const __m256i m3 = _mm256_set1_epi8(3), m4 = _mm256_set1_epi8(4);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = HalfToFloat(w[i].d) * x[i].d;
    const __m128i sc8 = _mm_sub_epi8(kq::ToVec(kq::UnpackQ3K(w[i].scales)), _mm_set1_epi8(32));
    const __m256i scales = _mm256_cvtepi8_epi16(sc8);
    // The quants are stored as u = q + 4 in [0, 7]; Σ s_g Σ q y = Σ s_g Σ u y - 4 Σ s_g bsum_g.
    const __m256i offset = _mm256_slli_epi32(_mm256_madd_epi16(Load256(x[i].bsums), scales), 2);
    const __m256i hm = Load256(w[i].hmask);
    const int8_t* q8 = x[i].qs;
    __m256i sumi = _mm256_sub_epi32(_mm256_setzero_si256(), offset);
    for (int h = 0; h < 2; ++h) {
      const __m256i q3 = Load256(w[i].qs + 32 * h);
      const __m256i sc = kq::BroadcastHalfI16(scales, h);
      for (int k = 0; k < 4; ++k, q8 += 32) {
        const int bit = 4 * h + k;  // hmask bit of this 32-element group, moved to bit 2
        const __m256i hb =
            bit >= 2 ? _mm256_srli_epi16(hm, bit - 2) : _mm256_slli_epi16(hm, 2 - bit);
        const __m256i u = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q3, 2 * k), m3),
                                          _mm256_and_si256(hb, m4));
        const __m256i p = _mm256_maddubs_epi16(u, Load256(q8));
        sumi = kq::AddScaledPairs(sumi, p, PickSplit(sc, k));
      }
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
  }
  return HsumF32(acc);
}

namespace kq {

// UnpackK4 in a register: the 8 scales in bytes 0..7, the 8 mins in bytes 8..15. Reads 16
// bytes from `packed`; the 4 past the 12 are the block's quants, ignored. (Unpacking with
// general registers cost a fifth of the Q4_K kernel's time.)
//   bytes j < 4:  scale = q[j] & 63,                          min = q[j + 4] & 63
//   bytes j >= 4: scale = (q[j + 4] & 15) | (q[j - 4] >> 6) << 4, min = (q[j + 4] >> 4) | (q[j] >> 6) << 4
inline __m128i UnpackK4Vec(const uint8_t* packed) {
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(packed));
  // a = [q0..q3, q8..q11, q4..q7, q8..q11]; b = [0, q0..q3, 0, q4..q7] (-1 selects zero)
  const __m128i a = _mm_shuffle_epi8(q, _mm_setr_epi8(0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11));
  const __m128i b = _mm_shuffle_epi8(q, _mm_setr_epi8(-1, -1, -1, -1, 0, 1, 2, 3, -1, -1, -1, -1, 4, 5, 6, 7));
  const __m128i low = _mm_and_si128(a, _mm_setr_epi8(63, 63, 63, 63, 15, 15, 15, 15, 63, 63, 63, 63, 0, 0, 0, 0));
  const __m128i high_nibbles =
      _mm_and_si128(_mm_srli_epi16(a, 4), _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 15, 15, 15, 15));
  const __m128i top_bits = _mm_srli_epi16(_mm_and_si128(b, _mm_set1_epi8(static_cast<char>(0xc0))), 2);
  return _mm_or_si128(_mm_or_si128(low, high_nibbles), top_bits);
}

// Shared by Q4_K and Q5_K (v from UnpackK4Vec): adds the min term of one activation row to
// `acc_min` (subtracted at the end)…
inline void AddMinsK4(__m128i v, const BlockQ8_K& x, float dmin, __m256* acc_min) {
  // Each min covers two bsums (32 elements).
  const __m256i mins = _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(v, v));
  const __m256i summ = _mm256_madd_epi16(Load256(x.bsums), mins);
  *acc_min = _mm256_fmadd_ps(_mm256_set1_ps(dmin), _mm256_cvtepi32_ps(summ), *acc_min);
}
// …and the 8 group scales as int16 in both 128-bit halves.
inline __m256i ScalesK4(__m128i v) { return _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(v)); }

// The unpacked scales of block i + 1 while block i is summed: unpacking takes a few shuffles in
// a row, and starting them a block early took the Q4_K kernel from 24 to 26 GB/s from cache.
template <class Block>
struct NextScalesK4 {
  const Block* w;
  int64_t nb;
  __m128i next;
  NextScalesK4(const Block* blocks, int64_t n_blocks)
      : w(blocks), nb(n_blocks), next(n_blocks > 0 ? UnpackK4Vec(blocks[0].scales) : _mm_setzero_si128()) {}
  __m128i Take(int64_t i) {
    const __m128i v = next;
    if (i + 1 < nb) next = UnpackK4Vec(w[i + 1].scales);
    return v;
  }
};

}  // namespace kq

#if defined(R1_SIMD_AVX512)

namespace kq {
// Byte masks for _mm512_shuffle_epi8 on a register whose four 128-bit lanes hold the same eight
// 16-bit scales: scale 2k in every 16-bit lane of the low 256 bits, 2k + 1 in the high 256.
struct alignas(64) PickPairMask {
  uint8_t bytes[64];
};
constexpr PickPairMask MakePickPair(int k) {
  PickPairMask m{};
  for (int i = 0; i < 64; ++i) m.bytes[i] = static_cast<uint8_t>(2 * (i < 32 ? 2 * k : 2 * k + 1) + (i & 1));
  return m;
}
inline constexpr PickPairMask kPickPair[4] = {MakePickPair(0), MakePickPair(1), MakePickPair(2), MakePickPair(3)};

// Byte masks for _mm512_shuffle_epi8 on the eight 16-bit scales (in every 128-bit lane) that
// match _mm512_packs_epi32(P_2m, P_2m+1) of two registers of 4-product sums (vpdpbusd of the
// unpacked quants of k = 2m and 2m + 1 with their activations): in 128-bit lane L, int16
// positions 0..3 come from P_2m (group 4m + (L >= 2)), 4..7 from P_2m+1 (group 4m + 2 + (L >= 2)).
constexpr PickPairMask MakePickPacked(int m) {
  PickPairMask mask{};
  for (int i = 0; i < 64; ++i) {
    const int lane = i / 16, pos = (i % 16) / 2;
    const int group = 4 * m + 2 * (pos / 4) + (lane >= 2 ? 1 : 0);
    mask.bytes[i] = static_cast<uint8_t>(2 * group + (i & 1));
  }
  return mask;
}
inline constexpr PickPairMask kPickPacked[2] = {MakePickPacked(0), MakePickPacked(1)};

inline __m512i AddScaledPairs512(__m512i acc, __m512i p16, __m512i scales16) {
#if defined(R1_SIMD_AVX512VNNI)
  return _mm512_dpwssd_epi32(acc, p16, scales16);
#else
  return _mm512_add_epi32(acc, _mm512_madd_epi16(p16, scales16));
#endif
}
}  // namespace kq

// A Q4_K or Q5_K row against NX activation rows (x, x + x_stride, …): each block's quants are
// loaded and unpacked and its scales picked once for all of them. With 512-bit registers each 32
// bytes of quants become one register of 64 values: the low nibbles (one group of 32) below, the
// high nibbles (the next group) above, matching 64 contiguous activation bytes; Q5_K adds bit 4
// of group g from bit g of qh. Per row and block, the scaled sums' two halves are added as
// integers and the min term takes the upper half of the register, so one conversion and one
// multiply-add per row and block carry both (d in lanes 0..7, -dmin in 8..15): the work a
// row costs beyond its products, which a batched step pays once per row. Per activation row
// the integer sums and the f32 operations are exactly those of NX = 1, so every result has the
// bits vec_dot gives it.
template <class Block, int NX>
inline void DotK4(int64_t n, const Block* w, const uint8_t* x, uint64_t x_stride, float* out, int64_t out_stride) {
  const auto xb = [&](int t) { return reinterpret_cast<const BlockQ8_K*>(x + static_cast<uint64_t>(t) * x_stride); };
  const __m512i m4 = _mm512_set1_epi8(0x0f);
  // Lanes 0..7 from lanes 8..15 of the first operand, lanes 8..15 from lanes 0..7 of the second.
  const __m512i upper_then_second = _mm512_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23);
  __m512 acc[NX];
  for (int t = 0; t < NX; ++t) acc[t] = _mm512_setzero_ps();
  kq::NextScalesK4<Block> unpacked(w, n / kQK_K);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const __m512 wscale = _mm512_insertf32x8(_mm512_set1_ps(HalfToFloat(w[i].d)),
                                             _mm256_set1_ps(-HalfToFloat(w[i].dmin)), 1);
    const __m128i v = unpacked.Take(i);
    const __m256i mins = _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(v, v));  // each covers two bsums
    const __m512i scales = _mm512_broadcast_i32x4(_mm_cvtepu8_epi16(v));
    __m512i u[4];  // groups 2k (low 256 bits) and 2k + 1 (high)
    [[maybe_unused]] __m512i qh;
    if constexpr (std::is_same_v<Block, BlockQ5_K>) qh = _mm512_broadcast_i64x4(Load256(w[i].qh));
    for (int k = 0; k < 4; ++k) {
      const __m512i q4 = _mm512_broadcast_i64x4(Load256(w[i].qs + 32 * k));
      u[k] = _mm512_and_si512(_mm512_mask_srli_epi16(q4, 0xffff0000u, q4, 4), m4);
      if constexpr (std::is_same_v<Block, BlockQ5_K>) {
        // Groups 2k (low half) and 2k + 1 (high half): bits 2k and 2k + 1 of qh to bit 4.
        const __m512i hbit = _mm512_and_si512(
            _mm512_mask_srli_epi16(_mm512_srli_epi16(qh, 2 * k), 0xffff0000u, qh, 2 * k + 1), _mm512_set1_epi8(1));
        u[k] = _mm512_or_si512(u[k], _mm512_slli_epi16(hbit, 4));
      }
    }
    __m512i sumi[NX];  // per row, the block's Σ scale · q · x in 16 lanes (exact)
#if defined(R1_SIMD_AVX512VNNI)
    // Each 64 bytes in one vpdpbusd (sums of 4 products, at most 4 * 31 * 128 in magnitude, so
    // an int16 holds them), two registers of those packed to 16 bits and scaled in one vpdpwssd:
    // six multiplies per row and block where pairs-then-scales take eight.
    const __m512i sc01 = _mm512_shuffle_epi8(scales, _mm512_load_si512(kq::kPickPacked[0].bytes));
    const __m512i sc23 = _mm512_shuffle_epi8(scales, _mm512_load_si512(kq::kPickPacked[1].bytes));
    for (int t = 0; t < NX; ++t) {
      const int8_t* q8 = xb(t)[i].qs;
      __m512i quad[4];
      for (int k = 0; k < 4; ++k) quad[k] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u[k], _mm512_loadu_si512(q8 + 64 * k));
      sumi[t] = _mm512_dpwssd_epi32(_mm512_setzero_si512(), _mm512_packs_epi32(quad[0], quad[1]), sc01);
      sumi[t] = _mm512_dpwssd_epi32(sumi[t], _mm512_packs_epi32(quad[2], quad[3]), sc23);
    }
#else
    // One row alone keeps two sums, so each chain of dependent multiply-adds is two long, not
    // four; several rows are chains enough. The integer sums are the same values either way.
    constexpr bool kTwoSums = NX == 1;
    __m512i sumi_odd[NX];
    for (int t = 0; t < NX; ++t) sumi[t] = sumi_odd[t] = _mm512_setzero_si512();
    for (int k = 0; k < 4; ++k) {
      const __m512i sc = _mm512_shuffle_epi8(scales, _mm512_load_si512(kq::kPickPair[k].bytes));
      for (int t = 0; t < NX; ++t) {
        const __m512i p = _mm512_maddubs_epi16(u[k], _mm512_loadu_si512(xb(t)[i].qs + 64 * k));
        __m512i& sum = kTwoSums && k % 2 == 1 ? sumi_odd[t] : sumi[t];
        sum = kq::AddScaledPairs512(sum, p, sc);
      }
    }
    if constexpr (kTwoSums) sumi[0] = _mm512_add_epi32(sumi[0], sumi_odd[0]);
#endif
    for (int t = 0; t < NX; ++t) {
      const __m512i s = sumi[t];
      const __m256i m = _mm256_madd_epi16(Load256(xb(t)[i].bsums), mins);
      // [upper half of s | m], then the lower half of s added below: [s_lo + s_hi | m].
      const __m512i upper_m = _mm512_permutex2var_epi32(s, upper_then_second, _mm512_castsi256_si512(m));
      const __m512i sm = _mm512_mask_add_epi32(upper_m, 0x00ff, upper_m, s);
      const __m512 scale = _mm512_mul_ps(wscale, _mm512_set1_ps(xb(t)[i].d));
      acc[t] = _mm512_fmadd_ps(scale, _mm512_cvtepi32_ps(sm), acc[t]);
    }
  }
  for (int t = 0; t < NX; ++t) {
    out[t * out_stride] = HsumF32(_mm256_add_ps(_mm512_castps512_ps256(acc[t]), _mm512_extractf32x8_ps(acc[t], 1)));
  }
}

template <int NX>
inline void DotQ4_K(int64_t n, const BlockQ4_K* w, const uint8_t* x, uint64_t x_stride, float* out,
                    int64_t out_stride) {
  DotK4<BlockQ4_K, NX>(n, w, x, x_stride, out, out_stride);
}

#else

// Q4_K row against NX activation rows (x, x + x_stride, …): each block's quants are loaded and
// unpacked and its scales picked once for all of them. Per activation row the integer sums and
// the f32 operations are exactly those of NX = 1, so every result has the bits vec_dot gives it.
template <int NX>
inline void DotQ4_K(int64_t n, const BlockQ4_K* w, const uint8_t* x, uint64_t x_stride, float* out,
                    int64_t out_stride) {
  const auto xb = [&](int t) { return reinterpret_cast<const BlockQ8_K*>(x + static_cast<uint64_t>(t) * x_stride); };
  const __m256i m4 = _mm256_set1_epi8(0x0f);
  __m256 acc[NX], acc_min[NX];
  for (int t = 0; t < NX; ++t) acc[t] = acc_min[t] = _mm256_setzero_ps();
  kq::NextScalesK4<BlockQ4_K> unpacked(w, n / kQK_K);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float wd = HalfToFloat(w[i].d), wdmin = HalfToFloat(w[i].dmin);
    const __m128i v = unpacked.Take(i);
    for (int t = 0; t < NX; ++t) kq::AddMinsK4(v, xb(t)[i], wdmin * xb(t)[i].d, &acc_min[t]);
    const __m256i scales = kq::ScalesK4(v);
    // Two sums per row: each chain of dependent multiply-adds is then four long, not eight.
    __m256i sumi[NX], sumi_hi[NX];
    for (int t = 0; t < NX; ++t) sumi[t] = sumi_hi[t] = _mm256_setzero_si256();
    for (int k = 0; k < 4; ++k) {
      const __m256i q4 = Load256(w[i].qs + 32 * k);
      const __m256i lo = _mm256_and_si256(q4, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q4, 4), m4);
      const __m256i sc_lo = PickSame(scales, 2 * k), sc_hi = PickSame(scales, 2 * k + 1);
      for (int t = 0; t < NX; ++t) {
        const int8_t* q8 = xb(t)[i].qs + 64 * k;
        sumi[t] = kq::AddScaledPairs(sumi[t], _mm256_maddubs_epi16(lo, Load256(q8)), sc_lo);
        sumi_hi[t] = kq::AddScaledPairs(sumi_hi[t], _mm256_maddubs_epi16(hi, Load256(q8 + 32)), sc_hi);
      }
    }
    for (int t = 0; t < NX; ++t) {
      const __m256 sum = _mm256_cvtepi32_ps(_mm256_add_epi32(sumi[t], sumi_hi[t]));
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(wd * xb(t)[i].d), sum, acc[t]);
    }
  }
  for (int t = 0; t < NX; ++t) out[t * out_stride] = HsumF32(_mm256_sub_ps(acc[t], acc_min[t]));
}

#endif  // R1_SIMD_AVX512

inline float VecDotQ4_K(int64_t n, const void* w, const void* x) {
  float out;
  DotQ4_K<1>(n, static_cast<const BlockQ4_K*>(w), static_cast<const uint8_t*>(x), 0, &out, 0);
  return out;
}

#if defined(R1_SIMD_AVX512)

template <int NX>
inline void DotQ5_K(int64_t n, const BlockQ5_K* w, const uint8_t* x, uint64_t x_stride, float* out,
                    int64_t out_stride) {
  DotK4<BlockQ5_K, NX>(n, w, x, x_stride, out, out_stride);
}

inline float VecDotQ5_K(int64_t n, const void* w, const void* x) {
  float out;
  DotQ5_K<1>(n, static_cast<const BlockQ5_K*>(w), static_cast<const uint8_t*>(x), 0, &out, 0);
  return out;
}

#else

inline float VecDotQ5_K(int64_t n, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ5_K*>(vw);
  const auto* x = static_cast<const BlockQ8_K*>(vx);
  const __m256i m4 = _mm256_set1_epi8(0x0f), b0 = _mm256_set1_epi8(1), b1 = _mm256_set1_epi8(2);
  __m256 acc = _mm256_setzero_ps(), acc_min = _mm256_setzero_ps();
  kq::NextScalesK4<BlockQ5_K> unpacked(w, n / kQK_K);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = HalfToFloat(w[i].d) * x[i].d;
    const float dmin = HalfToFloat(w[i].dmin) * x[i].d;
    const __m128i v = unpacked.Take(i);
    kq::AddMinsK4(v, x[i], dmin, &acc_min);
    const __m256i scales = kq::ScalesK4(v);
    // Bits 2k and 2k + 1 of qh are bit 4 of groups 2k and 2k + 1; shifting by 2 per k keeps
    // them at bits 0 and 1 (16-bit shifts pull bits of the next byte in only above bit 5).
    __m256i hbits = Load256(w[i].qh);
    const int8_t* q8 = x[i].qs;
    // Two sums: each chain of dependent multiply-adds is then four long, not eight.
    __m256i sumi = _mm256_setzero_si256(), sumi_hi = _mm256_setzero_si256();
    for (int k = 0; k < 4; ++k, q8 += 64) {
      const __m256i q5 = Load256(w[i].qs + 32 * k);
      const __m256i lo = _mm256_or_si256(_mm256_and_si256(q5, m4),
                                         _mm256_slli_epi16(_mm256_and_si256(hbits, b0), 4));
      const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q5, 4), m4),
                                         _mm256_slli_epi16(_mm256_and_si256(hbits, b1), 3));
      hbits = _mm256_srli_epi16(hbits, 2);
      const __m256i p_lo = _mm256_maddubs_epi16(lo, Load256(q8));
      const __m256i p_hi = _mm256_maddubs_epi16(hi, Load256(q8 + 32));
      sumi = kq::AddScaledPairs(sumi, p_lo, PickSame(scales, 2 * k));
      sumi_hi = kq::AddScaledPairs(sumi_hi, p_hi, PickSame(scales, 2 * k + 1));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(_mm256_add_epi32(sumi, sumi_hi)), acc);
  }
  return HsumF32(_mm256_sub_ps(acc, acc_min));
}

#endif  // R1_SIMD_AVX512

#if defined(R1_SIMD_AVX512)

namespace kq {
// Byte masks for _mm512_shuffle_epi8 on a register whose four 128-bit lanes hold the same eight
// 16-bit scales: scale first + L in every 16-bit lane of 128-bit lane L.
constexpr PickPairMask MakePickPerLane(int first) {
  PickPairMask m{};
  for (int i = 0; i < 64; ++i) m.bytes[i] = static_cast<uint8_t>(2 * (first + i / 16) + (i & 1));
  return m;
}
inline constexpr PickPairMask kPickPerLane[2] = {MakePickPerLane(0), MakePickPerLane(4)};
}  // namespace kq

// Q6_K row against NX activation rows, as DotQ4_K: the quants are unpacked once, and each
// result has the bits of NX = 1. A 512-bit register holds 64 quants of 16-element groups; in
// each half (128 elements) the low 4 bits of quants 0..63 are the low nibbles of ql[0..63] and
// of quants 64..127 its high nibbles, with 2 bits each from qh[0..31].
template <int NX>
inline void DotQ6_K(int64_t n, const BlockQ6_K* w, const uint8_t* x, uint64_t x_stride, float* out,
                    int64_t out_stride) {
  const auto xb = [&](int t) { return reinterpret_cast<const BlockQ8_K*>(x + static_cast<uint64_t>(t) * x_stride); };
  constexpr __mmask32 kLow = 0x0000ffffu, kHigh = 0xffff0000u;  // 16-bit lanes of each 256-bit half
  const __m512i m4 = _mm512_set1_epi8(0x0f);
  // qh bits of quants 0..31 (bits 0-1) and 32..63 (bits 2-3); of 64..95 (4-5) and 96..127 (6-7).
  const __m512i h_first = _mm512_mask_blend_epi64(0xf0, _mm512_set1_epi8(0x03), _mm512_set1_epi8(0x0c));
  const __m512i h_second = _mm512_mask_blend_epi64(0xf0, _mm512_set1_epi8(0x30), _mm512_set1_epi8(static_cast<char>(0xc0)));
  __m256 acc[NX];
  for (int t = 0; t < NX; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float wd = HalfToFloat(w[i].d);
    const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w[i].scales));
    const __m256i scales = _mm256_cvtepi8_epi16(sc8);
    // The quants are stored as u = q + 32 in [0, 63]; Σ s_g Σ q y = Σ s_g Σ u y - 32 Σ s_g bsum_g.
    __m256i offset[NX];
    __m512i sumi[NX], sumi_odd[NX];
    for (int t = 0; t < NX; ++t) {
      offset[t] = _mm256_slli_epi32(_mm256_madd_epi16(Load256(xb(t)[i].bsums), scales), 5);
      sumi[t] = sumi_odd[t] = _mm512_setzero_si512();
    }
    for (int h = 0; h < 2; ++h) {
      const __m512i ql = _mm512_loadu_si512(w[i].ql + 64 * h);
      const __m512i qh = _mm512_broadcast_i64x4(Load256(w[i].qh + 32 * h));
      const __m512i hf = _mm512_and_si512(qh, h_first), hs = _mm512_and_si512(qh, h_second);
      const __m512i u_first = _mm512_or_si512(_mm512_and_si512(ql, m4),
                                              _mm512_mask_slli_epi16(_mm512_slli_epi16(hf, 2), kLow, hf, 4));
      const __m512i u_second = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), m4),
                                               _mm512_mask_srli_epi16(hs, kHigh, hs, 2));
      const __m512i sc = _mm512_broadcast_i32x4(h == 0 ? _mm256_castsi256_si128(scales) : _mm256_extracti128_si256(scales, 1));
      const __m512i sc_first = _mm512_shuffle_epi8(sc, _mm512_load_si512(kq::kPickPerLane[0].bytes));
      const __m512i sc_second = _mm512_shuffle_epi8(sc, _mm512_load_si512(kq::kPickPerLane[1].bytes));
      for (int t = 0; t < NX; ++t) {
        const int8_t* q8 = xb(t)[i].qs + 128 * h;
        sumi[t] = kq::AddScaledPairs512(sumi[t], _mm512_maddubs_epi16(u_first, _mm512_loadu_si512(q8)), sc_first);
        sumi_odd[t] = kq::AddScaledPairs512(sumi_odd[t], _mm512_maddubs_epi16(u_second, _mm512_loadu_si512(q8 + 64)), sc_second);
      }
    }
    for (int t = 0; t < NX; ++t) {
      const __m512i s = _mm512_add_epi32(sumi[t], sumi_odd[t]);
      const __m256i s256 = _mm256_sub_epi32(
          _mm256_add_epi32(_mm512_castsi512_si256(s), _mm512_extracti64x4_epi64(s, 1)), offset[t]);
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(wd * xb(t)[i].d), _mm256_cvtepi32_ps(s256), acc[t]);
    }
  }
  for (int t = 0; t < NX; ++t) out[t * out_stride] = HsumF32(acc[t]);
}

#else

// Q6_K row against NX activation rows, as DotQ4_K: the quants are unpacked once, and each
// result has the bits of NX = 1.
template <int NX>
inline void DotQ6_K(int64_t n, const BlockQ6_K* w, const uint8_t* x, uint64_t x_stride, float* out,
                    int64_t out_stride) {
  const auto xb = [&](int t) { return reinterpret_cast<const BlockQ8_K*>(x + static_cast<uint64_t>(t) * x_stride); };
  const __m256i m4 = _mm256_set1_epi8(0x0f);
  const __m256i h01 = _mm256_set1_epi8(0x03), h23 = _mm256_set1_epi8(0x0c),
                h45 = _mm256_set1_epi8(0x30), h67 = _mm256_set1_epi8(static_cast<char>(0xc0));
  __m256 acc[NX];
  for (int t = 0; t < NX; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float wd = HalfToFloat(w[i].d);
    const __m256i scales =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[i].scales)));
    // The quants are stored as u = q + 32 in [0, 63]; Σ s_g Σ q y = Σ s_g Σ u y - 32 Σ s_g bsum_g.
    __m256i sumi[NX], sumi_hi[NX];
    for (int t = 0; t < NX; ++t) {
      const __m256i offset = _mm256_slli_epi32(_mm256_madd_epi16(Load256(xb(t)[i].bsums), scales), 5);
      sumi[t] = _mm256_sub_epi32(_mm256_setzero_si256(), offset);
      sumi_hi[t] = _mm256_setzero_si256();
    }
    for (int h = 0; h < 2; ++h) {
      const __m256i ql0 = Load256(w[i].ql + 64 * h);
      const __m256i ql1 = Load256(w[i].ql + 64 * h + 32);
      const __m256i qh = Load256(w[i].qh + 32 * h);
      const __m256i sc = kq::BroadcastHalfI16(scales, h);
      const __m256i u0 = _mm256_or_si256(_mm256_and_si256(ql0, m4),
                                         _mm256_slli_epi16(_mm256_and_si256(qh, h01), 4));
      const __m256i u1 = _mm256_or_si256(_mm256_and_si256(ql1, m4),
                                         _mm256_slli_epi16(_mm256_and_si256(qh, h23), 2));
      const __m256i u2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                                         _mm256_and_si256(qh, h45));
      const __m256i u3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                                         _mm256_srli_epi16(_mm256_and_si256(qh, h67), 2));
      const __m256i s0 = PickSplit(sc, 0), s1 = PickSplit(sc, 1), s2 = PickSplit(sc, 2), s3 = PickSplit(sc, 3);
      for (int t = 0; t < NX; ++t) {
        const int8_t* q8 = xb(t)[i].qs + 128 * h;
        sumi[t] = kq::AddScaledPairs(sumi[t], _mm256_maddubs_epi16(u0, Load256(q8)), s0);
        sumi_hi[t] = kq::AddScaledPairs(sumi_hi[t], _mm256_maddubs_epi16(u1, Load256(q8 + 32)), s1);
        sumi[t] = kq::AddScaledPairs(sumi[t], _mm256_maddubs_epi16(u2, Load256(q8 + 64)), s2);
        sumi_hi[t] = kq::AddScaledPairs(sumi_hi[t], _mm256_maddubs_epi16(u3, Load256(q8 + 96)), s3);
      }
    }
    for (int t = 0; t < NX; ++t) {
      const __m256 sum = _mm256_cvtepi32_ps(_mm256_add_epi32(sumi[t], sumi_hi[t]));
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(wd * xb(t)[i].d), sum, acc[t]);
    }
  }
  for (int t = 0; t < NX; ++t) out[t * out_stride] = HsumF32(acc[t]);
}

#endif  // R1_SIMD_AVX512

inline float VecDotQ6_K(int64_t n, const void* w, const void* x) {
  float out;
  DotQ6_K<1>(n, static_cast<const BlockQ6_K*>(w), static_cast<const uint8_t*>(x), 0, &out, 0);
  return out;
}

// vec_dot_tokens over a type's Dot<NX>: four activation rows at a time, then the rest.
// dot.template operator()<NX>(x, out) takes NX rows from x and writes NX results from out.
template <class Dot>
inline void DotTokens(const void* vx, uint64_t x_stride, int64_t nx, float* out, int64_t out_stride, Dot&& dot) {
  const auto* x = static_cast<const uint8_t*>(vx);
  for (; nx >= 4; nx -= 4, x += 4 * x_stride, out += 4 * out_stride) dot.template operator()<4>(x, out);
  if (nx == 3) dot.template operator()<3>(x, out);
  if (nx == 2) dot.template operator()<2>(x, out);
  if (nx == 1) dot.template operator()<1>(x, out);
}

inline void VecDotTokensQ4_K(int64_t n, const void* w, const void* x, uint64_t x_stride, int64_t nx, float* out,
                             int64_t out_stride) {
  DotTokens(x, x_stride, nx, out, out_stride, [&]<int NX>(const uint8_t* xs, float* os) {
    DotQ4_K<NX>(n, static_cast<const BlockQ4_K*>(w), xs, x_stride, os, out_stride);
  });
}
#if defined(R1_SIMD_AVX512)
inline void VecDotTokensQ5_K(int64_t n, const void* w, const void* x, uint64_t x_stride, int64_t nx, float* out,
                             int64_t out_stride) {
  DotTokens(x, x_stride, nx, out, out_stride, [&]<int NX>(const uint8_t* xs, float* os) {
    DotQ5_K<NX>(n, static_cast<const BlockQ5_K*>(w), xs, x_stride, os, out_stride);
  });
}
#endif
inline void VecDotTokensQ6_K(int64_t n, const void* w, const void* x, uint64_t x_stride, int64_t nx, float* out,
                             int64_t out_stride) {
  DotTokens(x, x_stride, nx, out, out_stride, [&]<int NX>(const uint8_t* xs, float* os) {
    DotQ6_K<NX>(n, static_cast<const BlockQ6_K*>(w), xs, x_stride, os, out_stride);
  });
}

#else  // generic: the integer-domain reference

inline float VecDotQ2_K(int64_t n, const void* w, const void* x) {
  return quant::ref::VecDotQ2_KQ8_K(n, static_cast<const BlockQ2_K*>(w),
                                    static_cast<const BlockQ8_K*>(x));
}
inline float VecDotQ3_K(int64_t n, const void* w, const void* x) {
  return quant::ref::VecDotQ3_KQ8_K(n, static_cast<const BlockQ3_K*>(w),
                                    static_cast<const BlockQ8_K*>(x));
}
inline float VecDotQ4_K(int64_t n, const void* w, const void* x) {
  return quant::ref::VecDotQ4_KQ8_K(n, static_cast<const BlockQ4_K*>(w),
                                    static_cast<const BlockQ8_K*>(x));
}
inline float VecDotQ5_K(int64_t n, const void* w, const void* x) {
  return quant::ref::VecDotQ5_KQ8_K(n, static_cast<const BlockQ5_K*>(w),
                                    static_cast<const BlockQ8_K*>(x));
}
inline float VecDotQ6_K(int64_t n, const void* w, const void* x) {
  return quant::ref::VecDotQ6_KQ8_K(n, static_cast<const BlockQ6_K*>(w),
                                    static_cast<const BlockQ8_K*>(x));
}

#endif

}  // namespace r1::R1_SIMD_NS::qk
