// interleaved_rows.cc — the load-time interleave of the Q4_K and Q6_K matrices.
#include "model/interleaved_rows.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "absl/strings/str_format.h"
#include "quant/interleaved_kquants.h"
#include "quant/quant_kernels.h"
#include "runtime/thread_pool.h"

namespace r1 {
namespace {

bool Interleavable(const WeightMatrix& m, Isa isa) {
  if (!HasInterleavedForm(m.type) || m.n_out <= 0 || m.n_out % kInterleavedRows != 0 || m.n_in % 256 != 0) return false;
  const QuantKernels* k = GetQuantKernels(isa, m.type);
  return k != nullptr && k->vec_dot_interleaved != nullptr;
}

// Drops this process's pages of a read-only file mapping (whole pages inside the range): the
// products read the copy, so the file's rows need not stay in the process's resident memory.
// Anything that reads them later (an embedding lookup of a tied output, a GPU upload) faults
// them in again from the page cache.
void ReleaseMappedPages(const uint8_t* data, uint64_t bytes) {
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(data) + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(data) + bytes) / page * page;
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

}  // namespace

absl::Status InterleaveRows(ModelWeights& w, Isa isa, int n_threads, bool release_mapped) {
  std::vector<WeightMatrix*> matrices;
  uint64_t total = 0;
  for (WeightMatrix* m : ProductMatrices(w)) {
    if (!Interleavable(*m, isa)) continue;
    matrices.push_back(m);
    total += static_cast<uint64_t>(m->n_out / kInterleavedRows) * InterleavedBytes(m->type, m->n_in);
  }
  if (total == 0) return absl::OkStatus();
  ReservedMemory memory;
  if (Status s = memory.Reserve(total); !s.ok()) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("interleaving the weights needs %.1f MiB more memory: %s", total / 1048576.0, s.message()));
  }
  // A decode step reads all of it once: 2 MiB pages spare most of the TLB misses of 4 KiB ones.
  madvise(memory.data(), total, MADV_HUGEPAGE);
  // Matrix by matrix, its groups of 16 rows shared among the threads; each matrix's file pages
  // are released once it is done, so resident memory never holds much more than the copy.
  ThreadPool pool(std::max(1, n_threads));
  uint8_t* next = memory.data();
  for (WeightMatrix* m : matrices) {
    const size_t group_bytes = InterleavedBytes(m->type, m->n_in);
    const size_t n_groups = static_cast<size_t>(m->n_out / kInterleavedRows);
    pool.ParallelFor(n_groups, 16, [&](size_t b, size_t e) {
      for (size_t g = b; g < e; ++g) {
        InterleaveRows16(m->type, m->Row(static_cast<int64_t>(g) * kInterleavedRows), m->row_bytes, m->n_in,
                         next + g * group_bytes);
      }
    });
    m->interleaved = next;
    next += n_groups * group_bytes;
    if (release_mapped) ReleaseMappedPages(m->data, static_cast<uint64_t>(m->n_out) * m->row_bytes);
  }
  w.interleaved = std::move(memory);
  return absl::OkStatus();
}

}  // namespace r1
