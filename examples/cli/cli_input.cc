#include "cli_input.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "absl/strings/str_format.h"

namespace r1::cli {

std::optional<std::string> ReadAll(const std::string& path) {
  if (path == "-") {
    std::string data;
    char buffer[1 << 16];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof(buffer), stdin)) > 0) data.append(buffer, n);
    if (std::ferror(stdin)) return std::nullopt;
    return data;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return std::nullopt;
  return data;
}

StatusOr<PromptSource> FindPrompt(const Args& args) {
  PromptSource source;
  const auto text = args.Value("-p");
  const auto file = args.Value("-f");
  if (text && file) return absl::InvalidArgumentError("give the prompt with -p or with -f, not both");
  if (text && *text == "-") {
    source.path = "-";
  } else {
    source.text = text;
    source.path = file;
  }
  return source;
}

StatusOr<std::string> ReadPrompt(const PromptSource& source) {
  if (source.text) return *source.text;
  std::optional<std::string> data = ReadAll(*source.path);
  if (!data) {
    return absl::UnavailableError(*source.path == "-" ? std::string("cannot read the prompt from stdin")
                                                      : absl::StrFormat("cannot read '%s'", *source.path));
  }
  while (!data->empty() && (data->back() == '\n' || data->back() == '\r')) data->pop_back();
  return *std::move(data);
}

Status CheckWritable(const std::string& path) {
  auto fail = [&](int error) {
    return absl::FailedPreconditionError(absl::StrFormat("cannot write '%s': %s", path, std::strerror(error)));
  };
  if (path.empty()) return fail(ENOENT);
  if (access(path.c_str(), F_OK) == 0) return access(path.c_str(), W_OK) == 0 ? absl::OkStatus() : fail(errno);
  const size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  if (access(dir.c_str(), W_OK | X_OK) != 0) return fail(errno);
  return absl::OkStatus();
}

std::string WithoutTempName(std::string message, const std::string& path) {
  const std::string tmp = path + ".tmp";
  for (size_t at = message.find(tmp); at != std::string::npos; at = message.find(tmp, at + path.size())) {
    message.replace(at, tmp.size(), path);
  }
  return message;
}

}  // namespace r1::cli
