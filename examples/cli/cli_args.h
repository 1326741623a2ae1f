// cli_args.h — the small argument parser shared by the r1 subcommands, and strict number
// parsing for flag values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "r1/status.h"

namespace r1::cli {

struct CommandSpec;

// Splits argv into positional arguments and flags. A flag that takes a value takes the next
// argument whatever it looks like ("-p -x"), or the text after '=' ("--out=FILE"). "--" ends
// the flags: everything after it is positional. A lone "-" and dash-led numbers ("-5") are
// positional.
class Args {
 public:
  // Flags in `with_value` take a value; any other flag is a switch, checked with Unknown().
  Args(int argc, char** argv, std::vector<std::string> with_value);
  // Flags from the command's table: aliases are stored under the option's first name, and a
  // flag the table lacks is an error().
  Args(int argc, char** argv, const CommandSpec& spec);

  const std::string& error() const { return error_; }  // empty when parsing succeeded
  const std::vector<std::string>& positional() const { return positional_; }
  bool Has(std::string_view flag) const;
  std::optional<std::string> Value(std::string_view flag) const;  // the last one given
  std::vector<std::string> Values(std::string_view flag) const;    // every one, in order
  // Every flag given that is not in `known`; reported as an error by the commands.
  std::optional<std::string> Unknown(const std::vector<std::string>& known) const;

  // The flag's value as a whole number in [lo, hi], stored in *out; *out is left alone when
  // the flag is absent. InvalidArgument naming the flag and the value otherwise.
  Status Int(std::string_view flag, int64_t lo, int64_t hi, int64_t* out) const;
  Status Unsigned(std::string_view flag, uint64_t* out) const;
  // A finite number in [lo, hi].
  Status Real(std::string_view flag, double lo, double hi, double* out) const;

 private:
  void Parse(int argc, char** argv, const std::vector<std::string>& with_value,
             const CommandSpec* spec);

  std::vector<std::string> positional_;
  struct Flag {
    std::string name;     // the option's first name
    std::string spelled;  // as given, for messages ("--threads" for "-t")
    std::optional<std::string> value;
  };
  std::vector<Flag> flags_;
  const Flag* Last(std::string_view flag) const;
  std::string error_;
};

// Whole numbers only: no sign other than a leading '-', no spaces, fractions, exponents or
// trailing text; nullopt on overflow too.
std::optional<int64_t> ParseInt(std::string_view text);
// A finite decimal number ("0.7", "1e-3"); nullopt for "nan", "inf" and anything with junk.
std::optional<double> ParseReal(std::string_view text);

// "1,2,3" or "1 2 3" → non-negative ids; nullopt on anything else.
std::optional<std::vector<int32_t>> ParseTokenList(std::string_view text);

// Exit statuses: 1 for failures, 2 for usage errors (a bad flag or argument).
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Prints "r1 <command>: <message>" to stderr and returns kExitFailure.
int Fail(std::string_view command, std::string_view message);
int Fail(std::string_view command, const Status& status);
// Prints "r1 <command>: <message>" and a pointer to --help; returns kExitUsage.
int Usage(std::string_view command, std::string_view message);
int Usage(std::string_view command, const Status& status);

}  // namespace r1::cli
