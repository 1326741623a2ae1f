// cli_input.h — text from files or stdin: prompts, messages, texts to tokenize.
#pragma once

#include <optional>
#include <string>

#include "cli_args.h"

namespace r1::cli {

// The whole of a file, or of stdin for "-", byte for byte; nullopt when it cannot be read.
std::optional<std::string> ReadAll(const std::string& path);

// Where a command's prompt comes from: -p TEXT, -p - (stdin) or -f FILE. Text read from a
// file or stdin loses its trailing newlines, as the shell's $(cat FILE) does.
struct PromptSource {
  std::optional<std::string> text;  // -p TEXT
  std::optional<std::string> path;  // -f FILE or -p -
  bool given() const { return text || path; }
};

// The prompt flags of `args`; InvalidArgument when both -p and -f are given.
StatusOr<PromptSource> FindPrompt(const Args& args);
// The prompt's text; Unavailable when its file cannot be read.
StatusOr<std::string> ReadPrompt(const PromptSource& source);

// Whether `path` can be created or overwritten, checked before a long computation writes it.
// FailedPrecondition naming `path` and the reason otherwise.
Status CheckWritable(const std::string& path);

// `message` with `path`.tmp, the temporary file a writer fills before renaming it, spelled
// as `path`: users know only the path they gave.
std::string WithoutTempName(std::string message, const std::string& path);

}  // namespace r1::cli
