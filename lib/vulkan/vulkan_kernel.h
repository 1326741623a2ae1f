// vulkan_kernel.h — one compute shader as a pipeline: its SPIR-V, the storage buffers it binds
// (bindings 0 … n-1 of set 0) and its push constants; run synchronously on its device.
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>
#include <memory>

#include "absl/types/span.h"
#include "r1/status.h"
#include "vulkan/vulkan_buffer.h"
#include "vulkan/vulkan_device.h"

namespace r1::vk {

// Workgroups per grid dimension every device runs (the least maxComputeWorkGroupCount the
// specification allows): larger grids continue in the next dimension.
inline constexpr uint32_t kMaxGroupsPerDimension = 65535;

// A kernel must not outlive its device.
class Kernel {
 public:
  static constexpr int kMaxBuffers = 8;  // bindings a kernel may have
  static StatusOr<std::unique_ptr<Kernel>> Create(Device& device, absl::Span<const uint32_t> spirv, int n_buffers,
                                                  uint32_t push_bytes);
  ~Kernel();
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  // Binds `buffers` (n_buffers of them, in binding order), pushes `push` (push_bytes) and runs
  // groups_x × groups_y × groups_z workgroups; returns once the device has finished.
  Status Run(absl::Span<Buffer* const> buffers, const void* push, uint32_t groups_x, uint32_t groups_y = 1,
             uint32_t groups_z = 1);

 private:
  explicit Kernel(Device& device) : device_(device) {}
  Device& device_;
  int n_buffers_ = 0;
  uint32_t push_bytes_ = 0;
  VkShaderModule module_ = VK_NULL_HANDLE;
  VkDescriptorSetLayout set_layout_ = VK_NULL_HANDLE;
  VkPipelineLayout layout_ = VK_NULL_HANDLE;
  VkPipeline pipeline_ = VK_NULL_HANDLE;
  VkDescriptorPool pool_ = VK_NULL_HANDLE;
  VkDescriptorSet set_ = VK_NULL_HANDLE;
};

}  // namespace r1::vk
