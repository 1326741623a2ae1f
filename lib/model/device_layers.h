// device_layers.h — layers that run on a device other than the CPU.
//
// A session may hand the first of the model's layers to a GPU (SessionOptions::gpu_layers).
// Forward runs those through this interface and the others through the model's layer family,
// on the same residual stream (Activations::x) and rotary table (Activations::cos_sin): the
// device keeps its layers' weights and their KV cache, and the rows cross over at the layers'
// boundary. OpenDeviceLayers is the one place that knows which devices this build has.
#pragma once

#include <cstdint>
#include <memory>

#include "absl/types/span.h"
#include "model/model_config.h"
#include "model/model_impl.h"
#include "r1/status.h"

namespace r1 {

struct Activations;
struct SequenceRows;

class DeviceLayers {
 public:
  virtual ~DeviceLayers() = default;
  // Whether layer `layer` runs here.
  virtual bool Runs(int64_t layer) const = 0;
  // As LayerFamily::Layer: x += attention(x), then x += feed-forward(x) over a.x's n_tokens rows,
  // appending to and attending over the device's own cache of the one sequence.
  virtual Status Layer(const ModelConfig& c, int64_t layer, absl::Span<const SequenceRows> sequences, int64_t n_tokens,
                       Activations& a) = 0;
};

// The first n_layers layers of `model` (all when n_layers is -1) on GPU `device` (-1: the best
// one), for n_ctx positions, their cache holding what a cache of cache_type holds. Unimplemented
// in a build without Vulkan or for an architecture whose layers have no GPU version;
// InvalidArgument for a count beyond the model's layers.
StatusOr<std::unique_ptr<DeviceLayers>> OpenDeviceLayers(const Model::Impl& model, int n_layers, int device,
                                                         int64_t n_ctx, DType cache_type);

}  // namespace r1
