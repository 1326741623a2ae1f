#include "cli_args.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace r1::cli {

Args::Args(int argc, char** argv, std::vector<std::string> with_value) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    const bool is_flag = arg.size() > 1 && arg[0] == '-' && !(arg[1] >= '0' && arg[1] <= '9');
    if (!is_flag) {
      positional_.push_back(arg);
      continue;
    }
    std::optional<std::string> value;
    if (const size_t eq = arg.find('='); eq != std::string::npos && arg.rfind("--", 0) == 0) {
      value = arg.substr(eq + 1);
      arg.resize(eq);
    }
    const bool takes_value = std::find(with_value.begin(), with_value.end(), arg) != with_value.end();
    if (takes_value && !value) {
      if (i + 1 >= argc) {
        error_ = arg + " needs a value";
        return;
      }
      value = argv[++i];
    }
    flags_.emplace_back(arg, value);
  }
}

bool Args::Has(std::string_view flag) const {
  return std::any_of(flags_.begin(), flags_.end(), [&](const auto& f) { return f.first == flag; });
}

std::optional<std::string> Args::Value(std::string_view flag) const {
  for (auto it = flags_.rbegin(); it != flags_.rend(); ++it) {
    if (it->first == flag) return it->second;
  }
  return std::nullopt;
}

std::optional<std::string> Args::Unknown(const std::vector<std::string>& known) const {
  for (const auto& f : flags_) {
    if (std::find(known.begin(), known.end(), f.first) == known.end()) return f.first;
  }
  return std::nullopt;
}

std::optional<int64_t> ParseInt(std::string_view text) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
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
    if (!v || *v < INT32_MIN || *v > INT32_MAX) return std::nullopt;
    ids.push_back(static_cast<int32_t>(*v));
    i = j;
  }
  return ids;
}

int Fail(std::string_view command, std::string_view message) {
  std::fprintf(stderr, "r1 %.*s: %.*s\n", static_cast<int>(command.size()), command.data(),
               static_cast<int>(message.size()), message.data());
  return 1;
}

}  // namespace r1::cli

namespace r1::cli {

int Fail(std::string_view command, const Status& status) {
  const auto message = status.message();
  return Fail(command, std::string_view(message.data(), message.size()));
}

}  // namespace r1::cli
