// vulkan_device.cc — instance, device enumeration and selection, one compute queue.
#include "vulkan/vulkan_device.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace r1::vk {
namespace {

// A device's own instance: Vulkan 1.0, no layers or extensions (compute needs none).
StatusOr<VkInstance> CreateInstance() {
  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.pApplicationName = "r1";
  app.pEngineName = "r1";
  app.apiVersion = VK_API_VERSION_1_0;
  VkInstanceCreateInfo create{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  create.pApplicationInfo = &app;
  VkInstance instance = VK_NULL_HANDLE;
  const VkResult r = vkCreateInstance(&create, nullptr, &instance);
  if (r != VK_SUCCESS) return VulkanError(r, "creating a Vulkan instance (is a Vulkan driver installed?)");
  return instance;
}

// The first queue family that runs compute, or -1.
int ComputeQueueFamily(VkPhysicalDevice device) {
  uint32_t n = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(device, &n, nullptr);
  std::vector<VkQueueFamilyProperties> families(n);
  vkGetPhysicalDeviceQueueFamilyProperties(device, &n, families.data());
  for (uint32_t i = 0; i < n; ++i) {
    if (families[i].queueFlags & VK_QUEUE_COMPUTE_BIT) return static_cast<int>(i);
  }
  return -1;
}

const char* KindName(VkPhysicalDeviceType type) {
  switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
    default: return "other";
  }
}

DeviceInfo Describe(VkPhysicalDevice device) {
  VkPhysicalDeviceProperties p;
  vkGetPhysicalDeviceProperties(device, &p);
  VkPhysicalDeviceMemoryProperties m;
  vkGetPhysicalDeviceMemoryProperties(device, &m);
  DeviceInfo info{p.deviceName, KindName(p.deviceType), 0, p.vendorID, p.deviceID};
  for (uint32_t h = 0; h < m.memoryHeapCount; ++h) {
    if (m.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) {
      info.memory_bytes = std::max<uint64_t>(info.memory_bytes, m.memoryHeaps[h].size);
    }
  }
  return info;
}

// The physical devices with a compute queue.
StatusOr<std::vector<VkPhysicalDevice>> ComputeDevices(VkInstance instance) {
  uint32_t n = 0;
  VkResult r = vkEnumeratePhysicalDevices(instance, &n, nullptr);
  if (r != VK_SUCCESS) return VulkanError(r, "listing Vulkan devices");
  std::vector<VkPhysicalDevice> all(n);
  r = vkEnumeratePhysicalDevices(instance, &n, all.data());
  if (r != VK_SUCCESS && r != VK_INCOMPLETE) return VulkanError(r, "listing Vulkan devices");
  all.resize(n);
  std::vector<VkPhysicalDevice> compute;
  for (VkPhysicalDevice d : all) {
    if (ComputeQueueFamily(d) >= 0) compute.push_back(d);
  }
  return compute;
}

int PreferredDevice(const std::vector<VkPhysicalDevice>& devices) {
  for (const char* kind : {"discrete", "integrated"}) {
    for (size_t i = 0; i < devices.size(); ++i) {
      if (Describe(devices[i]).kind == kind) return static_cast<int>(i);
    }
  }
  return 0;
}

}  // namespace

Status VulkanError(VkResult result, const char* what) {
  const char* name = "an error";
  switch (result) {
    case VK_ERROR_OUT_OF_HOST_MEMORY: name = "VK_ERROR_OUT_OF_HOST_MEMORY"; break;
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: name = "VK_ERROR_OUT_OF_DEVICE_MEMORY"; break;
    case VK_ERROR_INITIALIZATION_FAILED: name = "VK_ERROR_INITIALIZATION_FAILED"; break;
    case VK_ERROR_DEVICE_LOST: name = "VK_ERROR_DEVICE_LOST"; break;
    case VK_ERROR_INCOMPATIBLE_DRIVER: name = "VK_ERROR_INCOMPATIBLE_DRIVER"; break;
    case VK_ERROR_LAYER_NOT_PRESENT: name = "VK_ERROR_LAYER_NOT_PRESENT"; break;
    case VK_ERROR_EXTENSION_NOT_PRESENT: name = "VK_ERROR_EXTENSION_NOT_PRESENT"; break;
    case VK_ERROR_FEATURE_NOT_PRESENT: name = "VK_ERROR_FEATURE_NOT_PRESENT"; break;
    case VK_ERROR_TOO_MANY_OBJECTS: name = "VK_ERROR_TOO_MANY_OBJECTS"; break;
    case VK_TIMEOUT: name = "VK_TIMEOUT"; break;
    default: break;
  }
  const std::string message = absl::StrCat("Vulkan: ", what, " failed: ", name, " (", static_cast<int>(result), ")");
  if (result == VK_ERROR_OUT_OF_HOST_MEMORY || result == VK_ERROR_OUT_OF_DEVICE_MEMORY) {
    return absl::ResourceExhaustedError(message);
  }
  return absl::UnavailableError(message);
}

StatusOr<std::vector<DeviceInfo>> ListDevices() {
  R1_ASSIGN_OR_RETURN(VkInstance instance, CreateInstance());
  StatusOr<std::vector<VkPhysicalDevice>> devices = ComputeDevices(instance);
  std::vector<DeviceInfo> infos;
  if (devices.ok()) {
    for (VkPhysicalDevice d : *devices) infos.push_back(Describe(d));
  }
  vkDestroyInstance(instance, nullptr);
  if (!devices.ok()) return devices.status();
  return infos;
}

StatusOr<std::unique_ptr<Device>> Device::Open(int index) {
  std::unique_ptr<Device> d(new Device());
  R1_ASSIGN_OR_RETURN(d->instance_, CreateInstance());
  R1_ASSIGN_OR_RETURN(std::vector<VkPhysicalDevice> devices, ComputeDevices(d->instance_));
  if (devices.empty()) return absl::NotFoundError("Vulkan: no device with a compute queue");
  if (index == kAnyDevice) index = PreferredDevice(devices);
  if (index < 0 || static_cast<size_t>(index) >= devices.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Vulkan: no device ", index, " (there are ", devices.size(), ")"));
  }
  d->physical_ = devices[static_cast<size_t>(index)];
  d->info_ = Describe(d->physical_);
  VkPhysicalDeviceProperties properties;
  vkGetPhysicalDeviceProperties(d->physical_, &properties);
  d->limits_ = properties.limits;
  vkGetPhysicalDeviceMemoryProperties(d->physical_, &d->memory_);

  const uint32_t family = static_cast<uint32_t>(ComputeQueueFamily(d->physical_));
  const float priority = 1.0f;
  VkDeviceQueueCreateInfo queue{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
  queue.queueFamilyIndex = family;
  queue.queueCount = 1;
  queue.pQueuePriorities = &priority;
  VkDeviceCreateInfo create{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
  create.queueCreateInfoCount = 1;
  create.pQueueCreateInfos = &queue;
  VkResult r = vkCreateDevice(d->physical_, &create, nullptr, &d->device_);
  if (r != VK_SUCCESS) return VulkanError(r, "opening the device");
  vkGetDeviceQueue(d->device_, family, 0, &d->queue_);

  VkCommandPoolCreateInfo pool{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  pool.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  pool.queueFamilyIndex = family;
  r = vkCreateCommandPool(d->device_, &pool, nullptr, &d->pool_);
  if (r != VK_SUCCESS) return VulkanError(r, "creating a command pool");
  VkCommandBufferAllocateInfo alloc{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  alloc.commandPool = d->pool_;
  alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  alloc.commandBufferCount = 1;
  r = vkAllocateCommandBuffers(d->device_, &alloc, &d->commands_);
  if (r != VK_SUCCESS) return VulkanError(r, "allocating a command buffer");
  VkFenceCreateInfo fence{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  r = vkCreateFence(d->device_, &fence, nullptr, &d->fence_);
  if (r != VK_SUCCESS) return VulkanError(r, "creating a fence");
  return d;
}

Device::~Device() {
  if (device_ != VK_NULL_HANDLE) {
    vkDeviceWaitIdle(device_);
    if (fence_ != VK_NULL_HANDLE) vkDestroyFence(device_, fence_, nullptr);
    if (pool_ != VK_NULL_HANDLE) vkDestroyCommandPool(device_, pool_, nullptr);  // frees commands_
    vkDestroyDevice(device_, nullptr);
  }
  if (instance_ != VK_NULL_HANDLE) vkDestroyInstance(instance_, nullptr);
}

StatusOr<uint32_t> Device::MemoryType(uint32_t allowed_types, VkMemoryPropertyFlags required) const {
  for (uint32_t i = 0; i < memory_.memoryTypeCount; ++i) {
    if ((allowed_types & (1u << i)) && (memory_.memoryTypes[i].propertyFlags & required) == required) return i;
  }
  return absl::NotFoundError("Vulkan: the device has no memory of the kind a buffer needs");
}

Status Device::BeginCommands(VkCommandBuffer* cmd) {
  VkResult r = vkResetCommandBuffer(commands_, 0);
  if (r != VK_SUCCESS) return VulkanError(r, "resetting the command buffer");
  VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  r = vkBeginCommandBuffer(commands_, &begin);
  if (r != VK_SUCCESS) return VulkanError(r, "recording commands");
  *cmd = commands_;
  return absl::OkStatus();
}

Status Device::SubmitAndWait(VkCommandBuffer cmd) {
  // A fence makes the device's writes available, not visible to the host: the barrier does
  // that for the host's reads of mapped buffers that follow.
  VkMemoryBarrier to_host{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  to_host.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  to_host.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
  vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                       VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &to_host, 0, nullptr, 0, nullptr);
  VkResult r = vkEndCommandBuffer(cmd);
  if (r != VK_SUCCESS) return VulkanError(r, "recording commands");
  VkSubmitInfo submit{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  submit.commandBufferCount = 1;
  submit.pCommandBuffers = &cmd;
  r = vkQueueSubmit(queue_, 1, &submit, fence_);
  if (r != VK_SUCCESS) return VulkanError(r, "submitting work");
  r = vkWaitForFences(device_, 1, &fence_, VK_TRUE, UINT64_MAX);
  const VkResult reset = vkResetFences(device_, 1, &fence_);
  if (r != VK_SUCCESS) return VulkanError(r, "waiting for the device");
  if (reset != VK_SUCCESS) return VulkanError(reset, "resetting a fence");
  return absl::OkStatus();
}

}  // namespace r1::vk
