// json_schema_grammar.h — JSON Schema to GBNF, for constrained decoding.
//
// The grammar's language is the set of JSON documents that validate, or a safe subset of it
// (every document it accepts validates). Where it is a subset, and why:
//  - Whitespace between tokens is empty, one space, or a newline and at most 16 spaces, so a
//    model cannot pad without end. Root has no whitespace before or after it.
//  - Numbers have at most 15 integer digits, at most 15 fraction digits and an exponent of at
//    most 2 digits, so every one fits a double. minimum/maximum/exclusiveMinimum/exclusiveMaximum are accepted but not
//    enforced, except that a lower bound >= 0 forbids the minus sign.
//  - String escapes \uXXXX exclude surrogates (write such characters as UTF-8), so each escape
//    is one character for minLength/maxLength. maxLength above 4096 is taken as 4096.
//  - Objects with 'properties' hold only those (plus any 'required' names not listed there),
//    required ones first in schema order, then optional ones in schema order, each present or
//    absent. Without 'properties', 'additionalProperties' (absent, true, or a schema) gives
//    any string keys with that value schema.
//  - maxItems above 4096 is taken as 4096. Values of an empty schema ({} or true) nest at most
//    10 containers deep. enum/const values are written compactly, without inner whitespace.
//  - oneOf is treated as anyOf. Without 'type', the type is inferred from type-specific
//    keywords (properties → object, items → array, maxLength → string, ...).
//  - Formats date, time, date-time (RFC 3339, upper-case T and Z, month 01-12, day 01-31) and
//    uuid are enforced; other formats are plain strings.
//
// Refused with InvalidArgument, naming the JSON pointer: keywords that constrain but are not
// honoured (pattern, not, if/then/else, uniqueItems, multipleOf, ...), $ref outside this
// document, schemas that accept nothing, and schemas whose grammar would be too large (more
// than 64 nested levels, minItems/minLength above 4096, or over the rule and size budgets).
#pragma once

#include <string>
#include <string_view>

#include "r1/status.h"

namespace r1::grammar {

// GBNF (root rule "root") for the JSON documents that `schema` (JSON Schema text) accepts.
// InvalidArgument for text that is not JSON, or a schema using a keyword this converter cannot
// honour (e.g. "/properties/age: 'pattern' is not supported").
StatusOr<std::string> JsonSchemaToGbnf(std::string_view schema);

// GBNF for any JSON object (OpenAI's response_format {"type":"json_object"}).
std::string AnyJsonObjectGbnf();

}  // namespace r1::grammar
