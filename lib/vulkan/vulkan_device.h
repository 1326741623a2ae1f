// vulkan_device.h — a Vulkan device for compute: the devices this machine's Vulkan drivers
// offer, and one of them opened with a compute queue. Every call returns a Status: no loader
// or driver, no device, a lost device or exhausted memory are errors, never aborts.
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "r1/status.h"

namespace r1::vk {

struct DeviceInfo {
  std::string name;
  std::string kind;           // "discrete", "integrated", "virtual", "cpu" (a software device), "other"
  uint64_t memory_bytes = 0;  // the largest device-local heap
  uint32_t vendor_id = 0, device_id = 0;
};

// The devices with a compute queue, in the driver's order (the index Device::Open takes).
StatusOr<std::vector<DeviceInfo>> ListDevices();

// The Status of a failed Vulkan call: what was being done and the result's name.
Status VulkanError(VkResult result, const char* what);

class Device {
 public:
  // Opens device `index` of ListDevices(); kAnyDevice picks the first discrete GPU, else the
  // first integrated one, else the first listed.
  static constexpr int kAnyDevice = -1;
  static StatusOr<std::unique_ptr<Device>> Open(int index = kAnyDevice);
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  const DeviceInfo& info() const { return info_; }
  VkDevice handle() const { return device_; }
  const VkPhysicalDeviceLimits& limits() const { return limits_; }
  // A memory type with all of `required` among `allowed_types` (a memoryTypeBits mask).
  StatusOr<uint32_t> MemoryType(uint32_t allowed_types, VkMemoryPropertyFlags required) const;

  // Records commands with `record` into a one-time command buffer, submits it and waits for
  // the device to finish it.
  template <typename Record>
  Status Run(Record&& record) {
    VkCommandBuffer cmd;
    R1_RETURN_IF_ERROR(BeginCommands(&cmd));
    record(cmd);
    return SubmitAndWait(cmd);
  }

 private:
  Device() = default;
  Status BeginCommands(VkCommandBuffer* cmd);
  Status SubmitAndWait(VkCommandBuffer cmd);

  DeviceInfo info_;
  VkInstance instance_ = VK_NULL_HANDLE;
  VkPhysicalDevice physical_ = VK_NULL_HANDLE;
  VkPhysicalDeviceLimits limits_{};
  VkPhysicalDeviceMemoryProperties memory_{};
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  VkCommandPool pool_ = VK_NULL_HANDLE;
  VkCommandBuffer commands_ = VK_NULL_HANDLE;
  VkFence fence_ = VK_NULL_HANDLE;
};

}  // namespace r1::vk
