// vulkan_buffer.cc — host-visible, coherent storage buffers, mapped for their lifetime.
#include "vulkan/vulkan_buffer.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace r1::vk {

StatusOr<std::unique_ptr<Buffer>> Buffer::Create(Device& device, uint64_t bytes) {
  const uint64_t range = device.limits().maxStorageBufferRange;
  if (bytes == 0 || bytes > range) {
    return absl::InvalidArgumentError(absl::StrCat("Vulkan: a storage buffer of ", bytes,
                                                   " bytes (the device allows 1 to ", range, ")"));
  }
  std::unique_ptr<Buffer> b(new Buffer(device));
  b->bytes_ = bytes;
  VkBufferCreateInfo create{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  create.size = bytes;
  create.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
  create.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  VkResult r = vkCreateBuffer(device.handle(), &create, nullptr, &b->buffer_);
  if (r != VK_SUCCESS) return VulkanError(r, "creating a buffer");
  VkMemoryRequirements needs;
  vkGetBufferMemoryRequirements(device.handle(), b->buffer_, &needs);
  R1_ASSIGN_OR_RETURN(const uint32_t type,
                      device.MemoryType(needs.memoryTypeBits,
                                        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT));
  VkMemoryAllocateInfo alloc{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  alloc.allocationSize = needs.size;
  alloc.memoryTypeIndex = type;
  r = vkAllocateMemory(device.handle(), &alloc, nullptr, &b->memory_);
  if (r != VK_SUCCESS) return VulkanError(r, "allocating device memory");
  r = vkBindBufferMemory(device.handle(), b->buffer_, b->memory_, 0);
  if (r != VK_SUCCESS) return VulkanError(r, "binding a buffer's memory");
  r = vkMapMemory(device.handle(), b->memory_, 0, VK_WHOLE_SIZE, 0, &b->mapped_);
  if (r != VK_SUCCESS) return VulkanError(r, "mapping a buffer");
  return b;
}

StatusOr<std::unique_ptr<Buffer>> Buffer::CreateFrom(Device& device, const void* data, uint64_t bytes) {
  R1_ASSIGN_OR_RETURN(std::unique_ptr<Buffer> b, Create(device, (bytes + 3) / 4 * 4));
  std::memcpy(b->data(), data, bytes);
  return b;
}

Buffer::~Buffer() {
  if (mapped_ != nullptr) vkUnmapMemory(device_.handle(), memory_);
  if (buffer_ != VK_NULL_HANDLE) vkDestroyBuffer(device_.handle(), buffer_, nullptr);
  if (memory_ != VK_NULL_HANDLE) vkFreeMemory(device_.handle(), memory_, nullptr);
}

}  // namespace r1::vk
