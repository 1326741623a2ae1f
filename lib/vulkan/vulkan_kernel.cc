// vulkan_kernel.cc — compute pipelines with one descriptor set of storage buffers, rebound on
// every run (runs wait for the device, so the set is never in use when it is rewritten).
#include "vulkan/vulkan_kernel.h"

#include <array>
#include <vector>

#include "absl/strings/str_cat.h"

namespace r1::vk {

StatusOr<std::unique_ptr<Kernel>> Kernel::Create(Device& device, absl::Span<const uint32_t> spirv, int n_buffers,
                                                 uint32_t push_bytes) {
  if (spirv.empty() || n_buffers <= 0 || n_buffers > kMaxBuffers || push_bytes > device.limits().maxPushConstantsSize) {
    return absl::InvalidArgumentError("Vulkan: a kernel needs SPIR-V, buffers and push constants the device allows");
  }
  if (static_cast<uint32_t>(n_buffers) > device.limits().maxPerStageDescriptorStorageBuffers) {
    return absl::UnimplementedError(absl::StrCat("Vulkan: ", device.info().name, " binds at most ",
                                                 device.limits().maxPerStageDescriptorStorageBuffers,
                                                 " storage buffers per shader; a kernel needs ", n_buffers));
  }
  std::unique_ptr<Kernel> k(new Kernel(device));
  k->n_buffers_ = n_buffers;
  k->push_bytes_ = push_bytes;
  const VkDevice d = device.handle();

  VkShaderModuleCreateInfo module{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
  module.codeSize = spirv.size() * sizeof(uint32_t);
  module.pCode = spirv.data();
  VkResult r = vkCreateShaderModule(d, &module, nullptr, &k->module_);
  if (r != VK_SUCCESS) return VulkanError(r, "loading a shader");

  std::vector<VkDescriptorSetLayoutBinding> bindings(static_cast<size_t>(n_buffers));
  for (int i = 0; i < n_buffers; ++i) {
    bindings[static_cast<size_t>(i)] = {static_cast<uint32_t>(i), VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1,
                                        VK_SHADER_STAGE_COMPUTE_BIT, nullptr};
  }
  VkDescriptorSetLayoutCreateInfo set_layout{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
  set_layout.bindingCount = static_cast<uint32_t>(n_buffers);
  set_layout.pBindings = bindings.data();
  r = vkCreateDescriptorSetLayout(d, &set_layout, nullptr, &k->set_layout_);
  if (r != VK_SUCCESS) return VulkanError(r, "creating a descriptor set layout");

  const VkPushConstantRange push{VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes};
  VkPipelineLayoutCreateInfo layout{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
  layout.setLayoutCount = 1;
  layout.pSetLayouts = &k->set_layout_;
  layout.pushConstantRangeCount = push_bytes > 0 ? 1 : 0;
  layout.pPushConstantRanges = &push;
  r = vkCreatePipelineLayout(d, &layout, nullptr, &k->layout_);
  if (r != VK_SUCCESS) return VulkanError(r, "creating a pipeline layout");

  VkComputePipelineCreateInfo pipeline{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
  pipeline.stage = {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO};
  pipeline.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  pipeline.stage.module = k->module_;
  pipeline.stage.pName = "main";
  pipeline.layout = k->layout_;
  r = vkCreateComputePipelines(d, VK_NULL_HANDLE, 1, &pipeline, nullptr, &k->pipeline_);
  if (r != VK_SUCCESS) return VulkanError(r, "creating a compute pipeline");

  const VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, static_cast<uint32_t>(n_buffers)};
  VkDescriptorPoolCreateInfo pool{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
  pool.maxSets = 1;
  pool.poolSizeCount = 1;
  pool.pPoolSizes = &size;
  r = vkCreateDescriptorPool(d, &pool, nullptr, &k->pool_);
  if (r != VK_SUCCESS) return VulkanError(r, "creating a descriptor pool");
  VkDescriptorSetAllocateInfo alloc{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
  alloc.descriptorPool = k->pool_;
  alloc.descriptorSetCount = 1;
  alloc.pSetLayouts = &k->set_layout_;
  r = vkAllocateDescriptorSets(d, &alloc, &k->set_);
  if (r != VK_SUCCESS) return VulkanError(r, "allocating a descriptor set");
  return k;
}

Kernel::~Kernel() {
  const VkDevice d = device_.handle();
  if (pool_ != VK_NULL_HANDLE) vkDestroyDescriptorPool(d, pool_, nullptr);  // frees set_
  if (pipeline_ != VK_NULL_HANDLE) vkDestroyPipeline(d, pipeline_, nullptr);
  if (layout_ != VK_NULL_HANDLE) vkDestroyPipelineLayout(d, layout_, nullptr);
  if (set_layout_ != VK_NULL_HANDLE) vkDestroyDescriptorSetLayout(d, set_layout_, nullptr);
  if (module_ != VK_NULL_HANDLE) vkDestroyShaderModule(d, module_, nullptr);
}

Status Kernel::Run(absl::Span<Buffer* const> buffers, const void* push, uint32_t groups_x, uint32_t groups_y,
                   uint32_t groups_z) {
  const VkPhysicalDeviceLimits& limits = device_.limits();
  if (buffers.size() != static_cast<size_t>(n_buffers_) || (push_bytes_ > 0 && push == nullptr) || groups_x == 0 ||
      groups_y == 0 || groups_z == 0 || groups_x > limits.maxComputeWorkGroupCount[0] ||
      groups_y > limits.maxComputeWorkGroupCount[1] || groups_z > limits.maxComputeWorkGroupCount[2]) {
    return absl::InvalidArgumentError(absl::StrCat("Vulkan: a kernel run with ", buffers.size(), " buffers (needs ",
                                                   n_buffers_, ") and ", groups_x, " x ", groups_y, " x ", groups_z, " workgroups"));
  }
  // Every operator of a decode step comes here: the descriptors live on the stack.
  std::array<VkDescriptorBufferInfo, kMaxBuffers> infos;
  std::array<VkWriteDescriptorSet, kMaxBuffers> writes;
  for (size_t i = 0; i < buffers.size(); ++i) {
    if (buffers[i] == nullptr) return absl::InvalidArgumentError("Vulkan: a kernel run with a null buffer");
    infos[i] = {buffers[i]->handle(), 0, VK_WHOLE_SIZE};
    writes[i] = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
    writes[i].dstSet = set_;
    writes[i].dstBinding = static_cast<uint32_t>(i);
    writes[i].descriptorCount = 1;
    writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    writes[i].pBufferInfo = &infos[i];
  }
  vkUpdateDescriptorSets(device_.handle(), static_cast<uint32_t>(buffers.size()), writes.data(), 0, nullptr);
  return device_.Run([&](VkCommandBuffer cmd) {
    vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline_);
    vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, layout_, 0, 1, &set_, 0, nullptr);
    if (push_bytes_ > 0) vkCmdPushConstants(cmd, layout_, VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes_, push);
    vkCmdDispatch(cmd, groups_x, groups_y, groups_z);
  });
}

}  // namespace r1::vk
