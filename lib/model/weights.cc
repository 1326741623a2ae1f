// weights.cc — the model's tensors: the parts every architecture has, then each layer as its
// family binds it.
#include "model/weights.h"

#include "model/layer_family.h"
#include "model/weight_binder.h"

namespace r1 {
namespace {

// An optional matrix of the block: the tensor when the file has it, else `fallback`.
StatusOr<WeightMatrix> MatrixOr(WeightBinder& b, const std::string& name, int64_t n_in, int64_t n_out,
                                const WeightMatrix& fallback) {
  R1_ASSIGN_OR_RETURN(const GgufTensorInfo* t, b.Find(name, false));
  if (t == nullptr) return fallback;
  return b.Matrix(name, n_in, n_out);
}

StatusOr<NextnWeights> BindNextn(WeightBinder& b, const ModelConfig& c, const LayerFamily& family,
                                 const ModelWeights& w, int64_t block) {
  NextnWeights n;
  n.block = block;
  R1_RETURN_IF_ERROR(family.BindLayer(b, c, block, n.layer));
  R1_ASSIGN_OR_RETURN(n.enorm, b.Vector(BlockTensor(block, "nextn.enorm.weight"), c.d_model, true));
  R1_ASSIGN_OR_RETURN(n.hnorm, b.Vector(BlockTensor(block, "nextn.hnorm.weight"), c.d_model, true));
  R1_ASSIGN_OR_RETURN(n.eh_proj, b.Matrix(BlockTensor(block, "nextn.eh_proj.weight"), 2 * c.d_model, c.d_model));
  R1_ASSIGN_OR_RETURN(n.embed, MatrixOr(b, BlockTensor(block, "nextn.embed_tokens.weight"), c.d_model, c.n_vocab,
                                        w.token_embd));
  R1_ASSIGN_OR_RETURN(n.head, MatrixOr(b, BlockTensor(block, "nextn.shared_head_head.weight"), c.d_model,
                                       c.n_vocab, w.output));
  R1_ASSIGN_OR_RETURN(n.head_norm, b.Vector(BlockTensor(block, "nextn.shared_head_norm.weight"), c.d_model, false));
  if (n.head_norm == nullptr) n.head_norm = w.output_norm;
  return n;
}

}  // namespace


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
  if (c.n_nextn_layers > 0) {
    StatusOr<NextnWeights> nextn = BindNextn(b, c, family, *w, c.n_layers);
    if (nextn.ok()) {
      w->nextn.push_back(*std::move(nextn));
    } else {
      w->nextn_unusable = std::string(nextn.status().message());
    }
  }
  return w;
}

std::vector<WeightMatrix*> ProductMatrices(ModelWeights& w) {
  std::vector<WeightMatrix*> matrices = {&w.output};
  for (LayerWeights& L : w.layers) {
    for (WeightMatrix* m : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down, &L.wq_a, &L.wq_b, &L.wkv_a,
                            &L.experts.router, &L.gate_shexp, &L.up_shexp, &L.down_shexp}) {
      matrices.push_back(m);
    }
    for (WeightMatrix& m : L.wk_b) matrices.push_back(&m);
    for (WeightMatrix& m : L.wv_b) matrices.push_back(&m);
  }
  return matrices;
}

}  // namespace r1
