// r1/grammar.h — structured output: grammars and JSON Schemas that the answer must match.
//
// Grammars are GBNF, llama.cpp's notation (doc/structured-output.md), so grammars written for it
// work here. GenerateOptions::grammar / json_schema apply one to a generation; these functions
// check or translate one beforehand (the CLI's --print-grammar, a server validating a request).
#pragma once

#include <string>
#include <string_view>

#include "r1/status.h"

namespace r1 {

// OK when `gbnf` parses and has a "root" rule; InvalidArgument saying the line, the column and
// what is wrong otherwise.
Status CheckGrammar(std::string_view gbnf);

// GBNF for the JSON documents that the JSON Schema `schema` accepts. InvalidArgument for text
// that is not JSON, and for a keyword the translation cannot honour (the message names it and
// its JSON pointer).
StatusOr<std::string> JsonSchemaToGrammar(std::string_view schema);

// GBNF for any JSON object (OpenAI's response_format {"type": "json_object"}).
std::string JsonObjectGrammar();

}  // namespace r1
