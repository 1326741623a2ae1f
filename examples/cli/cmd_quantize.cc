// r1 quantize IN.gguf OUT.gguf TYPE [-t THREADS] [-v] [--force] [--allow-requantize]
// [--imatrix FILE] [--tensor-type PATTERN=TYPE …] — converts
// F32/F16/BF16 weights to TYPE, a plain type or one of llama.cpp's mixtures (Q4_K_M, Q5_K_M, …),
// with llama.cpp's rules for which tensor gets which type.
#include <chrono>
#include <cstdio>

#include "absl/strings/str_join.h"
#include "cli_args.h"
#include "commands.h"
#include "runtime/resource_limits.h"
#include "tools/model_tools.h"

namespace r1::cli {

int RunQuantize(int argc, char** argv) {
  const std::vector<std::string> known = {"-t",      "--threads", "-v", "--force", "--allow-requantize",
                                          "--imatrix", "--tensor-type"};
  const Args args(argc, argv, {"-t", "--threads", "--imatrix", "--tensor-type"});
  if (!args.error().empty()) return Fail("quantize", args.error());
  if (auto flag = args.Unknown(known)) return Fail("quantize", "unknown option " + *flag);
  if (args.positional().size() != 3) {
    return Fail("quantize",
                "usage: r1 quantize IN.gguf OUT.gguf TYPE [-t THREADS] [-v] [--force] [--allow-requantize] "
                "[--imatrix FILE] [--tensor-type PATTERN=TYPE …]; "
                "TYPE one of " + absl::StrJoin(tools::QuantSchemeNames(), ", "));
  }
  const auto scheme = tools::ParseQuantScheme(args.positional()[2]);
  if (!scheme) {
    return Fail("quantize", "unknown type '" + args.positional()[2] + "'; one of " +
                                absl::StrJoin(tools::QuantSchemeNames(), ", "));
  }
  tools::QuantizeOptions options;
  options.verbose = args.Has("-v");
  options.overwrite = args.Has("--force");
  options.allow_requantize = args.Has("--allow-requantize");
  options.on_warning = [](const std::string& message) {
    std::fprintf(stderr, "r1 quantize: warning: %s\n", message.c_str());
  };
  for (const char* f : {"-t", "--threads"}) {
    if (auto v = args.Value(f)) {
      auto n = ParseInt(*v);
      if (!n) return Fail("quantize", "bad thread count " + *v);
      if (Status s = CheckThreadCount(*n, f); !s.ok()) return Fail("quantize", s);
      options.n_threads = static_cast<int>(*n);
    }
  }
  for (const std::string& spec : args.Values("--tensor-type")) {
    auto o = tools::ParseTensorTypeOverride(spec);
    if (!o.ok()) return Fail("quantize", o.status());
    options.tensor_types.push_back(*std::move(o));
  }
  tools::ImportanceMatrix importance;
  if (auto path = args.Value("--imatrix")) {
    auto m = tools::LoadImportanceMatrix(*path);
    if (!m.ok()) return Fail("quantize", m.status());
    importance = *std::move(m);
    options.importance = &importance;
    std::fprintf(stderr, "importance matrix: %zu matrices, %lld chunks\n", importance.columns.size(),
                 static_cast<long long>(importance.n_chunks));
  }
  const std::string& in = args.positional()[0];
  const std::string& out = args.positional()[1];
  const auto t0 = std::chrono::steady_clock::now();
  if (Status s = tools::QuantizeModel(in, out, *scheme, options); !s.ok()) {
    // The library reports these two refusals by code; the flags that lift them are the CLI's.
    if (s.code() == absl::StatusCode::kAlreadyExists) {
      return Fail("quantize", std::string(s.message()) + "; pass --force to replace it");
    }
    if (s.code() == absl::StatusCode::kFailedPrecondition) {
      return Fail("quantize", std::string(s.message()) + ", or pass --allow-requantize");
    }
    return Fail("quantize", s);
  }
  std::fprintf(stderr, "wrote %s (%s) in %.1f s\n", out.c_str(), scheme->name.c_str(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return 0;
}

}  // namespace r1::cli
