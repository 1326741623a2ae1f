#include "cli_args.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "absl/strings/str_format.h"
#include "command_table.h"

namespace r1::cli {
namespace {

bool LooksLikeFlag(const std::string& arg) {
  return arg.size() > 1 && arg[0] == '-' && !(arg[1] >= '0' && arg[1] <= '9') && arg[1] != '.';
}

// The full range of a whole number, spelled for error messages.
std::string RangeText(int64_t lo, int64_t hi) {
  if (hi == INT64_MAX) return lo == 0 ? "a whole number ≥ 0" : absl::StrFormat("a whole number ≥ %d", lo);
  return absl::StrFormat("a whole number from %d to %d", lo, hi);
}

}  // namespace

Args::Args(int argc, char** argv, std::vector<std::string> with_value) { Parse(argc, argv, with_value, nullptr); }

Args::Args(int argc, char** argv, const CommandSpec& spec) { Parse(argc, argv, {}, &spec); }

void Args::Parse(int argc, char** argv, const std::vector<std::string>& with_value, const CommandSpec* spec) {
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (options_done || !LooksLikeFlag(arg)) {
      positional_.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    std::optional<std::string> value;
    if (const size_t eq = arg.find('='); eq != std::string::npos && arg.rfind("--", 0) == 0) {
      value = arg.substr(eq + 1);
      arg.resize(eq);
    }
    const std::string spelled = arg;
    bool takes_value = std::find(with_value.begin(), with_value.end(), arg) != with_value.end();
    if (spec != nullptr) {
      const OptionSpec* option = FindOption(*spec, arg);
      if (option == nullptr && arg != "-h" && arg != "--help") {
        error_ = "unknown option " + arg;
        return;
      }
      if (option != nullptr) {
        takes_value = option->value != nullptr;
        if (!takes_value && value) {
          error_ = arg + " takes no value";
          return;
        }
        arg = option->name;
      }
    }
    if (takes_value && !value) {
      if (i + 1 >= argc) {
        error_ = arg + " needs a value";
        return;
      }
      value = argv[++i];
    }
    flags_.push_back({arg, spelled, value});
  }
}

bool Args::Has(std::string_view flag) const {
  return Last(flag) != nullptr;
}

const Args::Flag* Args::Last(std::string_view flag) const {
  for (auto it = flags_.rbegin(); it != flags_.rend(); ++it) {
    if (it->name == flag) return &*it;
  }
  return nullptr;
}

std::optional<std::string> Args::Value(std::string_view flag) const {
  const Flag* f = Last(flag);
  return f != nullptr ? f->value : std::nullopt;
}

std::vector<std::string> Args::Values(std::string_view flag) const {
  std::vector<std::string> out;
  for (const auto& f : flags_) {
    if (f.name == flag && f.value) out.push_back(*f.value);
  }
  return out;
}

std::optional<std::string> Args::Unknown(const std::vector<std::string>& known) const {
  for (const auto& f : flags_) {
    if (std::find(known.begin(), known.end(), f.name) == known.end()) return f.name;
  }
  return std::nullopt;
}

Status Args::Int(std::string_view flag, int64_t lo, int64_t hi, int64_t* out) const {
  const Flag* f = Last(flag);
  if (f == nullptr || !f->value) return absl::OkStatus();
  const std::string* v = &*f->value;
  flag = f->spelled;
  const auto n = ParseInt(*v);
  if (!n || *n < lo || *n > hi) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: expected %s, got '%s'", flag, RangeText(lo, hi), *v));
  }
  *out = *n;
  return absl::OkStatus();
}

Status Args::Unsigned(std::string_view flag, uint64_t* out) const {
  const Flag* f = Last(flag);
  if (f == nullptr || !f->value) return absl::OkStatus();
  const std::string* v = &*f->value;
  flag = f->spelled;
  uint64_t n = 0;
  const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (v->empty() || ec != std::errc() || end != v->data() + v->size()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: expected a whole number from 0 to %d, got '%s'", flag, UINT64_MAX, *v));
  }
  *out = n;
  return absl::OkStatus();
}

Status Args::Real(std::string_view flag, double lo, double hi, double* out) const {
  const Flag* f = Last(flag);
  if (f == nullptr || !f->value) return absl::OkStatus();
  const std::string* v = &*f->value;
  flag = f->spelled;
  const auto x = ParseReal(*v);
  if (!x || *x < lo || *x > hi) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: expected a number from %g to %g, got '%s'", flag, lo, hi, *v));
  }
  *out = *x;
  return absl::OkStatus();
}

std::optional<int64_t> ParseInt(std::string_view text) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<double> ParseReal(std::string_view text) {
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<std::vector<int32_t>> ParseTokenList(std::string_view text) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ',' || text[i] == ' ') {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && text[j] != ',' && text[j] != ' ') ++j;
    auto v = ParseInt(text.substr(i, j - i));
    if (!v || *v < 0 || *v > INT32_MAX) return std::nullopt;
    ids.push_back(static_cast<int32_t>(*v));
    i = j;
  }
  return ids;
}

int Fail(std::string_view command, std::string_view message) {
  std::fflush(stdout);  // what was printed before stays before the message
  std::fprintf(stderr, "r1 %.*s: %.*s\n", static_cast<int>(command.size()), command.data(),
               static_cast<int>(message.size()), message.data());
  return kExitFailure;
}

int Fail(std::string_view command, const Status& status) {
  const auto message = status.message();
  return Fail(command, std::string_view(message.data(), message.size()));
}

int Usage(std::string_view command, std::string_view message) {
  Fail(command, message);
  std::fprintf(stderr, "Try 'r1 %.*s --help'.\n", static_cast<int>(command.size()), command.data());
  return kExitUsage;
}

int Usage(std::string_view command, const Status& status) {
  const auto message = status.message();
  return Usage(command, std::string_view(message.data(), message.size()));
}

}  // namespace r1::cli
