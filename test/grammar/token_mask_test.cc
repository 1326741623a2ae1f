// The token mask against a brute-force reference (every token tried on a copy of the matcher),
// on real vocabularies and on a small hand-made one.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "grammar/gbnf_parser.h"
#include "grammar/grammar_constraint.h"
#include "support/test_util.h"
#include "example_grammars.h"

namespace r1::grammar {
namespace {

using Kind = TokenVocabulary::Kind;

std::shared_ptr<const Grammar> Parse(std::string_view gbnf) {
  auto g = ParseGbnf(gbnf);
  REQUIRE_MESSAGE(g.ok(), g.status().ToString());
  return *g;
}

// What a token mask must be: each token tried on its own copy of the matcher.
std::vector<bool> Reference(const GrammarMatcher& m, const TokenVocabulary& vocab) {
  std::vector<bool> allowed(vocab.size());
  for (int32_t id = 0; id < vocab.size(); ++id) {
    switch (vocab.kind(id)) {
      case Kind::kText: {
        GrammarMatcher copy = m;
        allowed[id] = copy.AcceptBytes(vocab.bytes(id));
        break;
      }
      case Kind::kEndOfGeneration: allowed[id] = m.complete(); break;
      case Kind::kNever: allowed[id] = false; break;
    }
  }
  return allowed;
}

// Compares the masker's answer in the state `prefix` leads to with the reference.
void CheckState(const std::shared_ptr<const Grammar>& grammar,
                const std::shared_ptr<const TokenVocabulary>& vocab, std::string_view prefix,
                size_t max_states = 1 << 15) {
  INFO("prefix: " << std::string(prefix));
  GrammarMatcher m(grammar);
  REQUIRE(m.AcceptBytes(prefix));
  const std::vector<bool> expected = Reference(m, *vocab);
  GrammarAutomaton automaton(m, max_states);
  TokenMasker masker(vocab);
  int32_t state = automaton.start();
  for (bool cached : {false, true, true}) {
    const AllowedTokens& got = masker.Allowed(automaton, &state, cached);
    int64_t count = 0, mismatches = 0;
    for (int32_t id = 0; id < vocab->size(); ++id) {
      count += expected[id];
      if (got.Contains(id) != expected[id] && ++mismatches <= 5) {
        MESSAGE("token " << id << " '" << std::string(vocab->bytes(id)) << "' expected "
                         << expected[id]);
      }
    }
    CHECK(mismatches == 0);
    CHECK(got.count == count);
  }
  CHECK(masker.hits() == (max_states >= 1024 ? 1 : masker.hits()));
}

TEST_CASE("hand-made vocabulary: partial characters, end of generation, control tokens") {
  // "é" is C3 A9; "€" is E2 82 AC.
  auto vocab = TokenVocabulary::FromPieces(
      {"a", "ab", "abc", "b", "\xC3", "\xA9", "\xC3\xA9", "\xE2\x82", "\xAC", "</s>", "<ctl>", "", "c\xC3"},
      {Kind::kText, Kind::kText, Kind::kText, Kind::kText, Kind::kText, Kind::kText, Kind::kText,
       Kind::kText, Kind::kText, Kind::kEndOfGeneration, Kind::kNever, Kind::kText, Kind::kText});
  auto grammar = Parse("root ::= \"a\" [bé€]* \"c\"?");
  for (std::string_view prefix : {"", "a", "ab", "a\xC3", "a\xE2\x82", "abc", "a\xC3\xA9"}) {
    CheckState(grammar, vocab, prefix);
  }
  auto constraint = GrammarConstraint::Create("root ::= \"a\" [bé€]* \"c\"?", vocab);
  REQUIRE(constraint.ok());
  GrammarConstraint& c = **constraint;
  std::vector<float> logits(vocab->size() + 3, 1.0f);
  CHECK(c.Mask(absl::MakeSpan(logits)) == 3);  // a, ab, abc
  CHECK(std::isinf(logits[3]));
  CHECK(std::isinf(logits[vocab->size() + 1]));  // past the vocabulary
  CHECK_FALSE(c.Accept(9).ok());                 // end of generation before complete
  CHECK_FALSE(c.Accept(10).ok());                // control
  CHECK_FALSE(c.Accept(3).ok());                 // "b" first
  REQUIRE(c.Accept(0).ok());
  CHECK(c.complete());
  REQUIRE(c.Accept(4).ok());  // half of é
  CHECK_FALSE(c.complete());
  CHECK_FALSE(c.Accept(9).ok());
  REQUIRE(c.Accept(5).ok());
  CHECK(c.complete());
  std::fill(logits.begin(), logits.end(), 0.0f);
  c.Mask(absl::MakeSpan(logits));
  CHECK(logits[9] == 0.0f);   // EOG allowed now
  CHECK(std::isinf(logits[10]));
  CHECK(std::isinf(logits[11]));  // empty token
  CHECK(std::isinf(logits[12]));  // "c" may end the text, but nothing may follow it
  CHECK_FALSE(c.Accept(0).ok());
  CHECK_FALSE(c.Accept(12).ok());
  CHECK(c.Accept(9).ok());
}

std::unique_ptr<Tokenizer> LoadShared(const std::string& file) {
  auto dir = test::SharedDir();
  if (!dir) return nullptr;
  auto tok = Tokenizer::Load(*dir + "/vocab/" + file);
  REQUIRE_MESSAGE(tok.ok(), tok.status().ToString());
  return *std::move(tok);
}

TEST_CASE("json grammar on a real vocabulary matches the reference") {
  auto tok = LoadShared("deepseek-r1.vocab.gguf");
  if (!tok) return;
  auto vocab = BuildTokenVocabulary(*tok);
  REQUIRE(vocab.ok());
  auto grammar = Parse(testdata::kJsonGbnf);
  for (std::string_view prefix : {"", "{", "{\"", "{\"na", "{\"name\": ", "{\"n\": 12",
                                  "{\"n\": \"caf\xC3", "{\"n\": [true, ", "{\"n\": \"\\u00", "{}"}) {
    CheckState(grammar, *vocab, prefix);
  }
}

TEST_CASE("a tiny automaton budget (compacting during the walk) gives the same answers") {
  auto tok = LoadShared("deepseek-r1.vocab.gguf");
  if (!tok) return;
  auto vocab = BuildTokenVocabulary(*tok);
  REQUIRE(vocab.ok());
  auto grammar = Parse(testdata::kJsonGbnf);
  for (std::string_view prefix : {"{", "{\"n\": \"x", "{\"n\": 1"}) CheckState(grammar, *vocab, prefix, 16);
}

TEST_CASE("non-ASCII classes on byte-level and SentencePiece vocabularies") {
  const char* gbnf = "root ::= [ぁ-ゟ一-鿿]+ (\"。\" | [\\n ]) [^\\x00-\\x7F]*";
  auto grammar = Parse(gbnf);
  for (const char* file : {"r1-distill-qwen.vocab.gguf", "ggml-vocab-llama-spm.gguf"}) {
    auto tok = LoadShared(file);
    if (!tok) return;
    INFO(file);
    auto vocab = BuildTokenVocabulary(*tok);
    REQUIRE(vocab.ok());
    for (std::string_view prefix : {"", "\xE3", "\xE3\x81", "あ", "日本", "日本。", "日本 \xC3"}) {
      CheckState(grammar, *vocab, prefix);
    }
  }
}

TEST_CASE("a JSON document fed token by token is always allowed") {
  auto tok = LoadShared("deepseek-r1.vocab.gguf");
  if (!tok) return;
  auto vocab = BuildTokenVocabulary(*tok);
  REQUIRE(vocab.ok());
  auto constraint = GrammarConstraint::Create(testdata::kJsonGbnf, *vocab);
  REQUIRE(constraint.ok());
  GrammarConstraint& c = **constraint;
  const std::string doc =
      "{\"name\": \"Zoë\", \"tags\": [\"a\", \"日本語\"], \"n\": -12.5e3, \"ok\": true,\n \"nested\": {\"x\": null}}";
  auto ids = tok->Encode(doc, {.add_bos = false});
  REQUIRE(ids.ok());
  std::vector<float> logits(vocab->get()->size());
  for (int32_t id : *ids) {
    std::fill(logits.begin(), logits.end(), 0.0f);
    CHECK(c.Mask(absl::MakeSpan(logits)) > 0);
    CHECK_MESSAGE(logits[id] == 0.0f, "token " << id);
    REQUIRE(c.Accept(id).ok());
  }
  CHECK(c.complete());
  const int32_t eos = *tok->eos_id();
  std::fill(logits.begin(), logits.end(), 0.0f);
  c.Mask(absl::MakeSpan(logits));
  CHECK(logits[eos] == 0.0f);
  CHECK(c.Accept(eos).ok());
  // Control tokens are never allowed, even when complete.
  for (int32_t id = 0; id < vocab->get()->size(); ++id) {
    if (*tok->GetTokenType(id) == TokenType::kControl && !tok->IsEndOfGeneration(id)) {
      CHECK(std::isinf(logits[id]));
    }
  }
}

}  // namespace
}  // namespace r1::grammar
