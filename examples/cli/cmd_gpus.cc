// r1 gpus — the GPUs `--gpu-device I` may name, one per line: index, kind, memory, name.
#include <cstdio>
#include <vector>

#include "cli_args.h"
#include "command_table.h"
#include "commands.h"
#include "r1/session.h"

namespace r1::cli {

int RunGpus(int argc, char** argv) {
  const Args args(argc, argv, *FindCommand("gpus"));
  if (!args.error().empty()) return Usage("gpus", args.error());
  if (!args.positional().empty()) return Usage("gpus", "expected no arguments");
  const StatusOr<std::vector<GpuDevice>> gpus = ListGpuDevices();
  if (!gpus.ok()) return Fail("gpus", gpus.status());
  if (gpus->empty()) {
    std::fprintf(stderr, "r1 gpus: none (GPU layers need a build with -Dvulkan=enabled and a Vulkan driver)\n");
    return 0;
  }
  for (size_t i = 0; i < gpus->size(); ++i) {
    const GpuDevice& gpu = (*gpus)[i];
    std::printf("%zu\t%s\t%llu MiB\t%s\n", i, gpu.kind.c_str(),
                static_cast<unsigned long long>(gpu.memory_bytes >> 20), gpu.name.c_str());
  }
  return 0;
}

}  // namespace r1::cli
