// imatrix.cc — the squared activations of every weight product over a calibration text.
#include "tools/imatrix.h"

#include <chrono>
#include <cstring>

#include "absl/strings/str_format.h"
#include "ops/product_observer.h"
#include "tools/output_file.h"
#include "tools/perplexity.h"

namespace r1::tools {
namespace {

// Sums in double while collecting: a long calibration run adds millions of squares per column.
struct Accumulator {
  std::string name;
  const uint8_t* start = nullptr;
  int64_t n_in = 0, n_mat = 1;  // n_in: every head's columns for per-head tensors
  uint64_t n_bytes = 0, mat_bytes = 0;
  bool per_head = false;  // a 3-D tensor of per-head matrices: columns [head][n_in]
  std::vector<double> sum_sq;
  std::vector<double> count;

  void Reserve(int64_t n_columns) {
    if (!sum_sq.empty()) return;
    sum_sq.assign(static_cast<size_t>(n_columns * n_mat), 0.0);
    count.assign(static_cast<size_t>(n_mat), 0.0);
  }
};

void AddSquares(const float* row, int64_t n, double* sums) {
  for (int64_t i = 0; i < n; ++i) sums[i] += static_cast<double>(row[i]) * row[i];
}

// Finds the tensor a product's weights lie in by their address in the mapping, so every
// operator reports with nothing but its WeightMatrix.
class Collector : public ProductObserver {
 public:
  Collector(const Model& model, bool process_output) {
    const bool tied = model.config().tied_embeddings;
    for (const TensorSummary& t : model.Tensors()) {
      if (t.data == nullptr || t.shape.size() < 2) continue;  // matrices only
      // The output product reads output.weight, or the embeddings when they are tied.
      const bool is_output = t.name == "output.weight" || (tied && t.name == "token_embd.weight");
      if (is_output && !process_output) continue;
      Accumulator a;
      a.name = t.name;
      a.start = t.data;
      a.n_in = t.shape[0];
      const int64_t n_slices = t.shape.size() >= 3 ? t.shape[2] : 1;
      // Expert matrices get a row each; per-head matrices (MLA's k_b, v_b) are one matrix
      // whose columns are every head's, as llama-imatrix records them.
      a.per_head = n_slices > 1 && t.name.find("_exps.") == std::string::npos;
      if (a.per_head) a.n_in *= n_slices;
      a.n_mat = a.per_head ? 1 : n_slices;
      a.n_bytes = t.n_bytes;
      a.mat_bytes = t.n_bytes / static_cast<uint64_t>(n_slices);
      by_start_[t.data] = std::move(a);
    }
  }

  void OnProduct(const WeightMatrix& w, const float* x, int64_t n_tokens) override {
    Accumulator* a = Find(w);
    if (a == nullptr || a->per_head) return;
    const uint64_t mat = static_cast<uint64_t>(w.data - a->start) / a->mat_bytes;
    a->Reserve(a->n_in);
    double* sums = a->sum_sq.data() + mat * static_cast<uint64_t>(a->n_in);
    for (int64_t t = 0; t < n_tokens; ++t) AddSquares(x + t * a->n_in, a->n_in, sums);
    a->count[mat] += static_cast<double>(n_tokens);
  }

  void OnHeadProducts(const WeightMatrix* heads, int64_t n_heads, const float* x, int64_t x_tok_stride,
                      int64_t x_head_stride, int64_t n_tokens) override {
    Accumulator* a = Find(heads[0]);
    if (a == nullptr || !a->per_head || heads[0].data != a->start || a->n_in != heads[0].n_in * n_heads) return;
    const int64_t n_in = heads[0].n_in;
    a->Reserve(a->n_in);
    for (int64_t t = 0; t < n_tokens; ++t) {
      for (int64_t h = 0; h < n_heads; ++h) {
        AddSquares(x + t * x_tok_stride + h * x_head_stride, n_in, a->sum_sq.data() + h * n_in);
      }
    }
    a->count[0] += static_cast<double>(n_tokens);
  }

  // The matrices some product met.
  std::map<std::string, ImportanceSums, std::less<>> Result() const {
    std::map<std::string, ImportanceSums, std::less<>> out;
    for (const auto& [start, a] : by_start_) {
      if (a.sum_sq.empty()) continue;
      ImportanceSums& s = out[a.name];
      s.n_in = a.n_in;
      s.n_mat = a.n_mat;
      s.sum_sq.assign(a.sum_sq.begin(), a.sum_sq.end());
      s.count.assign(a.count.begin(), a.count.end());
    }
    return out;
  }

 private:
  // The tensor whose bytes hold w's, when it is one this collects and the widths agree.
  Accumulator* Find(const WeightMatrix& w) {
    auto it = by_start_.upper_bound(w.data);
    if (it == by_start_.begin()) return nullptr;
    Accumulator& a = (--it)->second;
    if (static_cast<uint64_t>(w.data - a.start) >= a.n_bytes) return nullptr;
    if (!a.per_head && w.n_in != a.n_in) return nullptr;
    return &a;
  }

  std::map<const uint8_t*, Accumulator> by_start_;
};

}  // namespace

StatusOr<ImatrixResult> ComputeImportanceMatrix(Session& session, const std::vector<int32_t>& tokens, int64_t n_ctx,
                                                const ImatrixOptions& options,
                                                const std::function<void(int64_t, double)>& on_chunk) {
  Collector collector(session.model(), options.process_output);
  PerplexityOptions chunks;
  chunks.n_chunks = options.n_chunks;
  auto start = std::chrono::steady_clock::now();
  session.SetProductObserver(&collector);
  auto ppl = ComputePerplexity(session, tokens, n_ctx, chunks, [&](int64_t i, double) {
    if (!on_chunk) return;
    const auto now = std::chrono::steady_clock::now();
    on_chunk(i, std::chrono::duration<double>(now - start).count());
    start = now;
  });
  session.SetProductObserver(nullptr);
  if (!ppl.ok()) return ppl.status();
  ImatrixResult result;
  result.matrices = collector.Result();
  result.n_ctx = ppl->n_ctx;
  result.n_chunks = ppl->n_chunks;
  result.ppl = ppl->ppl;
  return result;
}

Status WriteImportanceMatrix(const ImatrixResult& result, const std::vector<std::string>& datasets,
                             const std::string& out, const std::vector<std::string>& inputs, bool overwrite) {
  R1_RETURN_IF_ERROR(CheckOutputPath(out, inputs, overwrite));
  if (result.matrices.empty()) return absl::InvalidArgumentError("no weight product was observed");
  GgufWriter w;
  R1_RETURN_IF_ERROR(w.SetString("general.type", "imatrix"));
  R1_RETURN_IF_ERROR(w.SetStringArray("imatrix.datasets", datasets));
  R1_RETURN_IF_ERROR(w.SetUint32("imatrix.chunk_count", static_cast<uint32_t>(result.n_chunks)));
  R1_RETURN_IF_ERROR(w.SetUint32("imatrix.chunk_size", static_cast<uint32_t>(result.n_ctx)));
  const auto bytes = [](const std::vector<float>& v) {
    return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(float));
  };
  for (const auto& [name, s] : result.matrices) {
    // As llama-imatrix: [n_in, n_mat] and [1, n_mat], stored 1-D when n_mat is 1.
    const uint64_t n_in = static_cast<uint64_t>(s.n_in), n_mat = static_cast<uint64_t>(s.n_mat);
    const std::vector<uint64_t> sums_ne = n_mat == 1 ? std::vector<uint64_t>{n_in} : std::vector<uint64_t>{n_in, n_mat};
    const std::vector<uint64_t> count_ne = n_mat == 1 ? std::vector<uint64_t>{1} : std::vector<uint64_t>{1, n_mat};
    R1_RETURN_IF_ERROR(w.AddTensorView(name + ".in_sum2", DType::kF32, sums_ne, bytes(s.sum_sq)));
    R1_RETURN_IF_ERROR(w.AddTensorView(name + ".counts", DType::kF32, count_ne, bytes(s.count)));
  }
  return WriteGgufFile(w, out, overwrite);
}

}  // namespace r1::tools
