// matmul.cc — row-parallel matrix products over the per-type quant kernels, and for prompt
// batches an INT8 panel GEMM (AVX-512 VNNI) or a tiled f32 GEMM (oneDNN).
#include "ops/matmul.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "quant/interleaved_kquants.h"
#include "quant/quant_kernels.h"

#ifdef R1_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.h>
extern "C" void omp_set_num_threads(int);  // libgomp, which oneDNN's CPU runtime uses
extern "C" int omp_get_max_threads(void);
#endif

namespace r1 {
namespace {

// Below this many tokens the per-row dots win: a GEMM pays to decode each weight once and only
// amortizes that over many tokens.
// R1_MATMUL_GEMM=0 turns the GEMM paths off, for measuring.
constexpr int64_t kGemmMinTokens = 32;
bool GemmEnabled() {
  static const bool on = [] {
    const char* env = std::getenv("R1_MATMUL_GEMM");
    return env == nullptr || std::string_view(env) != "0";
  }();
  return on;
}
// Dequantized rows per tile (rows x n_in f32). oneDNN packs the activations again on every call,
// so tiles are large enough (in L3, not L2) to make few calls: F16 pp512 measured 57 -> 61 tok/s
// going from 2 to 8 MiB.
constexpr int64_t kTileFloats = int64_t{1} << 21;  // 8 MiB

// Adds bias[r0 + r] to columns r0 + r, r < nr, of every token row of y ([n_tokens, n_out]).
void AddBias(const float* bias, int64_t r0, int64_t nr, int64_t n_tokens, float* y, int64_t n_out) {
  for (int64_t t = 0; t < n_tokens; ++t) {
    float* yt = y + t * n_out + r0;
    for (int64_t r = 0; r < nr; ++r) yt[r] += bias[r0 + r];
  }
}

// Asks for the weight bytes [from + kPrefetchAhead, + bytes) to be brought into L2 (not L1:
// they are needed a row or two later), stopping at `end`. The hardware prefetcher alone does
// not keep enough reads in flight: each row's loads waited on memory, then its arithmetic ran,
// and decode read at about two thirds of the machine's bandwidth. Measured on the 1.5B Q4_K_M
// shape, 2 threads: 15.7 tok/s without, 19.9 with 2 KiB ahead (1 and 8 KiB: 19.2-19.4; into
// L1 instead: slower than none).
constexpr uint64_t kPrefetchAhead = 2048;
void PrefetchAhead(const uint8_t* from, uint64_t bytes, const uint8_t* end) {
  for (const uint8_t* p = from + kPrefetchAhead; p < from + kPrefetchAhead + bytes && p < end; p += 64) {
    __builtin_prefetch(p, 0, 2);
  }
}

void DotRows(const QuantKernels* k, const WeightMatrix& w, const uint8_t* xq, uint64_t x_row_bytes,
             int64_t n_tokens, const float* bias, float* y, size_t b, size_t e);

// Rows [b, e) from the interleaved copy, 16 at a time; rows outside whole groups (a share
// that does not start or end on one) from the rows as they are. Which rows take which path
// depends only on [b, e), never on n_tokens, so a batch keeps each row's bits.
void DotInterleavedRows(const QuantKernels* k, const WeightMatrix& w, const uint8_t* xq, uint64_t x_row_bytes,
                        int64_t n_tokens, const float* bias, float* y, size_t b, size_t e) {
  constexpr size_t kRows = kInterleavedRows;
  const size_t first = std::min(e, (b + kRows - 1) / kRows * kRows), last = std::max(first, e / kRows * kRows);
  const uint64_t group_bytes = InterleavedBytes(w.type, w.n_in);
  const uint8_t* end = w.interleaved + last / kRows * group_bytes;
  for (size_t r0 = first; r0 < last; r0 += kRows) {
    const uint8_t* group = w.interleaved + r0 / kRows * group_bytes;
    PrefetchAhead(group, group_bytes, end);
    k->vec_dot_interleaved(w.n_in, group, xq, x_row_bytes, n_tokens, y + r0, w.n_out);
    if (bias) AddBias(bias, static_cast<int64_t>(r0), kRows, n_tokens, y, w.n_out);
  }
  WeightMatrix rows = w;
  rows.interleaved = nullptr;
  if (b < first) DotRows(k, rows, xq, x_row_bytes, n_tokens, bias, y, b, first);
  if (last < e) DotRows(k, rows, xq, x_row_bytes, n_tokens, bias, y, last, e);
}

void DotRows(const QuantKernels* k, const WeightMatrix& w, const uint8_t* xq, uint64_t x_row_bytes,
             int64_t n_tokens, const float* bias, float* y, size_t b, size_t e) {
  if (w.interleaved != nullptr && k->vec_dot_interleaved != nullptr) {
    DotInterleavedRows(k, w, xq, x_row_bytes, n_tokens, bias, y, b, e);
    return;
  }
  const int64_t n_out = w.n_out;
  // End of this share of rows (callers never pass an empty share).
  const uint8_t* end = w.Row(static_cast<int64_t>(e) - 1) + w.row_bytes;
  if (k->vec_dot_rows != nullptr) {
    // Rows in groups small enough to stay in L1 while every token row passes over them.
    constexpr size_t kGroup = 16;
    for (size_t g = b; g < e; g += kGroup) {
      const int64_t r0 = static_cast<int64_t>(g), nr = static_cast<int64_t>(std::min(e, g + kGroup) - g);
      PrefetchAhead(w.Row(r0), static_cast<uint64_t>(nr) * w.row_bytes, end);
      for (int64_t t = 0; t < n_tokens; ++t) {
        k->vec_dot_rows(w.n_in, w.Row(r0), w.row_bytes, nr, xq + t * x_row_bytes, y + t * n_out + r0);
      }
      if (bias) AddBias(bias, r0, nr, n_tokens, y, n_out);
    }
    return;
  }
  for (size_t o = b; o < e; ++o) {
    const uint8_t* row = w.Row(static_cast<int64_t>(o));
    PrefetchAhead(row, w.row_bytes, end);
    const float bo = bias ? bias[o] : 0.0f;
    float* yo = y + static_cast<int64_t>(o);
    if (n_tokens > 1 && k->vec_dot_tokens != nullptr) {
      // Each weight block unpacked once for all token rows (a batched decode step).
      k->vec_dot_tokens(w.n_in, row, xq, x_row_bytes, n_tokens, yo, n_out);
      for (int64_t t = 0; t < n_tokens; ++t) yo[t * n_out] += bo;  // as below, even + 0
      continue;
    }
    for (int64_t t = 0; t < n_tokens; ++t) yo[t * n_out] = k->vec_dot(w.n_in, row, xq + t * x_row_bytes) + bo;
  }
}

// Rows [b, e) of y for all tokens with the INT8 kernel, 32 rows (two panels) at a time: each
// group is taken from the panels repacked at load or, without them, repacked here into
// `panels`, and then meets every token row. b is a multiple of kInt8GemmMaxRows.
void Int8GemmRows(const Int8GemmKernels* g, const WeightMatrix& w, const Int8Activations& x, int64_t n_tokens,
                  const float* bias, float* y, std::vector<uint8_t>& panels, size_t b, size_t e) {
  const int zero_point = Int8PanelZeroPoint(w.type);
  const size_t panel_bytes = Int8PanelBytes(w.n_in, x.sub);
  if (w.panels == nullptr && panels.size() < 2 * panel_bytes) panels.resize(2 * panel_bytes);
  for (int64_t r0 = static_cast<int64_t>(b); r0 < static_cast<int64_t>(e); r0 += kInt8GemmMaxRows) {
    const int nr = static_cast<int>(std::min<int64_t>(kInt8GemmMaxRows, static_cast<int64_t>(e) - r0));
    const uint8_t* group = panels.data();
    if (w.panels != nullptr) {
      group = w.panels + static_cast<uint64_t>(r0 / kPanelRows) * panel_bytes;
    } else {
      RepackInt8Panels(w.type, w.Row(r0), w.row_bytes, nr, w.n_in, panels.data());
    }
    g->gemm(group, nr, x, zero_point, n_tokens, y + r0, w.n_out);
    if (bias) AddBias(bias, r0, nr, n_tokens, y, w.n_out);
  }
}

void MatMulInt8(const Int8GemmKernels* g, int sub, const WeightMatrix& w, const float* x, int64_t n_tokens,
                const float* bias, float* y, MatMulScratch& scratch, OpContext& ctx) {
  const int64_t k = w.n_in;
  const int64_t n_act = k / Int8ActBlock(sub), n_sub = k / sub;
  // Grown, never shrunk: matrices of different widths alternate within a forward pass.
  const auto reserve = [](auto& v, int64_t n) {
    if (v.size() < static_cast<size_t>(n)) v.resize(static_cast<size_t>(n));
  };
  reserve(scratch.act_q, n_tokens * k);
  reserve(scratch.act_d, n_tokens * n_act);
  reserve(scratch.act_sum, n_tokens * n_sub);
  Int8Activations xa{scratch.act_q.data(), scratch.act_d.data(), scratch.act_sum.data(), k, sub};
  ctx.pool->ParallelFor(static_cast<size_t>(n_tokens), 1, [&](size_t b, size_t e) {
    for (size_t t = b; t < e; ++t) {
      g->quantize(x + t * k, k, sub, scratch.act_q.data() + t * k, scratch.act_d.data() + t * n_act,
                  scratch.act_sum.data() + t * n_sub);
    }
  });
  const size_t n_threads = static_cast<size_t>(ctx.pool->n_threads());
  if (scratch.panels.size() < n_threads) scratch.panels.resize(n_threads);
  ctx.pool->ParallelFor(static_cast<size_t>(w.n_out), kInt8GemmMaxRows, [&](size_t b, size_t e, int t) {
    Int8GemmRows(g, w, xa, n_tokens, bias, y, scratch.panels[static_cast<size_t>(t)], b, e);
  });
}

#ifdef R1_HAVE_ONEDNN
bool GemmRows(const QuantKernels* k, const WeightMatrix& w, const float* x, int64_t n_tokens,
              const float* bias, float* y, std::vector<float>& tile, size_t b, size_t e) {
  // Each pool thread runs its own single-threaded GEMM: the pool already owns the cores. The
  // share on the caller's thread must leave that thread's OpenMP setting as the app had it.
  struct OmpSingleThread {
    int saved = omp_get_max_threads();
    OmpSingleThread() { omp_set_num_threads(1); }
    ~OmpSingleThread() { omp_set_num_threads(saved); }
  } single_thread;
  const int64_t n_in = w.n_in, n_out = w.n_out;
  const int64_t tile_rows = std::max<int64_t>(16, kTileFloats / n_in);
  if (tile.size() < static_cast<size_t>(tile_rows * n_in)) tile.resize(static_cast<size_t>(tile_rows * n_in));
  for (int64_t r0 = static_cast<int64_t>(b); r0 < static_cast<int64_t>(e); r0 += tile_rows) {
    const int64_t nr = std::min<int64_t>(tile_rows, static_cast<int64_t>(e) - r0);
    for (int64_t r = 0; r < nr; ++r) k->to_float(w.Row(r0 + r), tile.data() + r * n_in, n_in);
    // y[:, r0:r0+nr] = x [n_tokens, n_in] * tile^T [n_in, nr]
    if (dnnl_sgemm('N', 'T', n_tokens, nr, n_in, 1.0f, x, n_in, tile.data(), n_in, 0.0f, y + r0, n_out) !=
        dnnl_success) {
      return false;
    }
    if (bias) AddBias(bias, r0, nr, n_tokens, y, n_out);
  }
  return true;
}
#endif

// Whether a batch goes to the prompt-batch engines. Their reductions run in other orders than
// the per-row dots, so a batch-invariant session keeps every batch on the dots.
bool UseGemm(int64_t n_tokens, const OpContext& ctx) {
  return n_tokens >= kGemmMinTokens && !ctx.batch_invariant && GemmEnabled();
}

// The prompt-batch paths; false when none applies to w's type.
bool TryGemm(const WeightMatrix& w, const float* x, int64_t n_tokens, const float* bias, float* y,
             MatMulScratch& scratch, OpContext& ctx) {
  // Interleaved rows take prompt batches through their dots, about as fast as the INT8 GEMM
  // (1.5B Q4_K_M, 2 threads: pp128 280 against 219 tok/s, pp512 270 against 277) and without
  // reading the file's rows again, which the copy let go.
  if (w.interleaved != nullptr && GetQuantKernels(ctx.isa, w.type)->vec_dot_interleaved != nullptr) return false;
  const Int8GemmKernels* int8 = GetInt8GemmKernels(ctx.isa);
  const int sub = Int8PanelSubBlock(w.type);
  if (int8 != nullptr && sub != 0) {
    MatMulInt8(int8, sub, w, x, n_tokens, bias, y, scratch, ctx);
    return true;
  }
#ifdef R1_HAVE_ONEDNN
  const QuantKernels* k = GetQuantKernels(ctx.isa, w.type);
  const size_t n_threads = static_cast<size_t>(ctx.pool->n_threads());
  if (scratch.tiles.size() < n_threads) scratch.tiles.resize(n_threads);
  std::atomic<bool> ok{true};
  ctx.pool->ParallelFor(static_cast<size_t>(w.n_out), 16, [&](size_t b, size_t e, int t) {
    if (!GemmRows(k, w, x, n_tokens, bias, y, scratch.tiles[static_cast<size_t>(t)], b, e)) ok.store(false);
  });
  return ok.load();  // oneDNN refused (it never should for these shapes): the dots redo it
#else
  (void)bias, (void)y, (void)scratch;
  return false;
#endif
}

// Token rows of x converted to each product's vec_dot_type, back to back in scratch.converted.
constexpr int kMaxShared = 3;
struct DotInputs {
  const QuantKernels* kernels[kMaxShared];
  const uint8_t* x[kMaxShared];
  uint64_t row_bytes[kMaxShared];
};

DotInputs ConvertForDots(const MatMulPart* parts, int n_parts, const float* x, int64_t n_in, int64_t n_tokens,
                         MatMulScratch& scratch, OpContext& ctx) {
  DotInputs in{};
  size_t offsets[kMaxShared] = {};
  size_t need = 0;
  for (int p = 0; p < n_parts; ++p) {
    in.kernels[p] = GetQuantKernels(ctx.isa, parts[p].w->type);
    in.row_bytes[p] = *RowBytes(in.kernels[p]->vec_dot_type, static_cast<uint64_t>(n_in));
    offsets[p] = need;
    if (in.kernels[p]->vec_dot_type != DType::kF32) need += static_cast<size_t>(in.row_bytes[p]) * n_tokens;
  }
  if (scratch.converted.size() < need) scratch.converted.resize(need);
  for (int p = 0; p < n_parts; ++p) {
    const bool as_is = in.kernels[p]->vec_dot_type == DType::kF32;
    in.x[p] = as_is ? reinterpret_cast<const uint8_t*>(x) : scratch.converted.data() + offsets[p];
  }
  ctx.pool->ParallelFor(static_cast<size_t>(n_tokens), 1, [&](size_t b, size_t e) {
    for (int p = 0; p < n_parts; ++p) {
      if (in.kernels[p]->vec_dot_type == DType::kF32) continue;
      uint8_t* dst = scratch.converted.data() + offsets[p];
      for (size_t t = b; t < e; ++t) in.kernels[p]->from_float(x + t * n_in, dst + t * in.row_bytes[p], n_in);
    }
  });
  return in;
}

// Calls fn(b, e) on chunks of `chunk` rows of [0, n), which the pool's threads claim in turn
// until none is left: a thread slowed by other work on its core takes fewer chunks instead of
// holding the others up at the end of the job. Decode measured a little faster and steadier
// than fixed shares (Q8_0, 2 threads: 16.9 vs 16.2 tok/s, mean of three runs each).
template <typename Fn>
void ForEachChunk(OpContext& ctx, size_t n, size_t chunk, Fn&& fn) {
  const size_t n_chunks = (n + chunk - 1) / chunk;
  std::atomic<size_t> next{0};
  const size_t n_claimers = std::min<size_t>(n_chunks, static_cast<size_t>(ctx.pool->n_threads()));
  ctx.pool->ParallelFor(n_claimers, 1, [&](size_t, size_t) {
    for (size_t c = next.fetch_add(1, std::memory_order_relaxed); c < n_chunks;
         c = next.fetch_add(1, std::memory_order_relaxed)) {
      fn(c * chunk, std::min(n, (c + 1) * chunk));
    }
  });
}
constexpr size_t kDecodeChunk = 256;

// Every row of up to kMaxShared products with the same input, as one job of row chunks: a
// decode step hands the pool one job, not one per product.
void DotsJob(const MatMulPart* parts, int n_parts, const float* x, int64_t n_tokens, MatMulScratch& scratch,
             OpContext& ctx) {
  const DotInputs in = ConvertForDots(parts, n_parts, x, parts[0].w->n_in, n_tokens, scratch, ctx);
  size_t total = 0;
  for (int p = 0; p < n_parts; ++p) total += static_cast<size_t>(parts[p].w->n_out);
  ForEachChunk(ctx, total, kDecodeChunk, [&](size_t b, size_t e) {
    size_t first = 0;
    for (int p = 0; p < n_parts; ++p) {
      const MatMulPart& part = parts[p];
      const size_t last = first + static_cast<size_t>(part.w->n_out);
      const size_t lo = std::max(b, first), hi = std::min(e, last);
      if (lo < hi) DotRows(in.kernels[p], *part.w, in.x[p], in.row_bytes[p], n_tokens, part.bias, part.y, lo - first, hi - first);
      first = last;
    }
  });
}

}  // namespace

void MatMul(const WeightMatrix& w, const float* x, int64_t n_tokens, const float* bias, float* y,
            MatMulScratch& scratch, OpContext& ctx) {
  const MatMulPart part{&w, bias, y};
  MatMulShared(&part, 1, x, n_tokens, scratch, ctx);
}

void MatMulShared(const MatMulPart* parts, int n_parts, const float* x, int64_t n_tokens, MatMulScratch& scratch,
                  OpContext& ctx) {
  if (ctx.observer != nullptr) {
    for (int p = 0; p < n_parts; ++p) ctx.observer->OnProduct(*parts[p].w, x, n_tokens);
  }
  if (UseGemm(n_tokens, ctx)) {
    for (int p = 0; p < n_parts; ++p) {
      if (!TryGemm(*parts[p].w, x, n_tokens, parts[p].bias, parts[p].y, scratch, ctx)) {
        DotsJob(&parts[p], 1, x, n_tokens, scratch, ctx);
      }
    }
    return;
  }
  for (int p = 0; p < n_parts; p += kMaxShared) DotsJob(parts + p, std::min(kMaxShared, n_parts - p), x, n_tokens, scratch, ctx);
}

void MatMulSwiGlu(const WeightMatrix& gate, const WeightMatrix& up, const float* x, int64_t n_tokens, float* out,
                  float* up_out, MatMulScratch& scratch, OpContext& ctx) {
  const int64_t n_ff = gate.n_out;
  const MatMulPart parts[] = {{&gate, nullptr, out}, {&up, nullptr, up_out}};
  if (UseGemm(n_tokens, ctx)) {
    MatMulShared(parts, 2, x, n_tokens, scratch, ctx);  // tells the observer
    ctx.kernels->silu_mul(out, up_out, out, static_cast<size_t>(n_tokens * n_ff));
    return;
  }
  // Each thread takes the same rows of both and gates them at once: one job, no second pass.
  if (ctx.observer != nullptr) {
    ctx.observer->OnProduct(gate, x, n_tokens);
    ctx.observer->OnProduct(up, x, n_tokens);
  }
  const DotInputs in = ConvertForDots(parts, 2, x, gate.n_in, n_tokens, scratch, ctx);
  ForEachChunk(ctx, static_cast<size_t>(n_ff), kDecodeChunk, [&](size_t b, size_t e) {
    DotRows(in.kernels[0], gate, in.x[0], in.row_bytes[0], n_tokens, nullptr, out, b, e);
    DotRows(in.kernels[1], up, in.x[1], in.row_bytes[1], n_tokens, nullptr, up_out, b, e);
    for (int64_t t = 0; t < n_tokens; ++t) {
      float* g = out + t * n_ff + static_cast<int64_t>(b);
      ctx.kernels->silu_mul(g, up_out + t * n_ff + static_cast<int64_t>(b), g, e - b);
    }
  });
}

void GetRows(const WeightMatrix& table, const int32_t* tokens, int64_t n_tokens, float* out, OpContext& ctx) {
  const QuantKernels* k = GetQuantKernels(ctx.isa, table.type);
  for (int64_t t = 0; t < n_tokens; ++t) k->to_float(table.Row(tokens[t]), out + t * table.n_in, table.n_in);
}

}  // namespace r1
