// r1/dtype.h — element and block types of tensors, numbered as in GGUF files.
//
// The numeric values are the on-disk type ids of GGUF (ggml_type); they never change and new
// types are only appended. Quantized types store `block_size` elements in `type_size` bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace r1 {

enum class DType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
};

struct DTypeTraits {
  std::string_view name;  // "Q4_K", as llama.cpp prints it
  uint32_t block_size;    // elements per block (1 for plain types)
  uint32_t type_size;     // bytes per block
  bool is_quantized;
};

// Traits of a type id read from a file; nullopt for ids r1 does not know.
constexpr std::optional<DTypeTraits> GetDTypeTraits(uint32_t id) {
  switch (static_cast<DType>(id)) {
    case DType::kF32: return DTypeTraits{"F32", 1, 4, false};
    case DType::kF16: return DTypeTraits{"F16", 1, 2, false};
    case DType::kBF16: return DTypeTraits{"BF16", 1, 2, false};
    case DType::kF64: return DTypeTraits{"F64", 1, 8, false};
    case DType::kI8: return DTypeTraits{"I8", 1, 1, false};
    case DType::kI16: return DTypeTraits{"I16", 1, 2, false};
    case DType::kI32: return DTypeTraits{"I32", 1, 4, false};
    case DType::kI64: return DTypeTraits{"I64", 1, 8, false};
    case DType::kQ4_0: return DTypeTraits{"Q4_0", 32, 18, true};
    case DType::kQ4_1: return DTypeTraits{"Q4_1", 32, 20, true};
    case DType::kQ5_0: return DTypeTraits{"Q5_0", 32, 22, true};
    case DType::kQ5_1: return DTypeTraits{"Q5_1", 32, 24, true};
    case DType::kQ8_0: return DTypeTraits{"Q8_0", 32, 34, true};
    case DType::kQ8_1: return DTypeTraits{"Q8_1", 32, 36, true};
    case DType::kQ2_K: return DTypeTraits{"Q2_K", 256, 84, true};
    case DType::kQ3_K: return DTypeTraits{"Q3_K", 256, 110, true};
    case DType::kQ4_K: return DTypeTraits{"Q4_K", 256, 144, true};
    case DType::kQ5_K: return DTypeTraits{"Q5_K", 256, 176, true};
    case DType::kQ6_K: return DTypeTraits{"Q6_K", 256, 210, true};
    case DType::kQ8_K: return DTypeTraits{"Q8_K", 256, 292, true};
    case DType::kIQ2_XXS: return DTypeTraits{"IQ2_XXS", 256, 66, true};
    case DType::kIQ2_XS: return DTypeTraits{"IQ2_XS", 256, 74, true};
    case DType::kIQ2_S: return DTypeTraits{"IQ2_S", 256, 82, true};
    case DType::kIQ3_XXS: return DTypeTraits{"IQ3_XXS", 256, 98, true};
    case DType::kIQ3_S: return DTypeTraits{"IQ3_S", 256, 110, true};
    case DType::kIQ1_S: return DTypeTraits{"IQ1_S", 256, 50, true};
    case DType::kIQ1_M: return DTypeTraits{"IQ1_M", 256, 56, true};
    case DType::kIQ4_NL: return DTypeTraits{"IQ4_NL", 32, 18, true};
    case DType::kIQ4_XS: return DTypeTraits{"IQ4_XS", 256, 136, true};
  }
  return std::nullopt;
}

constexpr DTypeTraits Traits(DType t) { return *GetDTypeTraits(static_cast<uint32_t>(t)); }
constexpr std::string_view DTypeName(DType t) { return Traits(t).name; }

// Bytes of one row of `n` elements, or nullopt when n is not a whole number of blocks or the
// byte count does not fit in 64 bits.
constexpr std::optional<uint64_t> RowBytes(DType t, uint64_t n) {
  const DTypeTraits tr = Traits(t);
  if (n % tr.block_size != 0) return std::nullopt;
  const uint64_t blocks = n / tr.block_size;
  if (blocks > UINT64_MAX / tr.type_size) return std::nullopt;
  return blocks * tr.type_size;
}

}  // namespace r1
