// The Vulkan matrix-vector kernels on the weights of real files: every matrix of every reference
// model in the shared folder whose type has a kernel, uploaded as the model binds it and
// multiplied by a random vector, against the scalar reference on the same rows.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "model/model_impl.h"
#include "r1/model.h"
#include "r1/quant/reference.h"
#include "support/test_util.h"
#include "vulkan/vulkan_matvec.h"
#include "vulkan_test_util.h"

R1_TEST_NEEDS_SHARED_DIR();

namespace r1::vk {
namespace {

[[maybe_unused]] const bool kHaveDevice = vulkan_test::RequireDeviceOrSkip();

// Every bound matrix of the model: each layer's and the output.
std::vector<const WeightMatrix*> Matrices(const ModelWeights& w) {
  std::vector<const WeightMatrix*> all{&w.output};
  for (const LayerWeights& L : w.layers) {
    for (const WeightMatrix* m : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down, &L.wq_a, &L.wq_b,
                                  &L.wkv_a, &L.gate_shexp, &L.up_shexp, &L.down_shexp}) {
      all.push_back(m);
    }
  }
  return all;
}

// The largest |got - want| over Σ|w·x| of one product's rows.
double WorstRelativeError(const WeightMatrix& m, const std::vector<float>& x_in, const float* got) {
  const std::vector<float> x = vulkan_test::RoundedAsCpu(m.type, x_in.data(), m.n_in);  // as the product rounds it
  std::vector<float> row(static_cast<size_t>(m.n_in));
  double worst = 0;
  for (int64_t r = 0; r < m.n_out; ++r) {
    quant::ref::DequantizeRow(m.type, m.Row(r), row.data(), m.n_in);
    double sum = 0, magnitude = 0;
    for (size_t k = 0; k < row.size(); ++k) {
      sum += static_cast<double>(row[k]) * x[k];
      magnitude += std::fabs(static_cast<double>(row[k]) * x[k]);
    }
    worst = std::max(worst, std::fabs(got[r] - sum) / (magnitude + 1e-30));
  }
  return worst;
}

TEST_CASE("Vulkan products over the reference models' own weights match the scalar reference") {
  auto device = vulkan_test::OpenDevice();
  auto matvec = MatVec::Create(*device);
  REQUIRE(matvec.ok());
  std::map<std::string, int> checked, skipped;  // per weight type
  for (const std::string& path : test::SharedModelPaths()) {
    auto model = Model::Load(path);
    REQUIRE_MESSAGE(model.ok(), path << ": " << model.status().ToString());
    for (const WeightMatrix* m : Matrices(*(*model)->impl().weights)) {
      if (m->data == nullptr) continue;  // not bound by this architecture
      const std::string type(DTypeName(m->type));
      if (!MatVec::Supports(m->type)) {
        ++skipped[type];
        continue;
      }
      CAPTURE(path);
      CAPTURE(type);
      CAPTURE(m->n_out);
      CAPTURE(m->n_in);
      auto w = MatVec::Upload(*device, *m);
      REQUIRE_MESSAGE(w.ok(), w.status().ToString());
      const auto x = test::RandomFloats(static_cast<size_t>(m->n_in), static_cast<uint64_t>(checked[type]) + 1);
      auto bx = vulkan_test::BufferOf(*device, x);
      auto y = vulkan_test::MakeBuffer(*device, static_cast<uint64_t>(m->n_out) * 4);
      REQUIRE((*matvec)->Run(m->type, m->n_in, m->n_out, **w, *bx, *y).ok());
      CHECK(WorstRelativeError(*m, x, static_cast<const float*>(y->data())) < 1e-5);
      ++checked[type];
    }
  }
  for (const auto& [type, n] : checked) MESSAGE(type << ": " << n << " matrices");
  for (const auto& [type, n] : skipped) MESSAGE(type << ": " << n << " matrices without a Vulkan kernel");
  CHECK(checked.size() >= 5);  // the shared folder has every legacy and K-quant type
}

TEST_CASE("Vulkan upload refuses what it cannot hold") {
  auto device = vulkan_test::OpenDevice();
  const uint8_t bytes[64] = {};
  CHECK(!MatVec::Upload(*device, WeightMatrix{DType::kIQ2_XXS, 256, 1, 66, bytes}).ok());
  CHECK(!MatVec::Upload(*device, WeightMatrix{DType::kQ8_0, 32, 1, 34, nullptr}).ok());
  CHECK(!MatVec::Upload(*device, WeightMatrix{DType::kQ8_0, 32, 0, 34, bytes}).ok());
}

}  // namespace
}  // namespace r1::vk
