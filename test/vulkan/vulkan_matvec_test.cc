// The Vulkan matrix-vector kernels against the scalar reference (r1::quant::ref), on whatever
// Vulkan device the machine has (in CI, Mesa's software device, lavapipe).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "r1/quant/reference.h"
#include "support/test_util.h"
#include "vulkan/vulkan_buffer.h"
#include "vulkan/vulkan_device.h"
#include "vulkan/vulkan_matvec.h"
#include "vulkan_test_util.h"

namespace r1::vk {
namespace {

[[maybe_unused]] const bool kHaveDevice = vulkan_test::RequireDeviceOrSkip();
using vulkan_test::MakeBuffer;
using vulkan_test::OpenDevice;

TEST_CASE("Vulkan devices are listed with a name and a kind") {
  const auto devices = ListDevices();
  REQUIRE(devices.ok());
  for (const DeviceInfo& d : *devices) {
    MESSAGE(d.name << " (" << d.kind << ", " << d.memory_bytes / (1 << 20) << " MiB)");
    CHECK(!d.name.empty());
    CHECK(std::string("discrete integrated virtual cpu other").find(d.kind) != std::string::npos);
  }
  if (devices->size() == 1) CHECK(OpenDevice()->info().name == (*devices)[0].name);
}

TEST_CASE("Vulkan matrix-vector products match the scalar reference") {
  auto device = OpenDevice();
  auto matvec = MatVec::Create(*device);
  REQUIRE_MESSAGE(matvec.ok(), matvec.status().ToString());
  // Awkward sizes, in units of the type's block (at least 32 elements): one row, odd row
  // counts, rows of one and of many blocks, and more rows than one grid row holds (65,535).
  struct Shape {
    int64_t n_out, n_units;
  };
  const Shape shapes[] = {{1, 1}, {37, 3}, {5, 64}, {3, 13}, {70001, 1}};
  for (DType type : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0, DType::kQ4_1, DType::kQ5_0,
                     DType::kQ5_1, DType::kQ2_K, DType::kQ3_K, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K}) {
    REQUIRE(MatVec::Supports(type));
    for (const Shape& shape : shapes) {
      const int64_t n_out = shape.n_out, n_in = shape.n_units * std::max<int64_t>(32, Traits(type).block_size);
      CAPTURE(DTypeName(type));
      CAPTURE(n_out);
      CAPTURE(n_in);
      const uint64_t row_bytes = *RowBytes(type, static_cast<uint64_t>(n_in));
      auto w = MakeBuffer(*device, row_bytes * static_cast<uint64_t>(n_out));
      auto x = MakeBuffer(*device, static_cast<uint64_t>(n_in) * 4);
      auto y = MakeBuffer(*device, static_cast<uint64_t>(n_out) * 4);
      const auto xf = test::RandomFloats(static_cast<size_t>(n_in), 7, -2.0f, 2.0f);
      std::memcpy(x->data(), xf.data(), xf.size() * 4);
      const std::vector<float> xr = vulkan_test::RoundedAsCpu(type, xf.data(), n_in);  // what the product multiplies
      std::vector<float> expected(static_cast<size_t>(n_out)), magnitude(expected.size());
      std::vector<float> row(static_cast<size_t>(n_in));
      for (int64_t r = 0; r < n_out; ++r) {
        const auto wf = test::RandomFloats(static_cast<size_t>(n_in), 100 + static_cast<uint64_t>(r));
        uint8_t* wr = static_cast<uint8_t*>(w->data()) + static_cast<uint64_t>(r) * row_bytes;
        quant::ref::QuantizeRow(type, wf.data(), wr, n_in);
        quant::ref::DequantizeRow(type, wr, row.data(), n_in);
        double sum = 0, abs_sum = 0;
        for (int64_t k = 0; k < n_in; ++k) {
          sum += static_cast<double>(row[static_cast<size_t>(k)]) * xr[static_cast<size_t>(k)];
          abs_sum += std::fabs(static_cast<double>(row[static_cast<size_t>(k)]) * xr[static_cast<size_t>(k)]);
        }
        expected[static_cast<size_t>(r)] = static_cast<float>(sum);
        magnitude[static_cast<size_t>(r)] = static_cast<float>(abs_sum);
      }
      std::memset(y->data(), 0xff, y->bytes());  // NaNs: every row must be written
      const Status run = (*matvec)->Run(type, n_in, n_out, *w, *x, *y);
      REQUIRE_MESSAGE(run.ok(), run.ToString());
      const float* got = static_cast<const float*>(y->data());
      int64_t bad = 0;
      for (int64_t r = 0; r < n_out; ++r) {
        const float tolerance = 1e-5f * magnitude[static_cast<size_t>(r)] + 1e-6f;
        if (!(std::fabs(got[r] - expected[static_cast<size_t>(r)]) <= tolerance)) {
          if (bad++ == 0) MESSAGE("row " << r << ": " << got[r] << " vs " << expected[static_cast<size_t>(r)]);
        }
      }
      CHECK(bad == 0);
    }
  }
}

TEST_CASE("Vulkan grouped products: per-head matrices and one expert of a stack match the reference") {
  auto device = OpenDevice();
  auto matvec = MatVec::Create(*device);
  REQUIRE_MESSAGE(matvec.ok(), matvec.status().ToString());
  // n_stacked matrices of n_out rows, back to back (as attn_k_b's heads or ffn_*_exps' experts).
  for (DType type : {DType::kF32, DType::kF16, DType::kQ8_0, DType::kQ4_K, DType::kQ6_K}) {
    const int64_t n_in = 3 * std::max<int64_t>(32, Traits(type).block_size), n_out = 7, n_stacked = 5;
    const int64_t x_stride = n_in + 13, y_stride = n_out + 3;  // heads of x and y wider than the products
    CAPTURE(DTypeName(type));
    const uint64_t row_bytes = *RowBytes(type, static_cast<uint64_t>(n_in));
    auto w = MakeBuffer(*device, row_bytes * static_cast<uint64_t>(n_out * n_stacked));
    std::vector<float> weights(static_cast<size_t>(n_out * n_stacked * n_in));
    for (int64_t r = 0; r < n_out * n_stacked; ++r) {
      const auto wf = test::RandomFloats(static_cast<size_t>(n_in), 500 + static_cast<uint64_t>(r));
      uint8_t* wr = static_cast<uint8_t*>(w->data()) + static_cast<uint64_t>(r) * row_bytes;
      quant::ref::QuantizeRow(type, wf.data(), wr, n_in);
      quant::ref::DequantizeRow(type, wr, &weights[static_cast<size_t>(r * n_in)], n_in);
    }
    const auto xf = test::RandomFloats(static_cast<size_t>(n_stacked * x_stride), 9, -2.0f, 2.0f);
    auto x = MakeBuffer(*device, xf.size() * 4);
    std::memcpy(x->data(), xf.data(), xf.size() * 4);
    auto y = MakeBuffer(*device, static_cast<uint64_t>(n_stacked * y_stride) * 4);
    // Row r of matrix m times x from x_base, rounded as the CPU rounds it.
    const auto dot = [&](int64_t m, int64_t r, int64_t x_base) {
      const std::vector<float> xr = vulkan_test::RoundedAsCpu(type, &xf[static_cast<size_t>(x_base)], n_in);
      double sum = 0;
      for (int64_t k = 0; k < n_in; ++k) sum += double(weights[static_cast<size_t>((m * n_out + r) * n_in + k)]) * xr[size_t(k)];
      return static_cast<float>(sum);
    };
    const auto near = [](float got, float want) { return std::fabs(got - want) <= 1e-4f * (1.0f + std::fabs(want)); };
    const float* got = static_cast<const float*>(y->data());

    // Every head by its own matrix: y[h · y_stride + r] = W_h[r] · x[h · x_stride …]; the gaps
    // between heads of y stay as they were.
    std::memset(y->data(), 0xff, y->bytes());
    REQUIRE((*matvec)->Run(type, n_in, n_out * n_stacked, *w, *x, *y, {0, n_out, x_stride, y_stride}).ok());
    int64_t bad = 0;
    for (int64_t h = 0; h < n_stacked; ++h) {
      for (int64_t r = 0; r < n_out; ++r) bad += !near(got[h * y_stride + r], dot(h, r, h * x_stride));
      for (int64_t r = n_out; r < y_stride; ++r) bad += !std::isnan(got[h * y_stride + r]);
    }
    CHECK(bad == 0);

    // One expert (matrix 3) of the stack by the start of x.
    REQUIRE((*matvec)->Run(type, n_in, n_out, *w, *x, *y, {3 * n_out}).ok());
    bad = 0;
    for (int64_t r = 0; r < n_out; ++r) bad += !near(got[r], dot(3, r, 0));
    CHECK(bad == 0);
  }
}

// Several columns of x at once (a prompt's tokens): each column's product as alone, columns of
// x and y strided apart, more columns than one workgroup takes (8) and a ragged last block.
TEST_CASE("Vulkan matrix-matrix products match the reference column by column") {
  auto device = OpenDevice();
  auto matvec = MatVec::Create(*device);
  REQUIRE_MESSAGE(matvec.ok(), matvec.status().ToString());
  for (DType type : {DType::kF32, DType::kBF16, DType::kQ4_0, DType::kQ5_1, DType::kQ3_K, DType::kQ5_K}) {
    const int64_t n_in = 2 * std::max<int64_t>(32, Traits(type).block_size), n_out = 13;
    const uint64_t row_bytes = *RowBytes(type, static_cast<uint64_t>(n_in));
    auto w = MakeBuffer(*device, row_bytes * static_cast<uint64_t>(n_out));
    std::vector<float> weights(static_cast<size_t>(n_out * n_in));
    for (int64_t r = 0; r < n_out; ++r) {
      const auto wf = test::RandomFloats(static_cast<size_t>(n_in), 900 + static_cast<uint64_t>(r));
      uint8_t* wr = static_cast<uint8_t*>(w->data()) + static_cast<uint64_t>(r) * row_bytes;
      quant::ref::QuantizeRow(type, wf.data(), wr, n_in);
      quant::ref::DequantizeRow(type, wr, &weights[static_cast<size_t>(r * n_in)], n_in);
    }
    for (const int64_t n_cols : {int64_t{1}, int64_t{2}, int64_t{8}, int64_t{11}, int64_t{17}}) {
      CAPTURE(DTypeName(type));
      CAPTURE(n_cols);
      const int64_t x_col_stride = n_in + 5, y_col_stride = n_out + 2;
      const auto xf = test::RandomFloats(static_cast<size_t>(n_cols * x_col_stride), 31, -2.0f, 2.0f);
      auto x = vulkan_test::BufferOf(*device, xf);
      auto y = MakeBuffer(*device, static_cast<uint64_t>(n_cols * y_col_stride) * 4);
      std::memset(y->data(), 0xff, y->bytes());
      ProductLayout layout;
      layout.n_cols = n_cols;
      layout.x_col_stride = x_col_stride;
      layout.y_col_stride = y_col_stride;
      REQUIRE((*matvec)->Run(type, n_in, n_out, *w, *x, *y, layout).ok());
      const float* got = static_cast<const float*>(y->data());
      int64_t bad = 0;
      for (int64_t c = 0; c < n_cols; ++c) {
        const std::vector<float> xr = vulkan_test::RoundedAsCpu(type, &xf[static_cast<size_t>(c * x_col_stride)], n_in);
        for (int64_t r = 0; r < n_out; ++r) {
          double want = 0;
          for (int64_t k = 0; k < n_in; ++k) want += double(weights[static_cast<size_t>(r * n_in + k)]) * xr[size_t(k)];
          bad += !(std::fabs(got[c * y_col_stride + r] - want) <= 1e-4 * (1.0 + std::fabs(want)));
        }
        for (int64_t r = n_out; r < y_col_stride; ++r) bad += !std::isnan(got[c * y_col_stride + r]);  // gaps kept
      }
      CHECK(bad == 0);
    }
  }
}

// The rounding before every product, value for value against the CPU's quantize-dequantize
// round trip: blocks of 32 (Q8_0, Q8_1) and 256 (Q8_K), f16 and bf16 value by value, rows
// strided apart, values spanning many magnitudes (f16 subnormals included), a block of zeros.
TEST_CASE("Vulkan activations are rounded exactly as the CPU rounds them") {
  auto device = OpenDevice();
  auto matvec = MatVec::Create(*device);
  REQUIRE(matvec.ok());
  for (DType type : {DType::kF32, DType::kQ8_0, DType::kQ4_1, DType::kQ4_K, DType::kF16, DType::kBF16}) {
    const int64_t n_in = 512, n_groups = 3, stride = 530;
    CAPTURE(DTypeName(type));
    std::vector<float> x = test::RandomFloats(static_cast<size_t>((n_groups - 1) * stride + n_in), 21, -1.0f, 1.0f);
    for (size_t i = 0; i < x.size(); ++i) x[i] *= std::ldexp(1.0f, static_cast<int>(i % 41) - 30);  // 2^-30 … 2^10
    std::fill(x.begin() + stride, x.begin() + stride + 256, 0.0f);  // the second row's first blocks: zeros
    auto bx = vulkan_test::BufferOf(*device, x), out = vulkan_test::BufferOf(*device, std::vector<float>(x.size()));
    REQUIRE((*matvec)->RoundActivations(type, n_in, n_groups, stride, *bx, *out).ok());
    const std::vector<float> got = vulkan_test::Read(*out, x.size());
    int64_t differ = 0;
    for (int64_t g = 0; g < n_groups; ++g) {
      const std::vector<float> want = vulkan_test::RoundedAsCpu(type, &x[static_cast<size_t>(g * stride)], n_in);
      for (int64_t k = 0; k < n_in; ++k) {
        if (got[static_cast<size_t>(g * stride + k)] != want[static_cast<size_t>(k)] && differ++ == 0) {
          MESSAGE("row " << g << ", value " << k << ": " << got[size_t(g * stride + k)] << " vs " << want[size_t(k)]);
        }
      }
    }
    CHECK(differ == 0);
  }
}

TEST_CASE("Vulkan: bad arguments are refused with a status") {
  CHECK(Device::Open(1 << 20).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Device::Open(-5).status().code() == absl::StatusCode::kInvalidArgument);
  auto device = OpenDevice();
  CHECK(Buffer::Create(*device, 0).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Buffer::Create(*device, uint64_t{1} << 62).status().code() == absl::StatusCode::kInvalidArgument);
  auto matvec = MatVec::Create(*device);
  REQUIRE(matvec.ok());
  auto w = MakeBuffer(*device, 34 * 4), x = MakeBuffer(*device, 4 * 128), y = MakeBuffer(*device, 4 * 4);
  // Four Q8_0 rows of 32 fit; anything more, a width off the block size, or a kernel r1 lacks
  // does not.
  CHECK((*matvec)->Run(DType::kQ8_0, 32, 4, *w, *x, *y).ok());
  CHECK((*matvec)->Run(DType::kQ8_0, 32, 5, *w, *x, *y).code() == absl::StatusCode::kInvalidArgument);
  CHECK((*matvec)->Run(DType::kQ8_0, 64, 4, *w, *x, *y).code() == absl::StatusCode::kInvalidArgument);
  CHECK((*matvec)->Run(DType::kQ8_0, 33, 1, *w, *x, *y).code() == absl::StatusCode::kInvalidArgument);
  CHECK((*matvec)->Run(DType::kQ8_0, 0, 1, *w, *x, *y).code() == absl::StatusCode::kInvalidArgument);
  CHECK((*matvec)->Run(DType::kQ8_0, 32, -1, *w, *x, *y).code() == absl::StatusCode::kInvalidArgument);
  CHECK((*matvec)->Run(DType::kF32, 256, 1, *w, *x, *y).code() == absl::StatusCode::kInvalidArgument);
  CHECK((*matvec)->Run(DType::kIQ2_XXS, 256, 1, *w, *x, *y).code() == absl::StatusCode::kUnimplemented);
  // Layouts past the buffers: rows beyond the stack, a group count that does not divide the
  // rows, inputs or outputs of the last group outside x or y.
  CHECK((*matvec)->Run(DType::kQ8_0, 32, 2, *w, *x, *y, {3}).code() == absl::StatusCode::kInvalidArgument);
  CHECK((*matvec)->Run(DType::kQ8_0, 32, 4, *w, *x, *y, {0, 3}).code() == absl::StatusCode::kInvalidArgument);
  CHECK((*matvec)->Run(DType::kQ8_0, 32, 4, *w, *x, *y, {0, 2, 100, 2}).code() == absl::StatusCode::kInvalidArgument);
  CHECK((*matvec)->Run(DType::kQ8_0, 32, 4, *w, *x, *y, {0, 2, 32, 3}).code() == absl::StatusCode::kInvalidArgument);
  CHECK((*matvec)->Run(DType::kQ8_0, 32, 4, *w, *x, *y, {0, 2, 96, 2}).ok());
  // Columns: past x (4 x 32 floats fit, 5 do not), past y, with heads, none.
  CHECK((*matvec)->Run(DType::kQ8_0, 32, 1, *w, *x, *y, {0, 0, 0, 0, 4}).ok());
  CHECK((*matvec)->Run(DType::kQ8_0, 32, 1, *w, *x, *y, {0, 0, 0, 0, 5}).code() == absl::StatusCode::kInvalidArgument);
  CHECK((*matvec)->Run(DType::kQ8_0, 32, 4, *w, *x, *y, {0, 0, 0, 0, 2}).code() == absl::StatusCode::kInvalidArgument);
  CHECK((*matvec)->Run(DType::kQ8_0, 32, 4, *w, *x, *y, {0, 2, 32, 2, 2}).code() == absl::StatusCode::kInvalidArgument);
  CHECK((*matvec)->Run(DType::kQ8_0, 32, 1, *w, *x, *y, {0, 0, 0, 0, 0}).code() == absl::StatusCode::kInvalidArgument);
  CHECK(!MatVec::Supports(DType::kIQ2_XXS));
}

}  // namespace
}  // namespace r1::vk
