// model_config.h — hyper-parameters from GGUF metadata, validated.
#pragma once

#include "gguf/gguf_reader.h"
#include "r1/model.h"

namespace r1 {

// Reads "<arch>.*" keys for the architectures r1 runs and checks that they are consistent
// and of sane size, so later arithmetic on them cannot overflow.
StatusOr<ModelConfig> ReadModelConfig(const GgufFile& gguf);

}  // namespace r1
