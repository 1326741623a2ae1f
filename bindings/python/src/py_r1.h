// py_r1.h — what the files of the Python module share: the wrappers that keep models alive
// from Python, and the one Status → exception mapping (py_status.cc).
#pragma once

#include <pybind11/pybind11.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "r1/chat.h"
#include "r1/model.h"
#include "r1/session.h"
#include "r1/status.h"
#include "r1/tokenizer.h"

namespace r1py {

namespace py = pybind11;

// Raises the r1 exception that corresponds to `status` (r1.Error and its subclasses) with the
// status's message; does nothing for OK. Call with the GIL held.
void ThrowIfError(const absl::Status& status);

// ThrowIfError for the result of opening the file at `path`: NotFound is r1.NotFound (a
// FileNotFoundError) only when the file is missing; when it is there, what is missing is inside
// it (a vocabulary-only file has no tensors), which is r1.Unsupported.
void ThrowIfFileError(const absl::Status& status, const std::string& path);

// ThrowIfError for formatting or answering a conversation: NotFound there means the model has
// no chat template r1 knows, which is r1.NoChatTemplate (an r1.InvalidArgument).
void ThrowIfChatError(const absl::Status& status);

template <typename T>
T ValueOrThrow(absl::StatusOr<T>&& value) {
  if (!value.ok()) ThrowIfError(value.status());
  return std::move(value).value();
}

// A path argument: str, bytes or any os.PathLike (pathlib.Path), as the file system names it.
// TypeError for anything else.
std::string PathArg(const py::object& path);

// Text that r1 promises to be UTF-8; any stray byte becomes U+FFFD rather than an exception.
py::str Utf8(std::string_view text);

// OpenAI's JSON shapes of tools and tool calls as Python lists of dicts, to and from r1's
// types (through the json module, so dict order is kept). r1.InvalidArgument names the field.
std::vector<r1::ToolDefinition> ToolsFromPython(const py::handle& tools);
py::object ToolsToPython(const std::vector<r1::ToolDefinition>& tools);
std::vector<r1::ToolCall> ToolCallsFromPython(const py::handle& calls);
void ToolChoiceFromPython(const py::handle& choice, r1::GenerateOptions* options);
py::object ToolCallsToPython(const std::vector<r1::ToolCall>& calls);

// A loaded model. Sessions and tokenizers hold the same shared_ptr, so a model lives as long
// as anything made from it.
struct PyModel {
  std::shared_ptr<const r1::Model> model;
};

// A tokenizer: either a model's (borrowed, with the model kept alive) or one loaded alone.
struct PyTokenizer {
  std::shared_ptr<const r1::Model> owner;
  std::unique_ptr<r1::Tokenizer> own;
  const r1::Tokenizer* tokenizer = nullptr;
};

// One streamed piece, owned: it outlives the generation step that produced it.
struct StreamEvent {
  r1::Channel channel = r1::Channel::kContent;
  std::string text;
  int32_t token = -1;
};

// Copies the keyword arguments onto `options` (an r1.GenerateOptions): a name of
// GenerateOptions or of its sampler (temperature, top_p, seed, ...). TypeError for others.
void ApplyOverrides(py::object options, const py::kwargs& overrides);

// A conversation from r1.ChatMessage objects, {"role", "content"} mappings or
// (role, content) pairs.
std::vector<r1::ChatMessage> ToMessages(const py::iterable& messages);

void RegisterStatus(py::module_& m);
void RegisterTypes(py::module_& m);
void RegisterModel(py::module_& m);
void RegisterSession(py::module_& m);

}  // namespace r1py
