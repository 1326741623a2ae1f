// device_layers.cc — the GPUs a build can use, and choosing the one that runs a session's GPU
// layers.
#include "model/device_layers.h"

#include "absl/strings/str_cat.h"
#include "model/layer_family.h"
#include "r1/session.h"

#ifdef R1_HAVE_VULKAN
#include "vulkan/vulkan_deepseek2_layers.h"
#include "vulkan/vulkan_dense_layers.h"
#include "vulkan/vulkan_device.h"
#endif

namespace r1 {

StatusOr<std::vector<GpuDevice>> ListGpuDevices() {
  std::vector<GpuDevice> gpus;
#ifdef R1_HAVE_VULKAN
  StatusOr<std::vector<vk::DeviceInfo>> devices = vk::ListDevices();
  if (absl::IsUnavailable(devices.status())) return gpus;  // no Vulkan driver: no GPUs
  if (!devices.ok()) return devices.status();
  for (const vk::DeviceInfo& d : *devices) gpus.push_back({d.name, d.kind, d.memory_bytes});
#endif
  return gpus;
}

StatusOr<std::unique_ptr<DeviceLayers>> OpenDeviceLayers(const Model::Impl& model, int n_layers, int device,
                                                         int64_t n_ctx, DType cache_type) {
  const int64_t total = model.config.n_layers;
  if (n_layers < -1 || n_layers == 0 || n_layers > total) {
    return absl::InvalidArgumentError(
        absl::StrCat("gpu_layers ", n_layers, ": -1 (all) or 1 to ", total, " (the model's layers)"));
  }
  const bool dense = model.family == &DenseLayerFamily(), deepseek2 = model.family == &Deepseek2LayerFamily();
  if (!dense && !deepseek2) {
    return absl::UnimplementedError(absl::StrCat("gpu_layers: the ", model.config.architecture,
                                                 " layers run on the CPU only"));
  }
#ifdef R1_HAVE_VULKAN
  R1_ASSIGN_OR_RETURN(std::unique_ptr<vk::Device> opened, vk::Device::Open(device));
  const int64_t count = n_layers < 0 ? total : n_layers;
  if (dense) {
    R1_ASSIGN_OR_RETURN(std::unique_ptr<DeviceLayers> layers,
                        vk::VulkanDenseLayers::Create(std::move(opened), model, count, n_ctx, cache_type));
    return layers;
  }
  R1_ASSIGN_OR_RETURN(std::unique_ptr<DeviceLayers> layers,
                      vk::VulkanDeepseek2Layers::Create(std::move(opened), model, count, n_ctx, cache_type));
  return layers;
#else
  (void)device;
  (void)n_ctx;
  (void)cache_type;
  return absl::UnimplementedError("gpu_layers: this build of r1 has no GPU backend (configure with -Dvulkan=enabled)");
#endif
}

}  // namespace r1
