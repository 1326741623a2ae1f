// r1 — command-line tool: inspect a GGUF model, compute logits, generate text.
#include <cstdio>
#include <string_view>

#include "cli_args.h"
#include "cli_version.h"
#include "command_table.h"

int main(int argc, char** argv) {
  using r1::cli::kExitUsage;
  if (argc < 2) {
    r1::cli::PrintMainHelp(stderr);
    return kExitUsage;
  }
  const std::string_view name = argv[1];
  if (name == "-h" || name == "--help" || name == "help") {
    r1::cli::PrintMainHelp(stdout);
    return 0;
  }
  if (name == "--version") {
    std::printf("r1 %s\n", R1_CLI_VERSION);
    return 0;
  }
  const r1::cli::CommandSpec* command = r1::cli::FindCommand(name);
  if (command == nullptr) {
    std::fprintf(stderr, "r1: unknown command '%s'; 'r1 --help' lists the commands\n", argv[1]);
    return kExitUsage;
  }
  // Help is answered here, for every command alike.
  if (r1::cli::AsksForHelp(*command, argc - 1, argv + 1)) {
    r1::cli::PrintCommandHelp(*command, stdout);
    return 0;
  }
  return command->run(argc - 1, argv + 1);
}
