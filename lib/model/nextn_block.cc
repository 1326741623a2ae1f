// nextn_block.cc — the MTP block's pass: project, one layer with its own cache, shared head.
#include "model/nextn_block.h"

#include "absl/strings/str_format.h"
#include "model/layer_family.h"

namespace r1 {

Status NextnBlockStatus(const Model::Impl& model) {
  const ModelWeights& w = *model.weights;
  if (!w.nextn.empty()) return absl::OkStatus();
  if (!w.nextn_unusable.empty()) {
    return absl::FailedPreconditionError(
        absl::StrFormat("the model's multi-token-prediction (nextn) block cannot be used: %s", w.nextn_unusable));
  }
  return absl::FailedPreconditionError("the model carries no multi-token-prediction (nextn) block");
}

StatusOr<std::unique_ptr<NextnBlock>> NextnBlock::Create(const Model::Impl& model, int64_t n_ctx, int64_t max_rows,
                                                         DType cache_type, Isa isa, int n_threads) {
  R1_RETURN_IF_ERROR(NextnBlockStatus(model));
  auto block = std::unique_ptr<NextnBlock>(new NextnBlock(model, model.weights->nextn.front()));
  R1_RETURN_IF_ERROR(model.family->InitKvCache(block->config_, n_ctx, cache_type, isa, block->kv_));
  block->acts_.Init(model, max_rows, n_ctx, n_threads, cache_type);
  block->eh_in_.assign(static_cast<size_t>(max_rows * 2 * model.config.d_model), 0.0f);
  return block;
}

NextnBlock::NextnBlock(const Model::Impl& model, const NextnWeights& weights)
    : model_(model), weights_(weights), config_(model.config) {
  // The layer runs as layer 0 of a one-layer model (its cache has one layer), with the feed-
  // forward its place among the file's blocks gives it.
  config_.n_layers = 1;
  config_.n_nextn_layers = 0;
  config_.n_dense_lead = weights.block < model.config.n_dense_lead ? 1 : 0;
}

void NextnBlock::Run(const NextnRows& rows, bool logits, OpContext& ctx) {
  const ModelConfig& c = config_;
  const int64_t d = c.d_model, n = rows.n;
  Activations& a = acts_;
  // eh_proj's input rows [enorm(embedding), hnorm(hidden)], before a.x (where rows.hidden may
  // lie) is overwritten.
  GetRows(weights_.embed, rows.next_tokens, n, a.h.data(), ctx);
  for (int64_t i = 0; i < n; ++i) {
    float* in = eh_in_.data() + i * 2 * d;
    ctx.kernels->rms_norm(a.h.data() + i * d, weights_.enorm, c.norm_eps, in, d);
    ctx.kernels->rms_norm(rows.hidden + i * d, weights_.hnorm, c.norm_eps, in + d, d);
  }
  MatMul(weights_.eh_proj, eh_in_.data(), n, nullptr, a.x.data(), a.matmul, ctx);

  // Rotated for where the rows are in the text, cached where the block keeps them.
  const SequenceRows in_text{&kv_, rows.pos0, n}, in_cache{&kv_, rows.slot0, n};
  model_.family->RotationTable(c, *model_.weights, {&in_text, 1}, a.cos_sin.data());
  model_.family->Layer(c, weights_.layer, 0, {&in_cache, 1}, n, a, ctx);

  if (!logits) return;
  ctx.kernels->rms_norm(a.x.data() + (n - 1) * d, weights_.head_norm, c.norm_eps, a.h.data(), d);
  MatMul(weights_.head, a.h.data(), 1, nullptr, a.LogitsFor(1, c.n_vocab), a.matmul, ctx);
}

}  // namespace r1
