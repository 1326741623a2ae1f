// py_types.cc — plain value types: channels, stop reasons, chat messages, options, results
// and stream events.
#include <pybind11/stl.h>

#include <string>

#include "py_r1.h"
#include "r1/chat.h"
#include "r1/grammar.h"
#include "r1/sampler.h"
#include "session/chat_json.h"

namespace r1py {

void ApplyOverrides(py::object options, const py::kwargs& overrides) {
  py::object sampler = options.attr("sampler");
  for (auto item : overrides) {
    const py::str key = py::str(item.first);
    if (py::hasattr(options, key)) {
      options.attr(key) = item.second;
    } else if (py::hasattr(sampler, key)) {
      sampler.attr(key) = item.second;
    } else {
      throw py::type_error("unknown generation option '" + std::string(key) + "'");
    }
  }
}

// OpenAI's response_format as a dict, from the options' grammar or JSON schema.
py::object ResponseFormat(const r1::GenerateOptions& o) {
  if (!o.json_schema.empty()) {
    py::dict spec;
    spec["schema"] = py::module_::import("json").attr("loads")(o.json_schema);
    return py::dict(py::arg("type") = "json_schema", py::arg("json_schema") = spec);
  }
  if (!o.grammar.empty() && o.grammar == r1::JsonObjectGrammar()) return py::dict(py::arg("type") = "json_object");
  if (o.grammar.empty()) return py::none();
  return py::dict(py::arg("type") = "grammar", py::arg("grammar") = o.grammar);
}

void SetResponseFormat(r1::GenerateOptions& o, const py::object& format) {
  o.grammar.clear();
  o.json_schema.clear();
  if (format.is_none()) return;
  if (!py::isinstance<py::dict>(format) || !format.contains("type")) {
    throw py::value_error("response_format must be a dict with a 'type'");
  }
  const py::dict spec = format.cast<py::dict>();
  const std::string type = py::str(spec["type"]);
  if (type == "text") return;
  if (type == "json_object") {
    o.grammar = r1::JsonObjectGrammar();
  } else if (type == "json_schema") {
    py::object inner = spec.contains("json_schema") ? py::object(spec["json_schema"]) : py::none();
    if (!py::isinstance<py::dict>(inner) || !inner.contains("schema")) {
      throw py::value_error("response_format json_schema needs {'json_schema': {'schema': {...}}}");
    }
    py::object schema = inner.attr("__getitem__")("schema");
    o.json_schema = py::str(py::module_::import("json").attr("dumps")(schema));
  } else if (type == "grammar" && spec.contains("grammar")) {
    o.grammar = py::str(spec["grammar"]);
  } else {
    throw py::value_error("response_format type must be 'text', 'json_object' or 'json_schema'");
  }
}

py::object ToolChoiceToPython(const r1::GenerateOptions& o) {
  switch (o.tool_choice) {
    case r1::ToolChoice::kAuto: return py::str("auto");
    case r1::ToolChoice::kNone: return py::str("none");
    case r1::ToolChoice::kRequired: return py::str("required");
    case r1::ToolChoice::kFunction: break;
  }
  return py::str(o.tool_choice_function);
}

void SetToolChoice(r1::GenerateOptions& o, const py::object& choice) {
  if (choice.is_none() || py::isinstance<py::str>(choice)) {
    r1::chat_json::ToolChoiceFromText(choice.is_none() ? "auto" : choice.cast<std::string>(), &o);
  } else {
    ToolChoiceFromPython(choice, &o);  // OpenAI's {"type": "function", "function": {"name": ...}}
  }
}

void RegisterTypes(py::module_& m) {
  py::enum_<r1::Channel>(m, "Channel", "Which part of an R1 answer a piece of text belongs to.")
      .value("REASONING", r1::Channel::kReasoning, "the chain of thought inside <think>...</think>")
      .value("CONTENT", r1::Channel::kContent, "the answer");

  py::enum_<r1::StopReason>(m, "StopReason", "Why a generation ended.")
      .value("END_OF_GENERATION", r1::StopReason::kEndOfGeneration, "the model ended its turn")
      .value("MAX_TOKENS", r1::StopReason::kMaxTokens, "max_new_tokens reached")
      .value("STOP_STRING", r1::StopReason::kStopString, "a stop string appeared (it is not emitted)")
      .value("CANCELLED", r1::StopReason::kCancelled, "cancel() was called, or Ctrl-C")
      .value("CONTEXT_FULL", r1::StopReason::kContextFull, "no room left in the context")
      .value("GRAMMAR_DEAD_END", r1::StopReason::kGrammarDeadEnd, "the grammar allows no token here");

  py::class_<r1::ChatMessage>(m, "ChatMessage", R"doc(One turn of a conversation.

    r1.ChatMessage("user", "Hello!")
Sessions also accept {"role": ..., "content": ...} dicts and (role, content) tuples.)doc")
      .def(py::init([](std::string role, std::string content) {
             return r1::ChatMessage{std::move(role), std::move(content)};
           }),
           py::arg("role"), py::arg("content"))
      .def_readwrite("role", &r1::ChatMessage::role, "\"system\", \"user\" or \"assistant\"")
      .def_readwrite("content", &r1::ChatMessage::content, "the text (UTF-8)")
      .def("__repr__", [](const r1::ChatMessage& msg) {
        return py::str("ChatMessage({!r}, {!r})").format(msg.role, Utf8(msg.content));
      });

  py::class_<r1::SamplerConfig>(m, "SamplerConfig", R"doc(How the next token is chosen from the logits.

Penalties, then top-k, top-p, min-p and temperature, then a seeded draw; temperature 0 is greedy.)doc")
      .def(py::init([](py::kwargs kwargs) {
             py::object config = py::cast(r1::SamplerConfig{});
             for (auto item : kwargs) {
               if (!py::hasattr(config, item.first)) {
                 throw py::type_error("unknown sampler option '" + std::string(py::str(item.first)) + "'");
               }
               config.attr(item.first) = item.second;
             }
             return config.cast<r1::SamplerConfig>();
           }))
      .def_readwrite("temperature", &r1::SamplerConfig::temperature, "0 = greedy (default 0.6)")
      .def_readwrite("top_k", &r1::SamplerConfig::top_k, "keep the k most likely; 0 = off")
      .def_readwrite("top_p", &r1::SamplerConfig::top_p, "nucleus sampling threshold; 1 = off (default 0.95)")
      .def_readwrite("min_p", &r1::SamplerConfig::min_p, "drop tokens below min_p x the most likely; 0 = off")
      .def_readwrite("repeat_penalty", &r1::SamplerConfig::repeat_penalty, "1 = off")
      .def_readwrite("presence_penalty", &r1::SamplerConfig::presence_penalty, "0 = off")
      .def_readwrite("frequency_penalty", &r1::SamplerConfig::frequency_penalty, "0 = off")
      .def_readwrite("penalty_window", &r1::SamplerConfig::penalty_window, "recent tokens the penalties see")
      .def_readwrite("seed", &r1::SamplerConfig::seed, "seed of the sampler's generator");

  py::class_<r1::GenerateOptions>(m, "GenerateOptions", R"doc(Options of one generation.

Keyword arguments set fields of the options or of their sampler:

    opts = r1.GenerateOptions(max_new_tokens=64, temperature=0.0, stop=["\n\n"]))doc")
      .def(py::init([](py::kwargs kwargs) {
             py::object options = py::cast(r1::GenerateOptions{});
             ApplyOverrides(options, kwargs);
             return options.cast<r1::GenerateOptions>();
           }))
      .def_readwrite("max_new_tokens", &r1::GenerateOptions::max_new_tokens, "< 0 (default): until the context is full")
      .def_readwrite("sampler", &r1::GenerateOptions::sampler, "an r1.SamplerConfig")
      .def_readwrite("stop", &r1::GenerateOptions::stop, "stop strings (not emitted)")
      .def_readwrite("reasoning_budget", &r1::GenerateOptions::reasoning_budget,
                     "at most this many reasoning tokens, then the answer; < 0: no limit")
      .def_readwrite("ignore_eos", &r1::GenerateOptions::ignore_eos, "continue past end-of-generation tokens")
      .def_readwrite("drop_oldest_turns", &r1::GenerateOptions::drop_oldest_turns,
                     "chat: drop old turns instead of failing when the context is full")
      .def_property(
          "chat_template",
          [](const r1::GenerateOptions& o) -> py::object {
            if (!o.chat_template) return py::none();
            return py::str(std::string(r1::ChatTemplateName(*o.chat_template)));
          },
          [](r1::GenerateOptions& o, py::object name) {
            if (name.is_none()) {
              o.chat_template.reset();
              return;
            }
            const std::string text = name.cast<std::string>();
            auto t = r1::ChatTemplateFromName(text);
            if (!t) ThrowIfError(absl::InvalidArgumentError(
                        "unknown chat template '" + text +
                        "' (deepseek-r1, deepseek-r1-distill, llama3, chatml, qwen2)"));
            o.chat_template = t;
          },
          "chat: a built-in template name instead of the model's; None = the model's")
      .def_readwrite("grammar", &r1::GenerateOptions::grammar,
                     "GBNF grammar the answer must match (llama.cpp's notation); \"\" = free text")
      .def_readwrite("json_schema", &r1::GenerateOptions::json_schema,
                     "JSON Schema (JSON text) the answer must validate against; \"\" = none")
      .def_readwrite("grammar_from_first_token", &r1::GenerateOptions::grammar_from_first_token,
                     "the grammar governs all output, the thought included (default: only the answer)")
      .def_property(
          "tools", [](const r1::GenerateOptions& o) { return ToolsToPython(o.tools); },
          [](r1::GenerateOptions& o, const py::object& tools) {
            o.tools = tools.is_none() ? std::vector<r1::ToolDefinition>() : ToolsFromPython(tools);
          },
          "chat: functions the model may call, as OpenAI's tools list "
          "([{\"type\": \"function\", \"function\": {\"name\", \"description\", \"parameters\"}}])")
      .def_property("tool_choice", &ToolChoiceToPython, &SetToolChoice,
                    "\"auto\" (default), \"none\", \"required\", or a function's name (or OpenAI's "
                    "{\"type\": \"function\", \"function\": {\"name\": ...}}) that must be called")
      .def_property("response_format", &ResponseFormat, &SetResponseFormat,
                    "OpenAI's response_format: None or {\"type\": \"text\"}, {\"type\": \"json_object\"}, "
                    "{\"type\": \"json_schema\", \"json_schema\": {\"schema\": {...}}}; sets grammar / json_schema");

  py::class_<r1::GenerateResult>(m, "GenerateResult", "The outcome of a generation.")
      .def_property_readonly("reasoning", [](const r1::GenerateResult& r) { return Utf8(r.reasoning); },
                             "text of the reasoning channel")
      .def_property_readonly("content", [](const r1::GenerateResult& r) { return Utf8(r.content); },
                             "text of the answer")
      .def_property_readonly("tool_calls", [](const r1::GenerateResult& r) { return ToolCallsToPython(r.tool_calls); },
                             "the functions the answer called, as OpenAI's tool_calls list of dicts")
      .def_readonly("tokens", &r1::GenerateResult::tokens, "every generated token id")
      .def_readonly("n_prompt_tokens", &r1::GenerateResult::n_prompt_tokens)
      .def_readonly("n_prefilled_tokens", &r1::GenerateResult::n_prefilled_tokens,
                    "prompt tokens computed (the rest came from the cache)")
      .def_readonly("n_generated_tokens", &r1::GenerateResult::n_generated_tokens)
      .def_readonly("n_reasoning_tokens", &r1::GenerateResult::n_reasoning_tokens)
      .def_readonly("stop_reason", &r1::GenerateResult::stop_reason)
      .def_readonly("prefill_seconds", &r1::GenerateResult::prefill_seconds)
      .def_readonly("decode_seconds", &r1::GenerateResult::decode_seconds)
      .def_readonly("n_drafted_tokens", &r1::GenerateResult::n_drafted_tokens,
                    "speculative decoding: the draft model's guesses")
      .def_readonly("n_accepted_tokens", &r1::GenerateResult::n_accepted_tokens, "of those, how many were kept")
      .def_property_readonly("acceptance_rate", &r1::GenerateResult::acceptance_rate)
      .def_property_readonly("prefill_tokens_per_second", &r1::GenerateResult::prefill_tokens_per_second)
      .def_property_readonly("decode_tokens_per_second", &r1::GenerateResult::decode_tokens_per_second)
      .def("__repr__", [](const r1::GenerateResult& r) {
        return py::str("GenerateResult(stop_reason={}, n_generated_tokens={})")
            .format(py::cast(r.stop_reason), r.n_generated_tokens);
      });

  py::class_<StreamEvent>(m, "StreamEvent", "One streamed piece of text: complete UTF-8 of one channel.")
      .def_readonly("channel", &StreamEvent::channel, "r1.Channel.REASONING or r1.Channel.CONTENT")
      .def_property_readonly("text", [](const StreamEvent& e) { return Utf8(e.text); })
      .def_readonly("token", &StreamEvent::token, "the token id that completed the piece")
      .def_property_readonly("is_reasoning", [](const StreamEvent& e) { return e.channel == r1::Channel::kReasoning; })
      .def("__repr__", [](const StreamEvent& e) {
        return py::str("StreamEvent({}, {!r}, {})").format(py::cast(e.channel), Utf8(e.text), e.token);
      });
}

}  // namespace r1py
