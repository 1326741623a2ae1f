// py_tools.cc — tools and tool calls between Python's lists of dicts and r1's types, by way of
// JSON text and the library's reader of OpenAI's shapes.
#include "grammar/ordered_json.h"
#include "py_r1.h"
#include "session/chat_json.h"

namespace r1py {
namespace {

r1::chat_json::Json FromPython(const py::handle& value, const char* what) {
  const std::string text = py::str(py::module_::import("json").attr("dumps")(value));
  std::optional<r1::chat_json::Json> parsed = r1::ParseOrderedJson(text);
  if (!parsed) ThrowIfError(absl::InvalidArgumentError(std::string(what) + " must be JSON-serialisable"));
  return *std::move(parsed);
}

py::object ToPython(const r1::chat_json::Json& value) {
  return py::module_::import("json").attr("loads")(value.dump());
}

}  // namespace

std::vector<r1::ToolDefinition> ToolsFromPython(const py::handle& tools) {
  return ValueOrThrow(r1::chat_json::ReadTools(FromPython(tools, "tools")));
}

py::object ToolsToPython(const std::vector<r1::ToolDefinition>& tools) {
  r1::chat_json::Json out = r1::chat_json::Json::array();
  for (const r1::ToolDefinition& t : tools) {
    r1::chat_json::Json function = {{"name", t.name}, {"description", t.description}};
    function["parameters"] = r1::ParseOrderedJson(t.parameters).value_or(r1::chat_json::Json::object());
    out.push_back({{"type", "function"}, {"function", std::move(function)}});
  }
  return ToPython(out);
}

std::vector<r1::ToolCall> ToolCallsFromPython(const py::handle& calls) {
  return ValueOrThrow(r1::chat_json::ReadToolCalls(FromPython(calls, "tool_calls")));
}

void ToolChoiceFromPython(const py::handle& choice, r1::GenerateOptions* options) {
  ThrowIfError(r1::chat_json::ReadToolChoice(FromPython(choice, "tool_choice"), options));
}

py::object ToolCallsToPython(const std::vector<r1::ToolCall>& calls) {
  return ToPython(r1::chat_json::ToolCallsJson(calls));
}

}  // namespace r1py
