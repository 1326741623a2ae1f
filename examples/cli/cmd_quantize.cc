// r1 quantize IN.gguf OUT.gguf TYPE [-t THREADS] [-v] — converts F32/F16/BF16 weights to TYPE,
// a plain type or one of llama.cpp's mixtures (Q4_K_M, Q5_K_M, …), with llama.cpp's rules for
// which tensor gets which type.
#include <chrono>
#include <cstdio>

#include "absl/strings/str_join.h"
#include "cli_args.h"
#include "commands.h"
#include "tools/model_tools.h"

namespace r1::cli {

int RunQuantize(int argc, char** argv) {
  const std::vector<std::string> known = {"-t", "--threads", "-v"};
  const Args args(argc, argv, {"-t", "--threads"});
  if (!args.error().empty()) return Fail("quantize", args.error());
  if (auto flag = args.Unknown(known)) return Fail("quantize", "unknown option " + *flag);
  if (args.positional().size() != 3) {
    return Fail("quantize", "usage: r1 quantize IN.gguf OUT.gguf TYPE [-t THREADS] [-v]; TYPE one of " +
                                absl::StrJoin(tools::QuantSchemeNames(), ", "));
  }
  const auto scheme = tools::ParseQuantScheme(args.positional()[2]);
  if (!scheme) {
    return Fail("quantize", "unknown type '" + args.positional()[2] + "'; one of " +
                                absl::StrJoin(tools::QuantSchemeNames(), ", "));
  }
  tools::QuantizeOptions options;
  options.verbose = args.Has("-v");
  for (const char* f : {"-t", "--threads"}) {
    if (auto v = args.Value(f)) {
      auto n = ParseInt(*v);
      if (!n || *n < 1 || *n > 1024) return Fail("quantize", "bad thread count " + *v);
      options.n_threads = static_cast<int>(*n);
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  if (Status s = tools::QuantizeModel(args.positional()[0], args.positional()[1], *scheme, options); !s.ok()) {
    return Fail("quantize", s);
  }
  std::fprintf(stderr, "wrote %s (%s) in %.1f s\n", args.positional()[1].c_str(), scheme->name.c_str(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return 0;
}

}  // namespace r1::cli
