// layer_family.cc — architecture name → layer family: the one place the choice is made.
#include "model/layer_family.h"

namespace r1 {

const LayerFamily* LayerFamilyFor(std::string_view architecture) {
  if (architecture == "llama" || architecture == "qwen2" || architecture == "qwen3") return &DenseLayerFamily();
  if (architecture == "deepseek2") return &Deepseek2LayerFamily();
  return nullptr;
}

}  // namespace r1
