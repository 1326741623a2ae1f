// r1 split IN.gguf OUT-PREFIX (--max-tensors N | --max-size SIZE) [--force] — writes a model as
// shards named OUT-PREFIX-00001-of-0000N.gguf (gguf-split's layout), which r1 opens by the
// path of any shard.
#include <cstdio>

#include "cli_args.h"
#include "command_table.h"
#include "commands.h"
#include "tools/split_model.h"

namespace r1::cli {
namespace {

// "500M", "2G", "1048576": bytes, with an optional K/M/G suffix (powers of 1024).
std::optional<uint64_t> ParseSize(std::string text) {
  uint64_t unit = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 'K': case 'k': unit = uint64_t{1} << 10; break;
      case 'M': case 'm': unit = uint64_t{1} << 20; break;
      case 'G': case 'g': unit = uint64_t{1} << 30; break;
      default: break;
    }
    if (unit != 1) text.pop_back();
  }
  const std::optional<int64_t> n = ParseInt(text);
  if (!n || *n <= 0 || static_cast<uint64_t>(*n) > UINT64_MAX / unit) return std::nullopt;
  return static_cast<uint64_t>(*n) * unit;
}

}  // namespace

int RunSplit(int argc, char** argv) {
  const Args args(argc, argv, *FindCommand("split"));
  if (!args.error().empty()) return Usage("split", args.error());
  if (args.positional().size() != 2) return Usage("split", "expected IN.gguf and OUT-PREFIX");
  tools::SplitOptions options;
  options.overwrite = args.Has("--force");
  if (Status s = args.Int("--max-tensors", 1, int64_t{1} << 30, &options.max_tensors); !s.ok()) {
    return Usage("split", s);
  }
  if (auto size = args.Value("--max-size")) {
    const std::optional<uint64_t> bytes = ParseSize(*size);
    if (!bytes) return Usage("split", "--max-size: expected a size such as 500M or 2G, got '" + *size + "'");
    options.max_bytes = *bytes;
  }
  if (options.max_tensors == 0 && options.max_bytes == 0) {
    return Usage("split", "give --max-tensors N or --max-size SIZE");
  }
  auto written = tools::SplitModel(args.positional()[0], args.positional()[1], options);
  if (!written.ok()) {
    if (written.status().code() == absl::StatusCode::kAlreadyExists) {
      return Fail("split", std::string(written.status().message()) + "; pass --force to replace it");
    }
    return Fail("split", written.status());
  }
  for (const std::string& path : *written) std::printf("%s\n", path.c_str());
  return 0;
}

}  // namespace r1::cli
