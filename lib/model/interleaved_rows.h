// interleaved_rows.h — Q4_K and Q6_K matrices interleaved 16 rows at a time, once, at load,
// for the decode products (quant/interleaved_kquants.h).
//
// One kernel then reads them for one conversation or several: each 32-bit lane accumulates one
// weight row, so what the row-by-row kernel does per row and per conversation (pack, scale,
// fold the mins, convert) is done for 16 rows at once. A batched decode step (a server's
// slots) gains the most; one conversation, bound more by memory, less. The copy is owned
// beside the mapped file and about as large as those tensors (Q4_K 3% more, Q6_K the same);
// making it takes a pass over them at load, so it is an opt-in (LoadOptions::interleave_rows).
#pragma once

#include "absl/status/status.h"
#include "kernels/isa.h"
#include "model/weights.h"

namespace r1 {

// Interleaves every matrix of ProductMatrices(w) that has an interleaved form, a multiple of 16
// rows and a kernel for it on `isa`, and points its WeightMatrix::interleaved at the copy
// (owned by w.interleaved), using n_threads threads.
// A failed allocation is a ResourceExhausted error naming the size; the weights are then left
// as they were. With release_mapped (the weights are a read-only file mapping) the process's
// pages of each interleaved matrix's rows are dropped after its copy, so resident memory holds
// the copy instead of both (the products read only the copy; an embedding lookup of a tied
// output or a GPU upload maps the rows it reads again).
absl::Status InterleaveRows(ModelWeights& w, Isa isa, int n_threads, bool release_mapped);

}  // namespace r1
