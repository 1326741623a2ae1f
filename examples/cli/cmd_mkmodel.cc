// r1 mkmodel --preset NAME [--type TYPE] OUT.gguf [--tied] [--layers N] [--seed S] [--vocab N]
// [--successor SEED [--successor-change F]] [-t THREADS] —
// a model with random weights in the exact shapes of a real one (and a synthetic vocabulary of
// its size), so benchmarks need no download.
#include <chrono>
#include <cstdio>

#include "absl/strings/str_join.h"
#include "cli_args.h"
#include "cli_input.h"
#include "command_table.h"
#include "commands.h"
#include "tools/model_tools.h"

namespace r1::cli {

int RunMkModel(int argc, char** argv) {
  const Args args(argc, argv, *FindCommand("mkmodel"));
  if (!args.error().empty()) return Usage("mkmodel", args.error());
  if (args.positional().size() != 1 || !args.Value("--preset")) {
    return Usage("mkmodel", "expected --preset NAME and one OUT.gguf path; presets: " +
                                absl::StrJoin(tools::PresetNames(), ", "));
  }
  const auto preset = tools::FindPreset(*args.Value("--preset"));
  if (!preset) {
    return Usage("mkmodel", "--preset: expected one of " + absl::StrJoin(tools::PresetNames(), ", ") + ", got '" +
                                *args.Value("--preset") + "'");
  }
  const std::string type = args.Value("--type").value_or("F16");
  const auto scheme = tools::ParseQuantScheme(type);
  if (!scheme) {
    return Usage("mkmodel", "--type: expected one of " + absl::StrJoin(tools::QuantSchemeNames(), ", ") + ", got '" +
                                type + "'");
  }
  tools::MkModelOptions options;
  options.tied = args.Has("--tied");
  int64_t threads = 0;
  if (Status st = args.Int("-t", 1, 1024, &threads); !st.ok()) return Usage("mkmodel", st);
  options.n_threads = static_cast<int>(threads);
  if (Status st = args.Int("--layers", 1, 1000, &options.n_layers); !st.ok()) return Usage("mkmodel", st);
  if (Status st = args.Unsigned("--seed", &options.seed); !st.ok()) return Usage("mkmodel", st);
  if (Status st = args.Int("--vocab", tools::kMinSyntheticVocab, tools::kMaxSyntheticVocab, &options.n_vocab); !st.ok()) return Usage("mkmodel", st);
  if (args.Has("--successor")) {
    uint64_t successor = 0;
    if (Status st = args.Unsigned("--successor", &successor); !st.ok()) return Usage("mkmodel", st);
    options.successor_seed = successor;
    if (options.tied) return Usage("mkmodel", "--successor needs the output matrix: not with --tied");
  } else if (args.Has("--successor-change")) {
    return Usage("mkmodel", "--successor-change needs --successor");
  }
  if (Status st = args.Real("--successor-change", 0, 1, &options.successor_change); !st.ok()) {
    return Usage("mkmodel", st);
  }
  const std::string& out = args.positional()[0];
  // Checked first: the model takes long to make, and the writer's own messages name its
  // temporary file.
  if (Status st = CheckWritable(out); !st.ok()) return Fail("mkmodel", st);
  const auto t0 = std::chrono::steady_clock::now();
  if (Status s = tools::MakeSyntheticModel(*preset, *scheme, out, options); !s.ok()) {
    return Fail("mkmodel", WithoutTempName(std::string(s.message()), out));
  }
  std::fprintf(stderr, "wrote %s (%s, %s) in %.1f s\n", out.c_str(), preset->name.c_str(), scheme->name.c_str(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return 0;
}

}  // namespace r1::cli
