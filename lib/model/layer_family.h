// layer_family.h — what differs between the architectures r1 runs, behind one interface.
//
// The forward skeleton (forward.cc: embed → layers → norm → logits) is the same for every
// model; a family supplies its layer and what the layer needs: which tensors it binds, how wide
// a cache row is, its buffers and its rotary table. The family is chosen once, when the model
// loads (Model::Impl::family), from general.architecture.
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/types/span.h"

#include "model/forward.h"
#include "model/weight_binder.h"

namespace r1 {

class LayerFamily {
 public:
  virtual ~LayerFamily() = default;

  // Binds layer `layer`'s tensors into L.
  virtual Status BindLayer(WeightBinder& b, const ModelConfig& c, int64_t layer, LayerWeights& L) const = 0;
  // Sizes the cache: what one position of one layer keeps, stored as `type`.
  virtual Status InitKvCache(const ModelConfig& c, int64_t n_ctx, DType type, Isa isa, KvCache& kv) const = 0;
  // Sizes the buffers this family's layer uses beyond the residual stream, for max_tokens rows
  // attending over up to n_ctx positions of a `cache_type` cache.
  virtual void InitActivations(const ModelConfig& c, int64_t max_tokens, int64_t n_ctx, int n_threads,
                               DType cache_type, Activations& a) const = 0;
  // The rotary table of every row of the pass: [n_tokens, n_rot] cos/sin pairs.
  virtual void RotationTable(const ModelConfig& c, const ModelWeights& w, absl::Span<const SequenceRows> sequences,
                             float* cos_sin) const = 0;
  // One layer: x += attention(x), then x += feed-forward(x), over a.x's n_tokens rows, each
  // sequence's keys appended to and attended over in its own cache.
  virtual void Layer(const ModelConfig& c, const LayerWeights& L, int64_t layer,
                     absl::Span<const SequenceRows> sequences, int64_t n_tokens, Activations& a,
                     OpContext& ctx) const = 0;
};

// The family of an architecture as general.architecture names it; null when r1 runs none.
const LayerFamily* LayerFamilyFor(std::string_view architecture);

// The families (dense_layer.cc, deepseek2_layer.cc).
const LayerFamily& DenseLayerFamily();      // llama, qwen2, qwen3: grouped-query attention, SwiGLU
const LayerFamily& Deepseek2LayerFamily();  // deepseek2: latent attention, mixture of experts

}  // namespace r1
