// cli_args.h — the small argument parser shared by the r1 subcommands.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "r1/status.h"

namespace r1::cli {

// Splits argv into positional arguments and --flags. A flag listed in `with_value` takes the
// next argument as its value ("--out FILE" or "--out=FILE"); other flags are switches.
class Args {
 public:
  Args(int argc, char** argv, std::vector<std::string> with_value);

  const std::string& error() const { return error_; }  // empty when parsing succeeded
  const std::vector<std::string>& positional() const { return positional_; }
  bool Has(std::string_view flag) const;
  std::optional<std::string> Value(std::string_view flag) const;
  // Every flag given that is not in `known`; reported as an error by the commands.
  std::optional<std::string> Unknown(const std::vector<std::string>& known) const;

 private:
  std::vector<std::string> positional_;
  std::vector<std::pair<std::string, std::optional<std::string>>> flags_;
  std::string error_;
};

// "1,2,3" or "1 2 3" → ids; nullopt on anything else.
std::optional<std::vector<int32_t>> ParseTokenList(std::string_view text);
std::optional<int64_t> ParseInt(std::string_view text);

// Prints "r1 <command>: <message>" to stderr and returns the exit status 1.
int Fail(std::string_view command, std::string_view message);
int Fail(std::string_view command, const Status& status);

}  // namespace r1::cli
