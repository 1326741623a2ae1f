// fuzz_entry.h — the bodies of r1's fuzz targets, shared by the libFuzzer binaries
// (test/fuzz/*_fuzzer.cc) and the regression suite (test/robustness), so that every input that
// once broke a target is replayed by the normal test suite through the same code.
//
// Each Run* function feeds one input to the library and returns the library's own status
// (errors are the expected answer to malformed input). A broken invariant — something the
// public headers promise that did not hold — comes back as an error marked IsInvariantFailure;
// crashes, hangs and sanitizer reports are the other failures the fuzzers look for.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "r1/model.h"
#include "r1/session.h"
#include "r1/status.h"
#include "r1/tokenizer.h"

namespace r1::fuzz {

struct Vocabs;
struct StateFixture;

bool IsInvariantFailure(const Status& status);
// For the fuzzer binaries: a broken invariant is reported and aborts, so libFuzzer keeps the
// input; any other status is the library's answer and fine.
void AbortOnInvariantFailure(const Status& status);
// For LLVMFuzzerInitialize: what a target needs before the first input, or a message and exit.
Vocabs& VocabsOrDie();
StateFixture& StateFixtureOrDie();

// The shared test-data folder: $R1_SHARED_DIR, else `fallback`.
std::string SharedDirOr(const std::string& fallback);

// GgufFile::FromBuffer, then every metadata value, array element and tensor view it reports,
// then the vocabulary reader on the same file.
Status RunGguf(absl::Span<const uint8_t> data);

// Model::Load on the bytes written to a scratch file, then a session evaluating two tokens.
Status RunModelLoad(absl::Span<const uint8_t> data);

// Real vocabularies (byte-level BPE of each R1 family and a SentencePiece one), loaded once.
struct Vocabs {
  std::vector<std::unique_ptr<Tokenizer>> tokenizers;
  std::vector<std::string> names;
};
StatusOr<std::unique_ptr<Vocabs>> LoadVocabs(const std::string& shared_dir);

// First byte: vocabulary and options; the rest: text for Encode, then Decode of the ids.
Status RunTokenizer(const Vocabs& vocabs, absl::Span<const uint8_t> data);
// First bytes: vocabulary, decode options, how many ids to Prime; then 3 bytes per id, some
// of them out of range.
Status RunStreamDecoder(const Vocabs& vocabs, absl::Span<const uint8_t> data);
// First byte: template and options; the rest: NUL-separated role/content fields.
Status RunChat(const Vocabs& vocabs, absl::Span<const uint8_t> data);
// First byte: options; then Jinja template source up to the first NUL; the rest:
// NUL-separated role/content fields. FormatChatJinja must answer with output or a clear error.
Status RunJinja(absl::Span<const uint8_t> data);

// An HTTP request body for r1 serve: parsed as a chat and as a raw completion request (the
// first byte picks small or default limits). Invariants: an error is a 4xx with a type and a
// message; a request that parses respects the limits and maps to generation options.
Status RunOpenAiRequest(absl::Span<const uint8_t> data);

// A GBNF grammar up to the first NUL, then text fed byte by byte to a matcher of it, and the
// token mask of a small hand-made vocabulary checked against trying each token. Invariants:
// a refused grammar says "line L, column C: ..."; a refused byte changes nothing; the mask
// equals the brute-force answer.
Status RunGrammar(absl::Span<const uint8_t> data);

// A session on models/stories260K-q8dequant.gguf, made once.
struct StateFixture {
  std::shared_ptr<const Model> model;
  std::unique_ptr<Session> session;
  std::string scratch_path;  // where inputs are written for LoadState
};
StatusOr<std::unique_ptr<StateFixture>> MakeStateFixture(const std::string& shared_dir);
// Session::LoadState on the bytes as a file; when it is accepted, the session must go on
// evaluating.
Status RunSessionState(StateFixture& fixture, absl::Span<const uint8_t> data);

}  // namespace r1::fuzz
