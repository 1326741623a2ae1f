// command_table.h — every r1 subcommand with its options: what the parser accepts and what
// --help prints come from the same table.
#pragma once

#include <cstdio>
#include <string_view>
#include <vector>

namespace r1::cli {

struct OptionSpec {
  const char* name;          // "-t"
  const char* alias;         // "--threads", or nullptr
  const char* value;         // the value's placeholder ("N"), or nullptr for a switch
  const char* default_text;  // shown as "(default: …)", or nullptr
  const char* help;
};

struct CommandSpec {
  const char* name;
  int (*run)(int argc, char** argv);
  const char* synopsis;  // after "r1 NAME "
  const char* summary;   // one line
  std::vector<OptionSpec> options;
  const char* example;   // a whole command line
  const char* notes;     // more text for --help, or nullptr
};

const std::vector<CommandSpec>& Commands();
const CommandSpec* FindCommand(std::string_view name);
// The option `flag` names (by its name or alias), or nullptr.
const OptionSpec* FindOption(const CommandSpec& command, std::string_view flag);

// Whether argv (argv[0] = the command) asks for help: -h or --help as a flag, not as the
// value of another flag and not after "--".
bool AsksForHelp(const CommandSpec& command, int argc, char** argv);

void PrintCommandHelp(const CommandSpec& command, FILE* out);
void PrintMainHelp(FILE* out);

}  // namespace r1::cli
