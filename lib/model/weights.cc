// weights.cc — the model's tensors: the parts every architecture has, then each layer as its
// family binds it.
#include "model/weights.h"

#include "model/layer_family.h"
#include "model/weight_binder.h"

namespace r1 {

StatusOr<std::unique_ptr<ModelWeights>> BindWeights(const GgufFile& gguf, const ModelConfig& c,
                                                    const LayerFamily& family) {
  auto w = std::make_unique<ModelWeights>();
  WeightBinder b(gguf, *w);
  R1_ASSIGN_OR_RETURN(w->token_embd, b.Matrix("token_embd.weight", c.d_model, c.n_vocab));
  R1_ASSIGN_OR_RETURN(w->output_norm, b.Vector("output_norm.weight", c.d_model, true));
  if (c.tied_embeddings) {
    w->output = w->token_embd;
  } else {
    R1_ASSIGN_OR_RETURN(w->output, b.Matrix("output.weight", c.d_model, c.n_vocab));
  }
  if (c.has_rope_freq_factors) {
    R1_ASSIGN_OR_RETURN(w->rope_freq_factors, b.Vector("rope_freqs.weight", c.n_rot / 2, true));
  }
  w->layers.resize(static_cast<size_t>(c.n_layers));
  for (int64_t l = 0; l < c.n_layers; ++l) {
    R1_RETURN_IF_ERROR(family.BindLayer(b, c, l, w->layers[static_cast<size_t>(l)]));
  }
  return w;
}

}  // namespace r1
