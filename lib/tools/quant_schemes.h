// quant_schemes.h — the quantization schemes `r1 quantize` and `r1 mkmodel --type` take, and
// which type each tensor gets under them (llama.cpp's llama_tensor_get_type rules).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "r1/dtype.h"

namespace r1::tools {

// A plain weight type (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K,
// Q6_K, IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ4_NL, IQ4_XS) or one of
// llama.cpp's mixtures (Q3_K_S, Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M, IQ2_M, IQ3_XS, IQ3_M). As in
// llama.cpp, the i-quant names are mixtures too: IQ2_XXS keeps attn_v and the first ffn_down
// layers at Q2_K/Q4_K, for example.
struct QuantScheme {
  std::string name;     // as given, upper case
  DType base;           // the type most matrices get
  uint32_t file_type;   // general.file_type (llama.cpp's llama_ftype), which picks the rules
};
std::optional<QuantScheme> ParseQuantScheme(std::string_view name);
std::vector<std::string> QuantSchemeNames();
// A weight type r1 writes, by its name in any case (for per-tensor types: IQ2_S is the type
// here, where the scheme IQ2_S is mostly IQ2_XS as in llama.cpp); nullopt for others.
std::optional<DType> ParseWeightType(std::string_view name);

// Facts about a tensor that llama.cpp's type rules depend on.
struct TensorRole {
  std::string_view name;   // GGUF tensor name
  uint32_t n_dims;
  uint64_t n_in;           // ne[0]
  int64_t n_layers;        // block_count of the model
  bool has_output;         // the model has its own output.weight (not tied)
  int64_t n_gqa = 1;       // query heads per key/value head
  bool has_importance = false;  // quantized with an importance matrix
  int64_t n_experts = 0;   // routed experts per MoE layer (0: a dense model)
};

// The type `scheme` gives a tensor: 1-D tensors and the expert router stay F32; output.weight (or a tied token_embd)
// gets Q6_K (Q5_K under the IQ1/IQ2 schemes, Q8_0 under Q8_0); then the per-category rules of
// llama.cpp for attn_v, attn_k, attn_q, attn_output, ffn_down, ffn_gate, ffn_up and the token
// embeddings. A type whose blocks do not fit a row falls back as FitRow says.
DType TypeForTensor(const QuantScheme& scheme, const TensorRole& role);

// A type whose blocks fit a row of n_in elements: llama.cpp's fallbacks (the 256-element
// i-quants to IQ4_NL, Q2_K/Q3_K to Q4_0, Q4_K to Q5_0, Q5_K to Q5_1, Q6_K to Q8_0), then F16.
DType FitRow(DType t, uint64_t n_in);

// Whether a matrix of type t needs an importance matrix to be worth anything (the IQ1 and IQ2
// types, except for the embeddings and the output matrix), as llama-quantize insists.
bool RequiresImportance(std::string_view name, DType t);

}  // namespace r1::tools
