// forward.cc — embed → layer × n_layers → norm → logits, the same for every architecture; the
// model's layer family (layer_family.h) supplies the layer, and a session's device runs the
// layers it holds (device_layers.h).
#include "model/forward.h"

#include "model/layer_family.h"
#include "model/row_ops.h"

namespace r1 {

Status InitKvCache(const Model::Impl& model, int64_t n_ctx, DType type, Isa isa, KvCache& kv) {
  return model.family->InitKvCache(model.config, n_ctx, type, isa, kv);
}

void Activations::Init(const Model::Impl& model, int64_t n, int64_t n_ctx, int n_threads, DType cache_type) {
  const ModelConfig& c = model.config;
  max_tokens = n;
  const auto sized = [n](int64_t width) { return static_cast<size_t>(n * width); };
  x.assign(sized(c.d_model), 0.0f);
  h.assign(sized(c.d_model), 0.0f);
  q.assign(sized(c.n_heads * c.head_dim), 0.0f);
  cos_sin.assign(sized(c.n_rot), 0.0f);
  logits.assign(static_cast<size_t>(c.n_vocab), 0.0f);
  model.family->InitActivations(c, n, n_ctx, n_threads, cache_type, *this);
}

int64_t TotalRows(absl::Span<const SequenceRows> sequences) {
  int64_t n = 0;
  for (const SequenceRows& s : sequences) n += s.n_tokens;
  return n;
}

namespace {

// The rows the output takes: each sequence's last (kLast) or all (kAll), copied normalized into
// `out` one after another. Returns the count.
int64_t NormalizeOutputRows(const float* x, const float* norm, float eps, int64_t width,
                            absl::Span<const SequenceRows> sequences, LogitRows rows, float* out, OpContext& ctx) {
  int64_t row0 = 0, n_out = 0;
  for (const SequenceRows& s : sequences) {
    const int64_t first = rows == LogitRows::kAll ? 0 : s.n_tokens - 1;
    for (int64_t t = first; t < s.n_tokens; ++t, ++n_out) {
      ctx.kernels->rms_norm(x + (row0 + t) * width, norm, eps, out + n_out * width, width);
    }
    row0 += s.n_tokens;
  }
  return n_out;
}

}  // namespace

Status Forward(const Model::Impl& model, const int32_t* tokens, absl::Span<const SequenceRows> sequences,
               LogitRows rows, Activations& a, OpContext& ctx) {
  const ModelConfig& c = model.config;
  const ModelWeights& w = *model.weights;
  const LayerFamily& family = *model.family;
  const int64_t n_tokens = TotalRows(sequences);

  GetRows(w.token_embd, tokens, n_tokens, a.x.data(), ctx);  // x: [n_tokens, d_model]
  family.RotationTable(c, w, sequences, a.cos_sin.data());   // [n_tokens, n_rot]

  for (int64_t l = 0; l < c.n_layers; ++l) {
    if (a.device_layers != nullptr && a.device_layers->Runs(l)) {
      R1_RETURN_IF_ERROR(a.device_layers->Layer(c, l, sequences, n_tokens, a));
    } else {
      family.Layer(c, w.layers[static_cast<size_t>(l)], l, sequences, n_tokens, a, ctx);
    }
  }

  // Output: logits = W_out · norm(x), for the rows asked for.
  if (rows == LogitRows::kNone) return absl::OkStatus();
  const int64_t n_out =
      NormalizeOutputRows(a.x.data(), w.output_norm, c.norm_eps, c.d_model, sequences, rows, a.h.data(), ctx);
  MatMul(w.output, a.h.data(), n_out, nullptr, a.LogitsFor(n_out, c.n_vocab), a.matmul, ctx);  // [n_out, n_vocab]
  return absl::OkStatus();
}

}  // namespace r1
