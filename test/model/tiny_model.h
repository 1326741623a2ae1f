// tiny_model.h — random-weight llama/qwen2 models of any shape, written as GGUF files, and a
// plain reference forward pass over them for checking r1's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "r1/dtype.h"

namespace r1 {
class GgufWriter;
}

namespace r1::test {

struct TinyModelSpec {
  std::string arch = "llama";  // "llama", "qwen2" or "qwen3"
  int64_t n_vocab = 97;
  int64_t d_model = 64;
  int64_t n_layers = 2;
  int64_t n_heads = 4;
  int64_t n_kv_heads = 2;
  int64_t head_dim = 16;
  int64_t d_ff = 96;
  int64_t n_rot = 0;            // 0: head_dim
  float rope_base = 10000.0f;
  float rope_linear_factor = 0; // 0: no scaling
  bool rope_freq_factors = false;
  bool tied = false;
  bool qkv_bias = false;
  DType matrix_type = DType::kF32;  // every 2-D weight
  uint64_t seed = 1;
};

// Writes the model to a fresh file under the temp directory and returns its path.
std::string WriteTinyModel(const TinyModelSpec& spec);

// Adds tensor `name` of shape `ne` holding `values` converted to `type` by the reference
// quantizers (shared by the tiny model writers).
void AddTensorValues(GgufWriter& w, const std::string& name, std::vector<uint64_t> ne, DType type,
                     const std::vector<float>& values);
// The same with values drawn uniformly from [offset - scale, offset + scale] with `seed`.
void AddRandomTensor(GgufWriter& w, const std::string& name, std::vector<uint64_t> ne, DType type, uint64_t seed,
                     float scale = 0.1f, float offset = 0.0f);

// Every position's logits [n_tokens][n_vocab] of the model at `path` for `tokens`, computed
// with r1/ops/reference.h on weights converted to f32; the input of each matrix product is
// rounded through the weight type's vec_dot_type first, as the real product sees it.
std::vector<float> ReferenceForward(const std::string& path, const std::vector<int32_t>& tokens);

}  // namespace r1::test
