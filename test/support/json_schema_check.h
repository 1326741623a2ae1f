// json_schema_check.h — a small JSON Schema validator for tests of structured output.
//
// Checks the keywords the JSON-Schema-to-GBNF converter honours, with JSON Schema's meaning:
// type (integer: integral numbers), enum, const, properties, required, additionalProperties,
// items, prefixItems (and draft-7 items arrays with additionalItems), minItems, maxItems,
// minLength, maxLength (in code points), format date/time/date-time/uuid (the forms the
// grammar writes: RFC 3339 with upper-case T and Z, month 01-12, day 01-31), anyOf, oneOf
// (exactly one), allOf, and $ref within the schema. Like the grammar, it does not check
// minimum/maximum/exclusiveMinimum/exclusiveMaximum. A keyword that constrains but is not
// checked (pattern, not, uniqueItems, ...) is reported as a problem rather than passed.
#pragma once

#include <string>
#include <string_view>

namespace r1::test {

// Empty string when `doc` (JSON text) parses and validates against `schema` (JSON text);
// otherwise what is wrong.
std::string JsonSchemaProblem(std::string_view schema, std::string_view doc);

// Whether `text` is one JSON value by RFC 8259's grammar alone: numbers of any size count
// (a parser into doubles refuses 1e400, which is still JSON).
bool IsJsonSyntax(std::string_view text);

}  // namespace r1::test
