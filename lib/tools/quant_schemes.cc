// quant_schemes.cc — scheme names and llama.cpp's per-tensor type rules.
#include "tools/quant_schemes.h"

#include <cctype>

namespace r1::tools {
namespace {

// llama.cpp's llama_ftype numbers, stored as general.file_type.
enum Ftype : uint32_t {
  kF32 = 0, kF16 = 1, kQ4_0 = 2, kQ4_1 = 3, kQ8_0 = 7, kQ5_0 = 8, kQ5_1 = 9, kQ2_K = 10, kQ3_K_S = 11,
  kQ4_K_S = 14, kQ4_K_M = 15, kQ5_K_S = 16, kQ5_K_M = 17, kQ6_K = 18, kIQ2_XXS = 19, kIQ2_XS = 20,
  kIQ3_XS = 22, kIQ3_XXS = 23, kIQ1_S = 24, kIQ4_NL = 25, kIQ3_S = 26, kIQ3_M = 27, kIQ2_S = 28,
  kIQ2_M = 29, kIQ4_XS = 30, kIQ1_M = 31, kBF16 = 32,
};

struct SchemeEntry {
  const char* name;
  DType base;
  Ftype file_type;
};

constexpr SchemeEntry kSchemes[] = {
    {"F32", DType::kF32, kF32},           {"F16", DType::kF16, kF16},
    {"BF16", DType::kBF16, kBF16},        {"Q4_0", DType::kQ4_0, kQ4_0},
    {"Q4_1", DType::kQ4_1, kQ4_1},        {"Q5_0", DType::kQ5_0, kQ5_0},
    {"Q5_1", DType::kQ5_1, kQ5_1},        {"Q8_0", DType::kQ8_0, kQ8_0},
    {"Q2_K", DType::kQ2_K, kQ2_K},        {"Q3_K", DType::kQ3_K, kQ3_K_S},
    {"Q3_K_S", DType::kQ3_K, kQ3_K_S},    {"Q4_K", DType::kQ4_K, kQ4_K_S},
    {"Q4_K_S", DType::kQ4_K, kQ4_K_S},    {"Q4_K_M", DType::kQ4_K, kQ4_K_M},
    {"Q5_K", DType::kQ5_K, kQ5_K_S},      {"Q5_K_S", DType::kQ5_K, kQ5_K_S},
    {"Q5_K_M", DType::kQ5_K, kQ5_K_M},    {"Q6_K", DType::kQ6_K, kQ6_K},
    {"IQ1_S", DType::kIQ1_S, kIQ1_S},     {"IQ1_M", DType::kIQ1_M, kIQ1_M},
    {"IQ2_XXS", DType::kIQ2_XXS, kIQ2_XXS}, {"IQ2_XS", DType::kIQ2_XS, kIQ2_XS},
    {"IQ2_S", DType::kIQ2_XS, kIQ2_S},    {"IQ2_M", DType::kIQ2_S, kIQ2_M},
    {"IQ3_XXS", DType::kIQ3_XXS, kIQ3_XXS}, {"IQ3_XS", DType::kIQ3_S, kIQ3_XS},
    {"IQ3_S", DType::kIQ3_S, kIQ3_S},     {"IQ3_M", DType::kIQ3_S, kIQ3_M},
    {"IQ4_NL", DType::kIQ4_NL, kIQ4_NL},  {"IQ4_XS", DType::kIQ4_XS, kIQ4_XS},
};

// The weight types r1 writes.
constexpr DType kWritableTypes[] = {
    DType::kF32,  DType::kF16,  DType::kBF16,    DType::kQ4_0,   DType::kQ4_1,   DType::kQ5_0,   DType::kQ5_1,
    DType::kQ8_0, DType::kQ2_K, DType::kQ3_K,    DType::kQ4_K,   DType::kQ5_K,   DType::kQ6_K,   DType::kIQ1_S,
    DType::kIQ1_M, DType::kIQ2_XXS, DType::kIQ2_XS, DType::kIQ2_S, DType::kIQ3_XXS, DType::kIQ3_S, DType::kIQ4_NL,
    DType::kIQ4_XS};

bool Contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

// Layer index of "blk.N.…", or -1.
int64_t LayerOf(std::string_view name) {
  if (name.substr(0, 4) != "blk.") return -1;
  int64_t v = 0;
  size_t i = 4;
  if (i >= name.size() || name[i] < '0' || name[i] > '9') return -1;
  for (; i < name.size() && name[i] >= '0' && name[i] <= '9'; ++i) v = v * 10 + (name[i] - '0');
  return v;
}

// llama.cpp's use_more_bits: the first and last eighth of the layers, and every third between.
bool UseMoreBits(int64_t i, int64_t n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

// The categories llama.cpp's rules speak of, recognized by name as it does.
enum class Category { kOutput, kTokenEmbd, kAttnV, kAttnK, kAttnQ, kAttnOutput, kFfnUp, kFfnGate, kFfnDown, kOther };

Category CategoryOf(std::string_view name) {
  if (name == "output.weight") return Category::kOutput;
  if (name == "token_embd.weight") return Category::kTokenEmbd;
  // Fused qkv and MLA's kv_b count as attn_v.
  if (Contains(name, "attn_qkv.weight") || Contains(name, "attn_kv_b.weight") || Contains(name, "attn_v.weight")) {
    return Category::kAttnV;
  }
  if (Contains(name, "attn_k.weight")) return Category::kAttnK;
  if (Contains(name, "attn_q.weight")) return Category::kAttnQ;
  if (Contains(name, "attn_output.weight")) return Category::kAttnOutput;
  if (Contains(name, "ffn_up")) return Category::kFfnUp;
  if (Contains(name, "ffn_gate")) return Category::kFfnGate;
  if (Contains(name, "ffn_down")) return Category::kFfnDown;
  return Category::kOther;
}

bool IsLowBitIq(uint32_t f) {  // the IQ1 and IQ2 schemes
  return f == kIQ2_XXS || f == kIQ2_XS || f == kIQ2_S || f == kIQ2_M || f == kIQ1_S || f == kIQ1_M;
}

DType OutputType(uint32_t f, DType t, uint64_t n_in) {
  if (n_in % Traits(t).block_size != 0) return DType::kQ8_0;
  if (IsLowBitIq(f) || f == kIQ3_XXS) return DType::kQ5_K;
  return t == DType::kQ8_0 ? t : DType::kQ6_K;
}

DType TokenEmbdType(uint32_t f, DType t) {
  if (f == kIQ2_XXS || f == kIQ2_XS || f == kIQ1_S || f == kIQ1_M) return DType::kQ2_K;
  if (f == kIQ2_S || f == kIQ2_M || f == kIQ3_XXS) return DType::kIQ3_S;
  return t;
}

// The IQ1/IQ2 schemes keep a few sensitive matrices at higher precision.
DType LowBitIqType(uint32_t f, Category c, const TensorRole& r, int64_t layer, DType t) {
  const bool s_or_m = f == kIQ2_S || f == kIQ2_M;
  switch (c) {
    case Category::kAttnV:
      if (r.n_gqa >= 4 || r.n_experts >= 4) return DType::kQ4_K;
      return s_or_m ? DType::kIQ3_S : DType::kQ2_K;
    case Category::kAttnK:
      return r.n_experts == 8 ? DType::kQ4_K : t;
    case Category::kFfnDown:
      if (layer < r.n_layers / 8) return s_or_m ? DType::kIQ3_S : DType::kQ2_K;
      return t;
    case Category::kAttnOutput:
      if (r.n_experts == 8) return DType::kQ5_K;
      if (f == kIQ1_S || f == kIQ1_M) return DType::kIQ2_XXS;
      return s_or_m ? DType::kIQ3_S : t;
    default:
      return t;
  }
}

DType AttnVType(uint32_t f, const TensorRole& r, int64_t layer, DType t) {
  const bool gqa4 = r.n_gqa >= 4;
  if (f == kQ2_K) {
    t = gqa4 ? DType::kQ4_K : DType::kQ3_K;
  } else if (f == kIQ3_XXS) {
    t = gqa4 ? DType::kQ4_K : !r.has_importance ? DType::kIQ3_S : DType::kIQ3_XXS;
  } else if ((f == kIQ3_XS || f == kIQ3_S) && gqa4) {
    t = DType::kQ4_K;
  } else if (f == kIQ3_M) {
    t = DType::kQ4_K;
  } else if ((f == kIQ4_NL || f == kIQ4_XS) && gqa4) {
    t = DType::kQ5_K;
  } else if ((f == kQ4_K_M || f == kQ5_K_M) && UseMoreBits(layer, r.n_layers)) {
    t = DType::kQ6_K;
  } else if (f == kQ4_K_S && layer < 4) {
    t = DType::kQ5_K;
  }
  return r.n_experts == 8 ? DType::kQ8_0 : t;
}

DType FfnDownType(uint32_t f, const TensorRole& r, int64_t layer, DType t) {
  const int64_t n = r.n_layers;
  const bool first_eighth = layer < n / 8;
  if (f == kQ2_K) return DType::kQ3_K;
  if (f == kIQ3_XXS && !r.has_importance) return first_eighth ? DType::kQ4_K : DType::kQ3_K;
  if (f == kIQ3_M && (first_eighth || (r.n_experts == 8 && UseMoreBits(layer, n)))) return DType::kQ4_K;
  if (f == kQ4_K_M) return UseMoreBits(layer, n) ? DType::kQ6_K : t;
  if (first_eighth && (f == kIQ4_NL || f == kIQ4_XS) && !r.has_importance) return DType::kQ5_K;
  if (f == kQ5_K_M && UseMoreBits(layer, n)) return DType::kQ6_K;
  if (f == kQ4_K_S && first_eighth) return DType::kQ5_K;
  // Against ffn_down's outliers in the first layers, which Q4_0/Q5_0 handle badly even with
  // an importance matrix.
  if ((f == kQ4_0 || f == kQ5_0) && r.has_importance && first_eighth) return f == kQ4_0 ? DType::kQ4_1 : DType::kQ5_1;
  return t;
}

DType AttnOutputType(uint32_t f, const TensorRole& r, DType t) {
  if (r.n_experts == 8) {
    const bool bump = f == kQ2_K || f == kIQ3_XS || f == kIQ3_XXS || f == kQ3_K_S || f == kIQ4_NL || f == kQ4_K_S ||
                      f == kQ4_K_M || f == kIQ3_S || f == kIQ3_M || f == kIQ4_XS;
    return bump ? DType::kQ5_K : t;
  }
  if (f == kQ2_K) return DType::kQ3_K;
  if (f == kIQ3_XXS) return DType::kIQ3_S;
  if (f == kIQ3_M) return DType::kQ4_K;
  return t;
}

}  // namespace

std::optional<QuantScheme> ParseQuantScheme(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const SchemeEntry& e : kSchemes) {
    if (upper == e.name) return QuantScheme{upper, e.base, e.file_type};
  }
  return std::nullopt;
}

std::vector<std::string> QuantSchemeNames() {
  std::vector<std::string> out;
  for (const SchemeEntry& e : kSchemes) out.emplace_back(e.name);
  return out;
}

std::optional<DType> ParseWeightType(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (DType t : kWritableTypes) {
    if (upper == DTypeName(t)) return t;
  }
  return std::nullopt;
}

DType FitRow(DType t, uint64_t n_in) {
  if (n_in % Traits(t).block_size == 0) return t;
  switch (t) {
    case DType::kIQ1_S:
    case DType::kIQ1_M:
    case DType::kIQ2_XXS:
    case DType::kIQ2_XS:
    case DType::kIQ2_S:
    case DType::kIQ3_XXS:
    case DType::kIQ3_S:
    case DType::kIQ4_XS: t = DType::kIQ4_NL; break;
    case DType::kQ2_K:
    case DType::kQ3_K: t = DType::kQ4_0; break;
    case DType::kQ4_K: t = DType::kQ5_0; break;
    case DType::kQ5_K: t = DType::kQ5_1; break;
    case DType::kQ6_K: t = DType::kQ8_0; break;
    default: break;
  }
  return n_in % Traits(t).block_size == 0 ? t : DType::kF16;
}

DType TypeForTensor(const QuantScheme& scheme, const TensorRole& role) {
  // Vectors, and the expert router, whose few weights decide which experts run at all.
  if (role.n_dims < 2 || Contains(role.name, "ffn_gate_inp.weight")) return DType::kF32;
  DType t = scheme.base;
  if (!Traits(t).is_quantized) return FitRow(t, role.n_in);
  const uint32_t f = scheme.file_type;
  const Category c = CategoryOf(role.name);
  const int64_t layer = LayerOf(role.name);
  if (c == Category::kOutput || (c == Category::kTokenEmbd && !role.has_output)) {
    t = OutputType(f, t, role.n_in);
  } else if (c == Category::kTokenEmbd) {
    t = TokenEmbdType(f, t);
  } else if (IsLowBitIq(f)) {
    t = LowBitIqType(f, c, role, layer, t);
  } else if (c == Category::kAttnV) {
    t = AttnVType(f, role, layer, t);
  } else if (c == Category::kAttnK) {
    if (role.n_experts == 8) {
      t = DType::kQ8_0;
    } else if (f == kIQ3_XS) {
      t = DType::kIQ3_XXS;
    } else if (f == kIQ3_XXS) {
      t = DType::kIQ2_S;
    }
  } else if (c == Category::kAttnQ) {
    if (f == kIQ3_XS) t = DType::kIQ3_XXS;
    if (f == kIQ3_XXS) t = DType::kIQ2_S;
  } else if (c == Category::kFfnDown) {
    t = FfnDownType(f, role, layer, t);
  } else if (c == Category::kAttnOutput) {
    t = AttnOutputType(f, role, t);
  } else if (c == Category::kFfnGate || c == Category::kFfnUp) {
    if (f == kIQ3_XS && layer >= role.n_layers / 8 && layer < 7 * role.n_layers / 8) t = DType::kIQ3_XXS;
  }
  return FitRow(t, role.n_in);
}

bool RequiresImportance(std::string_view name, DType t) {
  if (name == "token_embd.weight" || name == "output.weight") return false;
  return t == DType::kIQ1_S || t == DType::kIQ1_M || t == DType::kIQ2_XXS || t == DType::kIQ2_XS ||
         t == DType::kIQ2_S;
}

}  // namespace r1::tools
