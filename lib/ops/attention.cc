// attention.cc — FlashAttention (tiled, online softmax) and ExactAttention (whole score rows).
#include "ops/attention.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <limits>

#include "kernels/attention_kernels.h"
#include "quant/quant_kernels.h"

namespace r1 {
namespace {

constexpr int64_t kMaxRows = 32;  // query rows (token, head) per tile
constexpr int64_t kFewUnits = 8;   // below this many tiles, chunks are shared among threads
// The softmax of every row is formed per chunk of this many cached positions, aligned to
// position 0, and the chunks merged in order. So a row's arithmetic depends only on its
// position and the cache, never on how many tokens share the call or how the work is split:
// a prompt and the same tokens decoded one by one give the same bits. (A multiple of every
// block size.)
constexpr int64_t kChunkPositions = 256;

// Cached positions per tile: the f32 key and value tiles stay within ~32 KiB together (L1).
int64_t BlockPositions(int64_t k_dim) { return std::clamp<int64_t>(4096 / std::max<int64_t>(k_dim, 1) / 16 * 16, 16, 64); }

uint64_t ElementOffsetBytes(DType type, int64_t elements) { return *RowBytes(type, static_cast<uint64_t>(elements)); }

// Which rows a work unit covers: tokens t0 .. t0 + nt - 1 times heads h0 .. h0 + nh - 1 (all
// of KV head g), token-major.
struct Unit {
  int64_t t0, nt, g, h0, nh;
  int64_t rows() const { return nt * nh; }
};

// How a call is cut into units, and whether units' chunks are shared among threads.
struct Plan {
  int64_t group, head_tile, n_head_tiles, token_tile, n_token_tiles, n_units, n_chunks;
  bool shared_chunks;
  int64_t chunks_per_range, n_ranges;  // when shared: each unit's chunks in contiguous ranges

  Plan(const AttentionShape& s, int64_t n_tokens, int64_t n_kv, int n_threads) {
    group = s.n_heads / s.n_kv_heads;
    head_tile = std::min(group, kMaxRows);
    n_head_tiles = (group + head_tile - 1) / head_tile;
    token_tile = std::max<int64_t>(1, kMaxRows / head_tile);
    n_token_tiles = (n_tokens + token_tile - 1) / token_tile;
    n_units = n_token_tiles * s.n_kv_heads * n_head_tiles;
    n_chunks = (n_kv + kChunkPositions - 1) / kChunkPositions;
    // Few units (decode): each unit's chunks are cut into contiguous ranges, about four per
    // thread, that the threads claim as they come free; every chunk's partial result is kept
    // and the unit's are merged in order afterwards, so the cut never changes the bits.
    shared_chunks = n_units < kFewUnits && n_chunks > 1;
    const int64_t want_ranges = shared_chunks ? (4 * n_threads + n_units - 1) / n_units : 1;
    chunks_per_range = (n_chunks + want_ranges - 1) / std::min(want_ranges, n_chunks);
    n_ranges = (n_chunks + chunks_per_range - 1) / chunks_per_range;
  }

  // Heavy units first (the last tokens see the most positions) so dynamic claiming balances.
  Unit Get(int64_t u, int64_t n_tokens, const AttentionShape& s) const {
    const int64_t per_tile = s.n_kv_heads * n_head_tiles;
    const int64_t tile = n_token_tiles - 1 - u / per_tile;
    const int64_t g = (u % per_tile) / n_head_tiles, ht = u % n_head_tiles;
    Unit unit;
    unit.t0 = tile * token_tile;
    unit.nt = std::min(token_tile, n_tokens - unit.t0);
    unit.g = g;
    unit.h0 = g * group + ht * head_tile;
    unit.nh = std::min(head_tile, group - ht * head_tile);
    return unit;
  }
};

// Softmax partial results of up to kMaxRows rows: unnormalized weighted sums of values, the
// running maxima and the denominators.
struct Partial {
  float *acc, *m, *l;
  Partial(float* base, int64_t v_dim) : acc(base), m(base + kMaxRows * v_dim), l(m + kMaxRows) {}
  static int64_t Floats(int64_t v_dim) { return kMaxRows * (v_dim + 2); }
  void Clear(int64_t n_rows, int64_t v_dim) const {
    std::fill_n(acc, n_rows * v_dim, 0.0f);
    std::fill_n(m, n_rows, -std::numeric_limits<float>::infinity());
    std::fill_n(l, n_rows, 0.0f);
  }
};

// One thread's tile buffers inside AttentionScratch::tiles: a block of keys and values as f32,
// the unit's queries, scores, the current chunk's partial and the merged one.
struct Tiles {
  float *k, *v, *q, *s;
  Partial chunk, merged;
  Tiles(float* base, int64_t block, int64_t k_dim, int64_t v_dim)
      : k(base),
        v(k + block * k_dim),
        q(v + block * v_dim),
        s(q + kMaxRows * k_dim),
        chunk(s + kMaxRows * block, v_dim),
        merged(chunk.acc + Partial::Floats(v_dim), v_dim) {}
  static int64_t Floats(int64_t block, int64_t k_dim, int64_t v_dim) {
    return block * (k_dim + v_dim) + kMaxRows * (k_dim + block) + 2 * Partial::Floats(v_dim);
  }
};

// Folds rows of chunk partial `c` into `into` (both n_rows rows): both are rescaled to the
// larger maximum and added. Merging into a cleared partial copies `c` exactly.
void MergePartial(const Partial& into, const Partial& c, int64_t n_rows, int64_t v_dim, const FloatKernels& fk) {
  for (int64_t r = 0; r < n_rows; ++r) {
    if (c.l[r] == 0.0f) continue;  // the chunk saw nothing of this row
    const float m = std::max(into.m[r], c.m[r]);
    const float w_into = std::exp(into.m[r] - m), w_c = std::exp(c.m[r] - m);
    float* acc = into.acc + r * v_dim;
    fk.scale(acc, w_into, static_cast<size_t>(v_dim));
    fk.axpy(w_c, c.acc + r * v_dim, acc, static_cast<size_t>(v_dim));
    into.l[r] = into.l[r] * w_into + c.l[r] * w_c;
    into.m[r] = m;
  }
}

// Copies the unit's query rows into t.q.
void LoadQueries(const float* q, const AttentionShape& s, const Unit& u, const Tiles& t) {
  for (int64_t i = 0; i < u.nt; ++i) {
    for (int64_t h = 0; h < u.nh; ++h) {
      std::copy_n(q + (u.t0 + i) * s.q_stride + (u.h0 + h) * s.k_dim, s.k_dim, t.q + (i * u.nh + h) * s.k_dim);
    }
  }
}

// Runs one unit (queries in t.q) over the cached positions of chunk `c`, leaving its partial
// result in p.
void AttendChunk(const KvRows& k, const KvRows& v, int64_t pos0, int64_t n_kv, const AttentionShape& s, const Unit& u,
                 int64_t c, int64_t block, const Tiles& t, const Partial& p, const OpContext& ctx) {
  const int64_t j_begin = c * kChunkPositions;
  const int64_t j_end = std::min({n_kv, pos0 + u.t0 + u.nt, j_begin + kChunkPositions});
  const AttentionKernels& ak = GetAttentionKernels(ctx.isa);
  const auto k_to_float = GetQuantKernels(ctx.isa, k.type)->to_float;
  const auto v_to_float = GetQuantKernels(ctx.isa, v.type)->to_float;
  const int64_t n_rows = u.rows();
  const uint64_t k_off = ElementOffsetBytes(k.type, u.g * s.k_dim);
  const uint64_t v_off = ElementOffsetBytes(v.type, u.g * s.v_dim);
  // Values that are the leading part of the key rows (MLA's latent) come from the key tile.
  const bool v_in_k = s.values_in_keys;
  const float* v_tile = v_in_k ? t.k : t.v;
  const int64_t v_tile_stride = v_in_k ? s.k_dim : s.v_dim;

  p.Clear(n_rows, s.v_dim);

  for (int64_t j0 = j_begin; j0 < j_end; j0 += block) {
    const int64_t nb = std::min(block, j_end - j0);
    for (int64_t j = 0; j < nb; ++j) {
      k_to_float(k.data + static_cast<uint64_t>(j0 + j) * k.row_bytes + k_off, t.k + j * s.k_dim, s.k_dim);
      if (!v_in_k) {
        v_to_float(v.data + static_cast<uint64_t>(j0 + j) * v.row_bytes + v_off, t.v + j * s.v_dim, s.v_dim);
      }
    }
    ak.scores(t.q, s.k_dim, n_rows, t.k, s.k_dim, nb, s.k_dim, s.scale, t.s, block);
    for (int64_t r = 0; r < n_rows; ++r) {
      float* sr = t.s + r * block;
      // Causal limit of this row's token within the block.
      const int64_t seen = std::min(n_kv, pos0 + u.t0 + r / u.nh + 1);
      const int64_t n = std::clamp<int64_t>(seen - j0, 0, nb);
      if (n == 0) {
        std::fill_n(sr, nb, 0.0f);
        continue;
      }
      const float m_new = std::max(p.m[r], ak.max(sr, n));
      if (std::isinf(m_new) && m_new < 0) {  // every score -inf (non-finite cache values): no weight
        std::fill_n(sr, nb, 0.0f);
        continue;
      }
      const float correction = std::exp(p.m[r] - m_new);  // 0 on the first block (m = -inf)
      const float sum = ak.exp_sum(sr, n, m_new);
      std::fill(sr + n, sr + nb, 0.0f);
      if (correction != 1.0f) ctx.kernels->scale(p.acc + r * s.v_dim, correction, static_cast<size_t>(s.v_dim));
      p.l[r] = p.l[r] * correction + sum;
      p.m[r] = m_new;
    }
    ak.accumulate(t.s, block, n_rows, v_tile, v_tile_stride, nb, s.v_dim, p.acc, s.v_dim);
  }
}

// Writes the unit's normalized rows of `p` to out.
void WriteRows(const Partial& p, float* out, const AttentionShape& s, const Unit& u, const FloatKernels& fk) {
  for (int64_t r = 0; r < u.rows(); ++r) {
    float* o = out + (u.t0 + r / u.nh) * s.out_stride + (u.h0 + r % u.nh) * s.v_dim;
    std::copy_n(p.acc + r * s.v_dim, s.v_dim, o);
    fk.scale(o, p.l[r] > 0 ? 1.0f / p.l[r] : 0.0f, static_cast<size_t>(s.v_dim));
  }
}

}  // namespace

void AttentionScratch::Reserve(int threads, bool flash, int64_t keys, int64_t values, int64_t exact_ctx) {
  n_threads = threads;
  k_dim = flash ? keys : 0;
  v_dim = flash ? values : 0;
  block = BlockPositions(k_dim);
  thread_floats = flash ? Tiles::Floats(block, k_dim, v_dim) : 0;
  tiles.assign(static_cast<size_t>(thread_floats * threads), 0.0f);
  scores_stride = exact_ctx;
  scores.assign(static_cast<size_t>(exact_ctx * threads), 0.0f);
}

namespace {

// Grows the scratch when a call needs more than was reserved (a caller that reserved for other
// shapes); the session's own calls always fit.
void FitFlash(AttentionScratch& scratch, int n_threads, int64_t k_dim, int64_t v_dim) {
  if (scratch.k_dim >= k_dim && scratch.v_dim >= v_dim && scratch.n_threads >= n_threads) return;
  const int64_t exact_ctx = scratch.scores_stride;
  std::vector<float> scores = std::move(scratch.scores);
  scratch.Reserve(std::max(n_threads, scratch.n_threads), true, std::max(k_dim, scratch.k_dim),
                  std::max(v_dim, scratch.v_dim), 0);
  scratch.scores_stride = exact_ctx;
  scratch.scores = std::move(scores);
}

void FitExact(AttentionScratch& scratch, int n_threads, int64_t n_kv) {
  if (scratch.scores_stride >= n_kv && scratch.n_threads >= n_threads) return;
  scratch.n_threads = std::max(n_threads, scratch.n_threads);
  scratch.scores_stride = std::max(n_kv, scratch.scores_stride);
  scratch.scores.assign(static_cast<size_t>(scratch.scores_stride * scratch.n_threads), 0.0f);
}

}  // namespace

void FlashAttention(const float* q, const KvRows& k, const KvRows& v, float* out, int64_t n_tokens, int64_t pos0,
                    int64_t n_kv, const AttentionShape& s, AttentionScratch& scratch, OpContext& ctx) {
  if (n_kv <= 0 || n_tokens <= 0) return;
  const int n_threads = ctx.pool->n_threads();
  FitFlash(scratch, n_threads, s.k_dim, s.v_dim);
  const int64_t block = scratch.block;
  const FloatKernels& fk = *ctx.kernels;
  const Plan plan(s, n_tokens, n_kv, n_threads);
  const int64_t n_items = plan.shared_chunks ? plan.n_units * plan.n_ranges : plan.n_units;
  const int64_t part_floats = Partial::Floats(s.v_dim);
  const size_t all_floats = static_cast<size_t>(plan.n_units * plan.n_chunks * part_floats);
  if (plan.shared_chunks && scratch.partials.size() < all_floats) {
    scratch.partials.resize(std::max(all_floats, 2 * scratch.partials.size()));  // rarely, as the cache grows
  }
  // Each unit's chunks, merged in order as a single thread would have, by whichever thread
  // finishes the unit's last chunk (no second pass over the pool).
  const auto merge_unit = [&](const Tiles& t, int64_t unit) {
    const Unit u = plan.Get(unit, n_tokens, s);
    t.merged.Clear(u.rows(), s.v_dim);
    for (int64_t c = 0; c < plan.n_chunks; ++c) {
      MergePartial(t.merged, Partial(scratch.partials.data() + (unit * plan.n_chunks + c) * part_floats, s.v_dim),
                   u.rows(), s.v_dim, fk);
    }
    WriteRows(t.merged, out, s, u, fk);
  };
  std::array<std::atomic<int64_t>, kFewUnits> chunks_done{};
  std::atomic<int64_t> next{0};
  ctx.pool->ParallelFor(static_cast<size_t>(n_threads), 1, [&](size_t, size_t, int thread) {
    const Tiles t(scratch.tiles.data() + thread * scratch.thread_floats, block, scratch.k_dim, scratch.v_dim);
    for (int64_t item; (item = next.fetch_add(1, std::memory_order_relaxed)) < n_items;) {
      if (plan.shared_chunks) {  // a range of one unit's chunks, each kept for the merge
        const int64_t unit = item / plan.n_ranges, r = item % plan.n_ranges;
        const Unit u = plan.Get(unit, n_tokens, s);
        const int64_t c_begin = r * plan.chunks_per_range;
        const int64_t c_end = std::min(plan.n_chunks, c_begin + plan.chunks_per_range);
        LoadQueries(q, s, u, t);
        for (int64_t c = c_begin; c < c_end; ++c) {
          const Partial kept(scratch.partials.data() + (unit * plan.n_chunks + c) * part_floats, s.v_dim);
          if (c * kChunkPositions >= std::min(n_kv, pos0 + u.t0 + u.nt)) {
            kept.Clear(u.rows(), s.v_dim);  // past every row's causal limit
          } else {
            AttendChunk(k, v, pos0, n_kv, s, u, c, block, t, kept, ctx);
          }
        }
        // acq_rel: the merging thread sees every chunk's partial.
        if (chunks_done[size_t(unit)].fetch_add(c_end - c_begin, std::memory_order_acq_rel) + (c_end - c_begin) ==
            plan.n_chunks) {
          merge_unit(t, unit);
        }
        continue;
      }
      const Unit u = plan.Get(item, n_tokens, s);
      const int64_t n_seen = std::min(n_kv, pos0 + u.t0 + u.nt);
      LoadQueries(q, s, u, t);
      t.merged.Clear(u.rows(), s.v_dim);
      for (int64_t c = 0; c * kChunkPositions < n_seen; ++c) {
        AttendChunk(k, v, pos0, n_kv, s, u, c, block, t, t.chunk, ctx);
        MergePartial(t.merged, t.chunk, u.rows(), s.v_dim, fk);
      }
      WriteRows(t.merged, out, s, u, fk);
    }
  });
}

void ExactAttention(const float* q, const KvRows& k, const KvRows& v, float* out, int64_t n_tokens, int64_t pos0,
                    int64_t n_kv, const AttentionShape& s, AttentionScratch& scratch, OpContext& ctx) {
  const FloatKernels& fk = *ctx.kernels;
  FitExact(scratch, ctx.pool->n_threads(), n_kv);
  const int64_t group = s.n_heads / s.n_kv_heads;
  const int64_t k_stride = static_cast<int64_t>(k.row_bytes / sizeof(float));
  const int64_t v_stride = static_cast<int64_t>(v.row_bytes / sizeof(float));
  const float* kf = reinterpret_cast<const float*>(k.data);
  const float* vf = reinterpret_cast<const float*>(v.data);
  const size_t n_items = static_cast<size_t>(n_tokens * s.n_heads);
  ctx.pool->ParallelFor(n_items, 1, [&](size_t b, size_t e, int thread) {
    float* scores = scratch.scores.data() + static_cast<size_t>(thread) * static_cast<size_t>(scratch.scores_stride);
    for (size_t item = b; item < e; ++item) {
      const int64_t t = static_cast<int64_t>(item) / s.n_heads, h = static_cast<int64_t>(item) % s.n_heads;
      const int64_t g = h / group;
      const int64_t n_seen = std::min(n_kv, pos0 + t + 1);
      const float* qh = q + t * s.q_stride + h * s.k_dim;
      for (int64_t j = 0; j < n_seen; ++j) scores[j] = fk.dot(qh, kf + j * k_stride + g * s.k_dim, s.k_dim) * s.scale;
      fk.softmax(scores, static_cast<size_t>(n_seen));
      float* oh = out + t * s.out_stride + h * s.v_dim;
      std::fill(oh, oh + s.v_dim, 0.0f);
      for (int64_t j = 0; j < n_seen; ++j) fk.axpy(scores[j], vf + j * v_stride + g * s.v_dim, oh, s.v_dim);
    }
  });
}

void Attention(const float* q, const KvRows& k, const KvRows& v, float* out, int64_t n_tokens, int64_t pos0,
               int64_t n_kv, const AttentionShape& s, AttentionScratch& scratch, OpContext& ctx) {
  if (k.type == DType::kF32) {
    ExactAttention(q, k, v, out, n_tokens, pos0, n_kv, s, scratch, ctx);
  } else {
    FlashAttention(q, k, v, out, n_tokens, pos0, n_kv, s, scratch, ctx);
  }
}

}  // namespace r1
