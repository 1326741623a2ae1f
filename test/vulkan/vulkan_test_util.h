// Shared by the Vulkan suites: the skip-or-fail check for a device, an opened device, buffers
// filled from and read into host vectors, and activations rounded as the CPU's products round them.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "r1/quant/reference.h"
#include "vulkan/vulkan_buffer.h"
#include "vulkan/vulkan_device.h"

namespace r1::vulkan_test {

using vk::Buffer;
using vk::Device;

// Exits the suite before any case runs when the machine has no Vulkan device: 77 (skipped, with
// a message), or 1 when R1_VULKAN_REQUIRED is set (CI, where a device must be there).
inline bool RequireDeviceOrSkip() {
  const auto devices = vk::ListDevices();
  if (devices.ok() && !devices->empty()) return true;
  const std::string why = devices.ok() ? "no Vulkan device" : std::string(devices.status().message());
  if (std::getenv("R1_VULKAN_REQUIRED") != nullptr) {
    std::fprintf(stderr, "vulkan: R1_VULKAN_REQUIRED is set, but: %s\n", why.c_str());
    std::exit(1);
  }
  std::fprintf(stderr, "vulkan: skipped: %s (install a Vulkan driver, e.g. mesa-vulkan-drivers)\n", why.c_str());
  std::exit(77);
}

inline std::unique_ptr<Device> OpenDevice() {
  auto device = Device::Open();
  REQUIRE_MESSAGE(device.ok(), device.status().ToString());
  return *std::move(device);
}

// A buffer of at least `bytes`, rounded up to whole 32-bit words.
inline std::unique_ptr<Buffer> MakeBuffer(Device& device, uint64_t bytes) {
  auto buffer = Buffer::Create(device, (bytes + 3) / 4 * 4);
  REQUIRE_MESSAGE(buffer.ok(), buffer.status().ToString());
  return *std::move(buffer);
}

inline std::unique_ptr<Buffer> BufferOf(Device& device, const std::vector<float>& values) {
  auto buffer = Buffer::CreateFrom(device, values.data(), values.size() * sizeof(float));
  REQUIRE_MESSAGE(buffer.ok(), buffer.status().ToString());
  return *std::move(buffer);
}

inline std::vector<float> Read(const Buffer& buffer, size_t n) {
  std::vector<float> values(n);
  std::memcpy(values.data(), buffer.data(), n * sizeof(float));
  return values;
}

// x[0, n) as a product with `weight_type` rows multiplies it: quantized to the type's
// vec_dot_type and back (r1::quant::ref's round trip).
inline std::vector<float> RoundedAsCpu(DType weight_type, const float* x, int64_t n) {
  const DType dot = *quant::ref::VecDotType(weight_type);
  std::vector<uint8_t> packed(*RowBytes(dot, static_cast<uint64_t>(n)));
  std::vector<float> rounded(static_cast<size_t>(n));
  REQUIRE(quant::ref::QuantizeRow(dot, x, packed.data(), n));
  REQUIRE(quant::ref::DequantizeRow(dot, packed.data(), rounded.data(), n));
  return rounded;
}

}  // namespace r1::vulkan_test
