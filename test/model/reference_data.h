// reference_data.h — reading the llama.cpp reference files in the shared folder.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "r1/session.h"

namespace r1::test {

// Parses a JSON file; a null value when it cannot be read or parsed.
nlohmann::json ReadJson(const std::string& path);

// Logits file [rows][n_vocab]; empty when missing or of the wrong size.
std::vector<float> ReadLogits(const std::string& path, size_t rows, size_t n_vocab);

// Largest |a[i] - b[i]| over n values.
double MaxAbsDiff(const float* a, const float* b, size_t n);

// Difference between the largest and the second largest value.
double Top2Margin(const float* x, size_t n);

// The bound r1 is held to for a weight type (shared/reference/README.md, "The bounds r1 is
// held to"); `exact_variant` is the F32-weights, F32-KV-cache, no-flash-attention reference.
double LogitBound(const std::string& quant_type, bool exact_variant);

// Every file in `dir` whose name ends with `suffix`, sorted.
std::vector<std::string> FilesEndingWith(const std::string& dir, const std::string& suffix);

// Whether a session of `model` can hold its cache as `type` (q8_0 needs head sizes that are
// multiples of 32; f16 and f32 fit any). Says so when it cannot.
bool CacheTypeFits(const std::shared_ptr<const Model>& model, CacheType type);

}  // namespace r1::test
