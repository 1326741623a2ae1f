// vulkan_buffer.h — a storage buffer on a Vulkan device, in memory the host can map: weights,
// inputs and outputs are written and read through the mapping (on a GPU without memory the host
// sees directly, a staged copy into device-local memory is the next step for weights).
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>
#include <memory>

#include "r1/status.h"
#include "vulkan/vulkan_device.h"

namespace r1::vk {

// A buffer must not outlive its device.
class Buffer {
 public:
  // A buffer of `bytes` (> 0, within the device's storage-buffer range).
  static StatusOr<std::unique_ptr<Buffer>> Create(Device& device, uint64_t bytes);
  // A buffer holding a copy of `bytes` bytes at `data`, its size rounded up to whole 32-bit
  // words (shaders read words).
  static StatusOr<std::unique_ptr<Buffer>> CreateFrom(Device& device, const void* data, uint64_t bytes);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  uint64_t bytes() const { return bytes_; }
  VkBuffer handle() const { return buffer_; }
  // The host's view of the contents (coherent: no flush needed).
  void* data() { return mapped_; }
  const void* data() const { return mapped_; }

 private:
  explicit Buffer(Device& device) : device_(device) {}
  Device& device_;
  uint64_t bytes_ = 0;
  VkBuffer buffer_ = VK_NULL_HANDLE;
  VkDeviceMemory memory_ = VK_NULL_HANDLE;
  void* mapped_ = nullptr;
};

}  // namespace r1::vk
