// attention_bench — the attention op alone at a given cache depth, for tuning its kernels.
//
//   attention_bench [--depth 4096] [--heads 12] [--kv-heads 2] [--dim 128] [--tokens 1]
//                   [--threads 2] [--cache f16|q8_0|f32] [--reps 200]
// Prints microseconds per call and the cache bytes read per second. Defaults: one decode step
// of one R1-Distill-Qwen-1.5B layer after 4,096 tokens.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/float_kernels.h"
#include "ops/attention.h"
#include "quant/quant_kernels.h"
#include "runtime/thread_pool.h"

int main(int argc, char** argv) {
  int64_t depth = 4096, heads = 12, kv_heads = 2, dim = 128, tokens = 1, reps = 200;
  int threads = 2;
  std::string cache = "f16";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const char* v = argv[i + 1];
    if (flag == "--depth") depth = std::atoll(v);
    else if (flag == "--heads") heads = std::atoll(v);
    else if (flag == "--kv-heads") kv_heads = std::atoll(v);
    else if (flag == "--dim") dim = std::atoll(v);
    else if (flag == "--tokens") tokens = std::atoll(v);
    else if (flag == "--threads") threads = std::atoi(v);
    else if (flag == "--reps") reps = std::atoll(v);
    else if (flag == "--cache") cache = v;
    else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  if (depth < 0 || heads <= 0 || kv_heads <= 0 || heads % kv_heads != 0 || dim <= 0 || tokens <= 0 || threads <= 0 ||
      threads > 256 || reps <= 0) {
    std::fprintf(stderr, "bad arguments\n");
    return 2;
  }
  const r1::DType type = cache == "q8_0" ? r1::DType::kQ8_0 : cache == "f32" ? r1::DType::kF32 : r1::DType::kF16;
  const r1::Isa isa = r1::DefaultIsa();
  const r1::QuantKernels* qk = r1::GetQuantKernels(isa, type);
  const int64_t n_kv = depth + tokens, width = kv_heads * dim;
  const uint64_t row_bytes = *r1::RowBytes(type, static_cast<uint64_t>(width));

  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> row(static_cast<size_t>(width)), q(static_cast<size_t>(tokens * heads * dim));
  for (float& x : q) x = dist(rng);
  std::vector<uint8_t> k(static_cast<size_t>(n_kv) * row_bytes), v(k.size());
  for (int64_t p = 0; p < n_kv; ++p) {
    for (float& x : row) x = dist(rng);
    qk->from_float(row.data(), k.data() + static_cast<uint64_t>(p) * row_bytes, width);
    for (float& x : row) x = dist(rng);
    qk->from_float(row.data(), v.data() + static_cast<uint64_t>(p) * row_bytes, width);
  }
  std::vector<float> out(static_cast<size_t>(tokens * heads * dim));

  r1::ThreadPool pool(threads);
  r1::OpContext ctx;
  ctx.isa = isa;
  ctx.kernels = &r1::GetFloatKernels(isa);
  ctx.pool = &pool;
  r1::AttentionScratch scratch;
  const bool exact = type == r1::DType::kF32;
  scratch.Reserve(threads, !exact, dim, dim, exact ? n_kv : 0);
  const r1::AttentionShape shape{heads, kv_heads, dim, dim, heads * dim, heads * dim, 0.088f};
  const r1::KvRows k_rows{k.data(), type, row_bytes}, v_rows{v.data(), type, row_bytes};

  r1::Attention(q.data(), k_rows, v_rows, out.data(), tokens, depth, n_kv, shape, scratch, ctx);  // warm-up
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t r = 0; r < reps; ++r) {
    r1::Attention(q.data(), k_rows, v_rows, out.data(), tokens, depth, n_kv, shape, scratch, ctx);
  }
  const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / reps;
  std::printf("%s cache, depth %lld, %lld tokens, heads %lld/%lld, dim %lld, %d threads (%s): %.1f us per call, "
              "%.1f GB/s of cache\n",
              cache.c_str(), static_cast<long long>(depth), static_cast<long long>(tokens),
              static_cast<long long>(heads), static_cast<long long>(kv_heads), static_cast<long long>(dim), threads,
              std::string(r1::IsaName(isa)).c_str(), us, 2.0 * static_cast<double>(n_kv * row_bytes) / us / 1e3);
  return 0;
}
