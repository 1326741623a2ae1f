// dot_bench — the per-row dot kernels of one weight type on every ISA this CPU runs, from cache:
// nanoseconds per weight row for 1 activation row (vec_dot) and for 2 and 4 at once
// (vec_dot_tokens, a batched decode step), for tuning them.
//
//   dot_bench [--type Q4_K] [--n 1536] [--rows 256] [--reps 200]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/isa.h"
#include "quant/quant_kernels.h"
#include "r1/quant/reference.h"
#include "quant/quant_test_util.h"
#include "support/test_util.h"

int main(int argc, char** argv) {
  std::string type_name = "Q4_K";
  int64_t n = 1536, rows = 256, reps = 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--type") type_name = argv[i + 1];
    else if (flag == "--n") n = std::atoll(argv[i + 1]);
    else if (flag == "--rows") rows = std::atoll(argv[i + 1]);
    else if (flag == "--reps") reps = std::atoll(argv[i + 1]);
    else {
      std::fprintf(stderr, "dot_bench: unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  std::optional<r1::DType> type;
  for (r1::DType t : r1::quant::test::kWeightTypes) {
    if (type_name == r1::DTypeName(t)) type = t;
  }
  if (!type || n <= 0 || rows <= 0 || reps <= 0 || n % r1::Traits(*type).block_size != 0) {
    std::fprintf(stderr, "dot_bench: a weight type and n a multiple of its block size\n");
    return 2;
  }
  const uint64_t row_bytes = *r1::RowBytes(*type, static_cast<uint64_t>(n));
  std::vector<uint8_t> w;
  for (int64_t r = 0; r < rows; ++r) {
    const auto row = r1::quant::test::RandomWeightRow(*type, n, static_cast<uint64_t>(r));
    w.insert(w.end(), row.begin(), row.end());
  }
  std::printf("| isa | %s, n = %lld: ns per row, 1 token | 2 tokens | 4 tokens |\n|---|---|---|---|\n",
              type_name.c_str(), static_cast<long long>(n));
  for (r1::Isa isa : r1::SupportedIsas()) {
    const r1::QuantKernels* k = r1::GetQuantKernels(isa, *type);
    const uint64_t x_bytes = *r1::RowBytes(k->vec_dot_type, static_cast<uint64_t>(n));
    std::vector<uint8_t> x(4 * x_bytes);
    for (int t = 0; t < 4; ++t) {
      const auto xf = r1::test::RandomFloats(static_cast<size_t>(n), static_cast<uint64_t>(t) + 1, -2.0f, 2.0f);
      r1::quant::ref::QuantizeRow(k->vec_dot_type, xf.data(), x.data() + t * x_bytes, n);
    }
    std::vector<float> y(static_cast<size_t>(4 * rows));
    std::printf("| %s |", std::string(r1::IsaName(isa)).c_str());
    for (int nx : {1, 2, 4}) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int64_t rep = 0; rep < reps; ++rep) {
        for (int64_t r = 0; r < rows; ++r) {
          const uint8_t* wr = w.data() + r * row_bytes;
          if (k->vec_dot_tokens != nullptr) {
            k->vec_dot_tokens(n, wr, x.data(), x_bytes, nx, y.data() + r, rows);
          } else {
            for (int t = 0; t < nx; ++t) y[static_cast<size_t>(t * rows + r)] = k->vec_dot(n, wr, x.data() + t * x_bytes);
          }
        }
      }
      const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
      std::printf(" %.0f |", ns / static_cast<double>(reps * rows));
    }
    std::printf("\n");
  }
  return 0;
}
