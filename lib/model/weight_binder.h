// weight_binder.h — binds a GGUF file's tensors by name into weight views, checking each one's
// shape and type; errors name the tensor and the mismatch.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/gguf_reader.h"
#include "model/weights.h"

namespace r1 {

class WeightBinder {
 public:
  WeightBinder(const GgufFile& gguf, ModelWeights& out) : gguf_(gguf), out_(out) {}

  // The tensor `name`; null when absent and not required.
  StatusOr<const GgufTensorInfo*> Find(const std::string& name, bool required) const;
  // A matrix [n_in, n_out] of a type r1 can multiply.
  StatusOr<WeightMatrix> Matrix(const std::string& name, int64_t n_in, int64_t n_out) const;
  // A 3-D stack [n_in, n_out, n_experts] of expert matrices.
  StatusOr<ExpertMatrices> Experts(const std::string& name, int64_t n_in, int64_t n_out, int64_t n_experts) const;
  // Per-head matrices [n_in, n_out] of a 3-D tensor [n_in, n_out, n_heads].
  StatusOr<std::vector<WeightMatrix>> PerHead(const GgufTensorInfo& t, int64_t n_in, int64_t n_out,
                                              int64_t n_heads) const;
  // An f32 vector of n values (null when absent and not required); converted into a copy the
  // weights own when stored in another type.
  StatusOr<const float*> Vector(const std::string& name, int64_t n, bool required);
  // Older MLA files store attn_kv_b [kv_lora_rank, n_heads * (qk_nope + v)]. The value rows of
  // each head are used in place; the key rows are needed transposed (latent-space query), so
  // they are converted once into an owned f32 copy [qk_nope -> kv_lora_rank] per head.
  Status SplitKvB(const GgufTensorInfo& t, const ModelConfig& c, LayerWeights& L);

  static StatusOr<WeightMatrix> MatrixOf(const GgufTensorInfo& t, int64_t n_in, int64_t n_out);

 private:
  static Status CheckShape(const GgufTensorInfo& t, std::initializer_list<int64_t> want);
  StatusOr<ExpertMatrices> ExpertsOf(const GgufTensorInfo& t, int64_t n_in, int64_t n_out, int64_t n) const;

  const GgufFile& gguf_;
  ModelWeights& out_;
};

// The name of layer `layer`'s tensor `what`: "blk.<layer>.<what>".
std::string BlockTensor(int64_t layer, std::string_view what);

}  // namespace r1
