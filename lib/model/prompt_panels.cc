// prompt_panels.cc — the load-time repack of the INT8 prompt GEMM's weight panels.
#include "model/prompt_panels.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_format.h"
#include "quant/int8_panel.h"
#include "runtime/thread_pool.h"

namespace r1 {
namespace {

// A matrix stack to repack: `count` matrices of the same shape, `stride` bytes apart.
struct PanelJob {
  WeightMatrix* first;
  uint64_t* panel_stride;  // where the stack's per-matrix panel bytes go (null for one matrix)
  int64_t count;
  uint64_t stride;
};

// The panel form of w's type, or 0 when the GEMM does not read w as panels.
int SubBlockFor(const WeightMatrix& w) {
  const int sub = Int8PanelSubBlock(w.type);
  if (sub == 0 || w.n_in % Int8ActBlock(sub) != 0 || w.n_out <= 0) return 0;
  return sub;
}

uint64_t PanelsPerMatrix(const WeightMatrix& w) { return static_cast<uint64_t>((w.n_out + kPanelRows - 1) / kPanelRows); }

uint64_t MatrixPanelBytes(const WeightMatrix& w) {
  const int sub = SubBlockFor(w);
  return sub == 0 ? 0 : PanelsPerMatrix(w) * Int8PanelBytes(w.n_in, sub);
}

// Every matrix the matrix products (ops/matmul.h) read, as stacks.
std::vector<PanelJob> Jobs(ModelWeights& w) {
  std::vector<PanelJob> jobs;
  for (WeightMatrix* m : ProductMatrices(w)) jobs.push_back({m, nullptr, 1, 0});
  for (LayerWeights& L : w.layers) {
    for (ExpertMatrices* e : {&L.experts.gate, &L.experts.up, &L.experts.down}) {
      if (e->n_experts > 0) jobs.push_back({&e->first, &e->expert_panel_bytes, e->n_experts, e->expert_bytes});
    }
  }
  return jobs;
}

}  // namespace

absl::Status PackPromptPanels(ModelWeights& w, int n_threads) {
  const std::vector<PanelJob> jobs = Jobs(w);
  uint64_t total = 0;
  for (const PanelJob& job : jobs) total += MatrixPanelBytes(*job.first) * static_cast<uint64_t>(job.count);
  if (total == 0) return absl::OkStatus();
  ReservedMemory memory;
  if (Status s = memory.Reserve(total); !s.ok()) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("repacking the weights needs %.1f MiB more memory: %s", total / 1048576.0, s.message()));
  }
  // One task per panel of 16 rows, over all matrices, so the threads share the work evenly.
  struct Panel {
    const WeightMatrix* m;
    const uint8_t* rows;
    int nr;
    uint8_t* dst;
  };
  std::vector<Panel> panels;
  uint8_t* next = memory.data();
  for (const PanelJob& job : jobs) {
    WeightMatrix& m = *job.first;
    const uint64_t matrix_bytes = MatrixPanelBytes(m);
    if (matrix_bytes == 0) continue;
    const uint64_t panel_bytes = Int8PanelBytes(m.n_in, SubBlockFor(m));
    for (int64_t e = 0; e < job.count; ++e) {
      const uint8_t* data = m.data + static_cast<uint64_t>(e) * job.stride;
      uint8_t* dst = next + static_cast<uint64_t>(e) * matrix_bytes;
      for (int64_t r0 = 0; r0 < m.n_out; r0 += kPanelRows) {
        const int nr = static_cast<int>(std::min<int64_t>(kPanelRows, m.n_out - r0));
        panels.push_back({&m, data + static_cast<uint64_t>(r0) * m.row_bytes, nr,
                          dst + static_cast<uint64_t>(r0 / kPanelRows) * panel_bytes});
      }
    }
    m.panels = next;
    if (job.panel_stride != nullptr) *job.panel_stride = matrix_bytes;
    next += matrix_bytes * static_cast<uint64_t>(job.count);
  }
  ThreadPool pool(std::max(1, n_threads));
  pool.ParallelFor(panels.size(), 64, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      const Panel& p = panels[i];
      RepackInt8Panels(p.m->type, p.rows, p.m->row_bytes, p.nr, p.m->n_in, p.dst);
    }
  });
  w.prompt_panels = std::move(memory);
  return absl::OkStatus();
}

}  // namespace r1
