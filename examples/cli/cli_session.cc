#include "cli_session.h"

#include "absl/strings/str_format.h"

namespace r1::cli {

StatusOr<std::unique_ptr<Session>> OpenSession(const Args& args) {
  if (args.positional().empty()) return absl::InvalidArgumentError("missing MODEL path");
  SessionOptions options;
  for (const char* flag : {"-t", "--threads"}) {
    if (auto v = args.Value(flag)) {
      auto n = ParseInt(*v);
      if (!n || *n < 1 || *n > 1024) return absl::InvalidArgumentError(absl::StrFormat("bad thread count '%s'", *v));
      options.n_threads = static_cast<int>(*n);
    }
  }
  if (auto v = args.Value("--ctx")) {
    auto n = ParseInt(*v);
    if (!n || *n < 1) return absl::InvalidArgumentError(absl::StrFormat("bad context length '%s'", *v));
    options.n_ctx = *n;
  }
  R1_ASSIGN_OR_RETURN(std::shared_ptr<const Model> model, Model::Load(args.positional()[0]));
  return Session::Create(std::move(model), options);
}

}  // namespace r1::cli
