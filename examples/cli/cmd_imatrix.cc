// r1 imatrix MODEL -f TEXT -o FILE — an importance matrix for quantization, in llama-imatrix's
// GGUF format, from the squared activations every weight product meets over a text.
#include <cstdio>
#include <filesystem>
#include <string>

#include "cli_args.h"
#include "cli_input.h"
#include "cli_session.h"
#include "command_table.h"
#include "commands.h"
#include "tools/imatrix.h"
#include "tools/output_file.h"
#include "tools/perplexity.h"

namespace r1::cli {

int RunImatrix(int argc, char** argv) {
  const Args args(argc, argv, *FindCommand("imatrix"));
  if (!args.error().empty()) return Usage("imatrix", args.error());
  if (args.positional().size() != 1) return Usage("imatrix", "expected one MODEL path");
  const auto text_path = args.Value("-f");
  const auto out = args.Value("-o");
  if (!text_path || !out) return Usage("imatrix", "expected the text as -f FILE and the output as -o FILE");
  tools::ImatrixOptions options;
  if (args.Has("--chunks")) {
    if (Status st = args.Int("--chunks", 1, int64_t{1} << 30, &options.n_chunks); !st.ok()) return Usage("imatrix", st);
  }
  options.process_output = args.Has("--process-output");
  auto session_options = ParseSessionOptions(args);
  if (!session_options.ok()) return Usage("imatrix", session_options.status());
  if (session_options->n_ctx == 0) session_options->n_ctx = 512;  // one chunk, as llama-imatrix
  const std::string& model_path = args.positional()[0];
  const bool overwrite = args.Has("--force");
  // Before the long run: an output that would be refused at the end is refused now.
  if (Status st = tools::CheckOutputPath(*out, {model_path, *text_path}, overwrite); !st.ok()) {
    if (st.code() == absl::StatusCode::kAlreadyExists) {
      return Fail("imatrix", std::string(st.message()) + "; pass --force to replace it");
    }
    return Fail("imatrix", st);
  }
  const auto text = ReadAll(*text_path);
  if (!text) return Fail("imatrix", "cannot read '" + *text_path + "'");

  auto session = OpenSession(model_path, ParseLoadOptions(args), *session_options);
  if (!session.ok()) return Fail("imatrix", session.status());
  auto tokens = tools::PerplexityTokens((*session)->model(), *text);
  if (!tokens.ok()) return Fail("imatrix", tokens.status());
  auto result = tools::ComputeImportanceMatrix(**session, *tokens, session_options->n_ctx, options,
                                               [](int64_t i, double seconds) {
                                                 std::fprintf(stderr, "chunk %lld: %.2f s\n",
                                                              static_cast<long long>(i + 1), seconds);
                                               });
  if (!result.ok()) return Fail("imatrix", result.status());
  const std::string dataset = std::filesystem::path(*text_path).filename().string();
  if (Status st = tools::WriteImportanceMatrix(*result, {dataset}, *out, {model_path, *text_path}, overwrite);
      !st.ok()) {
    return Fail("imatrix", st);
  }
  std::printf("wrote %s: %zu matrices, %lld chunks of %lld tokens (PPL over the chunks: %.4f)\n", out->c_str(),
              result->matrices.size(), static_cast<long long>(result->n_chunks),
              static_cast<long long>(result->n_ctx), result->ppl);
  return 0;
}

}  // namespace r1::cli
