// r1 — command-line tool: inspect a GGUF model, compute logits, generate text.
#include <cstdio>
#include <cstring>
#include <string_view>

#include "commands.h"

namespace {

struct Command {
  const char* name;
  int (*run)(int, char**);
  const char* usage;
};

const Command kCommands[] = {
    {"info", r1::cli::RunInfo, "info MODEL"},
    {"logits", r1::cli::RunLogits, "logits MODEL --tokens 1,2,3 --out FILE [-t THREADS]"},
    {"generate", r1::cli::RunGenerate, "generate MODEL (--tokens 1,2,3 | -p TEXT) [-n N] [-t THREADS]"},
    {"chat", r1::cli::RunChat, "chat MODEL [--system TEXT] [run options]"},
    {"tokenize", r1::cli::RunTokenize, "tokenize MODEL (TEXT | --file PATH) [--no-bos] [--special] [--pieces]"},
    {"detokenize", r1::cli::RunDetokenize, "detokenize MODEL 1,2,3"},
    {"template", r1::cli::RunTemplate, "template MODEL --messages FILE [--no-generation-prompt] [--template NAME]"},
    {"run", r1::cli::RunRun,
     "run MODEL -p PROMPT [-n MAX_NEW] [--seed S] [--temp T] [--top-k K] [--top-p P] [--min-p P] "
     "[--think-budget N] [--hide-thinking] [--no-chat] [--system TEXT]"},
    {"bench", r1::cli::RunBench,
     "bench MODEL [-p 512] [-n 128] [-d 0] [-t THREADS] [-r REPS] [--cache-type T] [--json] [--membw]"},
    {"quantize", r1::cli::RunQuantize, "quantize IN.gguf OUT.gguf TYPE [-t THREADS] [-v]"},
    {"mkmodel", r1::cli::RunMkModel,
     "mkmodel --preset NAME [--type TYPE] OUT.gguf [--tied] [--layers N] [--seed S] [-t THREADS]"},
};

void PrintUsage(FILE* out) {
  std::fprintf(out, "usage: r1 COMMAND [ARGS]\n\ncommands:\n");
  for (const Command& c : kCommands) std::fprintf(out, "  r1 %s\n", c.usage);
  std::fprintf(out, "\nlogits, generate, chat and run also take -t THREADS, --ctx N and --cache-type f16|q8_0|f32\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    PrintUsage(stderr);
    return 2;
  }
  const std::string_view name = argv[1];
  if (name == "-h" || name == "--help" || name == "help") {
    PrintUsage(stdout);
    return 0;
  }
  for (const Command& c : kCommands) {
    if (name == c.name) return c.run(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "r1: unknown command '%s'\n", argv[1]);
  PrintUsage(stderr);
  return 2;
}
