// device_layers.cc — choosing the device that runs a session's GPU layers.
#include "model/device_layers.h"

#include "absl/strings/str_cat.h"
#include "model/layer_family.h"

#ifdef R1_HAVE_VULKAN
#include "vulkan/vulkan_dense_layers.h"
#endif

namespace r1 {

StatusOr<std::unique_ptr<DeviceLayers>> OpenDeviceLayers(const Model::Impl& model, int n_layers, int device,
                                                         int64_t n_ctx) {
  const int64_t total = model.config.n_layers;
  if (n_layers < -1 || n_layers == 0 || n_layers > total) {
    return absl::InvalidArgumentError(
        absl::StrCat("gpu_layers ", n_layers, ": -1 (all) or 1 to ", total, " (the model's layers)"));
  }
  if (model.family != &DenseLayerFamily()) {
    return absl::UnimplementedError(absl::StrCat("gpu_layers: the ", model.config.architecture,
                                                 " layers run on the CPU only (the GPU runs llama, qwen2 and qwen3)"));
  }
#ifdef R1_HAVE_VULKAN
  R1_ASSIGN_OR_RETURN(std::unique_ptr<vk::Device> opened, vk::Device::Open(device));
  R1_ASSIGN_OR_RETURN(std::unique_ptr<vk::VulkanDenseLayers> layers,
                      vk::VulkanDenseLayers::Create(std::move(opened), model, n_layers < 0 ? total : n_layers, n_ctx));
  return std::unique_ptr<DeviceLayers>(std::move(layers));
#else
  (void)device;
  (void)n_ctx;
  return absl::UnimplementedError("gpu_layers: this build of r1 has no GPU backend (configure with -Dvulkan=enabled)");
#endif
}

}  // namespace r1
