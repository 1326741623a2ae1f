// r1 mkmodel --preset NAME --type TYPE OUT.gguf [--tied] [--layers N] [--seed S] [-t THREADS] —
// a model with random weights in the exact shapes of a real one (and a synthetic vocabulary of
// its size), so benchmarks need no download.
#include <chrono>
#include <cstdio>

#include "absl/strings/str_join.h"
#include "cli_args.h"
#include "commands.h"
#include "tools/model_tools.h"

namespace r1::cli {

int RunMkModel(int argc, char** argv) {
  const std::vector<std::string> known = {"--preset", "--type", "--tied", "--layers", "--seed", "-t", "--threads"};
  const Args args(argc, argv, {"--preset", "--type", "--layers", "--seed", "-t", "--threads"});
  if (!args.error().empty()) return Fail("mkmodel", args.error());
  if (auto flag = args.Unknown(known)) return Fail("mkmodel", "unknown option " + *flag);
  if (args.positional().size() != 1 || !args.Value("--preset")) {
    return Fail("mkmodel", "usage: r1 mkmodel --preset NAME [--type TYPE] OUT.gguf [--tied] [--layers N] "
                           "[--seed S] [-t THREADS]; presets: " +
                               absl::StrJoin(tools::PresetNames(), ", "));
  }
  const auto preset = tools::FindPreset(*args.Value("--preset"));
  if (!preset) {
    return Fail("mkmodel", "unknown preset '" + *args.Value("--preset") + "'; one of " +
                               absl::StrJoin(tools::PresetNames(), ", "));
  }
  const auto scheme = tools::ParseQuantScheme(args.Value("--type").value_or("F16"));
  if (!scheme) {
    return Fail("mkmodel", "unknown type; one of " + absl::StrJoin(tools::QuantSchemeNames(), ", "));
  }
  tools::MkModelOptions options;
  options.tied = args.Has("--tied");
  for (const char* f : {"-t", "--threads"}) {
    if (auto v = args.Value(f)) {
      auto n = ParseInt(*v);
      if (!n || *n < 1 || *n > 1024) return Fail("mkmodel", "bad thread count " + *v);
      options.n_threads = static_cast<int>(*n);
    }
  }
  if (auto v = args.Value("--layers")) {
    auto n = ParseInt(*v);
    if (!n || *n < 1 || *n > 1000) return Fail("mkmodel", "bad layer count " + *v);
    options.n_layers = *n;
  }
  if (auto v = args.Value("--seed")) {
    auto n = ParseInt(*v);
    if (!n || *n < 0) return Fail("mkmodel", "bad seed " + *v);
    options.seed = static_cast<uint64_t>(*n);
  }
  const auto t0 = std::chrono::steady_clock::now();
  if (Status s = tools::MakeSyntheticModel(*preset, *scheme, args.positional()[0], options); !s.ok()) {
    return Fail("mkmodel", s);
  }
  std::fprintf(stderr, "wrote %s (%s, %s) in %.1f s\n", args.positional()[0].c_str(), preset->name.c_str(),
               scheme->name.c_str(), std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return 0;
}

}  // namespace r1::cli
