// grammar_api.cc — r1/grammar.h over the grammar engine and the JSON Schema translation.
#include "r1/grammar.h"

#include "grammar/grammar_constraint.h"
#include "grammar/json_schema_grammar.h"

namespace r1 {

Status CheckGrammar(std::string_view gbnf) { return grammar::CheckGbnf(gbnf); }

StatusOr<std::string> JsonSchemaToGrammar(std::string_view schema) { return grammar::JsonSchemaToGbnf(schema); }

std::string JsonObjectGrammar() { return grammar::AnyJsonObjectGbnf(); }

}  // namespace r1
