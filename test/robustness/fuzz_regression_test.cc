// Replays test/data/fuzz/<target>/* — every input that once crashed or failed a fuzz target,
// and hand-made hostile inputs — through the same functions the fuzzers call
// (test/fuzz/fuzz_entry.h). Malformed files must be refused with an error; no input may break
// an invariant. Under -Db_sanitize=address,undefined this also catches what a crash would.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "fuzz_entry.h"
#include "support/test_util.h"

R1_TEST_NEEDS_SHARED_DIR();

namespace r1::fuzz {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> Cases(const std::string& target) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(fs::path(R1_FUZZ_DATA_DIR) / target)) {
    if (e.is_regular_file() && e.path().filename().string()[0] != '.') out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<uint8_t> Read(const fs::path& p) {
  auto bytes = test::ReadFileBytes(p.string());
  REQUIRE_MESSAGE(bytes.has_value(), p.string());
  return *bytes;
}

// `must_fail`: every case of the target is a malformed file that must be refused.
template <typename Fn>
void Replay(const std::string& target, bool must_fail, Fn run) {
  const auto cases = Cases(target);
  CHECK(!cases.empty());
  for (const fs::path& p : cases) {
    INFO(target << "/" << p.filename().string());
    const Status s = run(absl::MakeConstSpan(Read(p)));
    CHECK_MESSAGE(!IsInvariantFailure(s), s.ToString());
    if (must_fail) CHECK_MESSAGE(!s.ok(), "accepted a malformed input");
  }
}

const Vocabs& SharedVocabs() {
  static std::unique_ptr<Vocabs> v = [] {
    auto r = LoadVocabs(*test::SharedDir());
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    return *std::move(r);
  }();
  return *v;
}

TEST_CASE("gguf") { Replay("gguf", true, RunGguf); }

TEST_CASE("model_load") { Replay("model_load", true, RunModelLoad); }

TEST_CASE("tokenizer") {
  Replay("tokenizer", false, [](absl::Span<const uint8_t> d) { return RunTokenizer(SharedVocabs(), d); });
}

TEST_CASE("stream_decoder") {
  Replay("stream_decoder", false, [](absl::Span<const uint8_t> d) { return RunStreamDecoder(SharedVocabs(), d); });
}

TEST_CASE("chat") {
  Replay("chat", false, [](absl::Span<const uint8_t> d) { return RunChat(SharedVocabs(), d); });
}

TEST_CASE("jinja") { Replay("jinja", false, RunJinja); }
TEST_CASE("openai_request") { Replay("openai_request", false, RunOpenAiRequest); }
TEST_CASE("grammar") { Replay("grammar", false, RunGrammar); }

TEST_CASE("session_state") {
  auto fx = MakeStateFixture(*test::SharedDir());
  REQUIRE_MESSAGE(fx.ok(), fx.status().ToString());
  Replay("session_state", true, [&](absl::Span<const uint8_t> d) { return RunSessionState(**fx, d); });
}

}  // namespace
}  // namespace r1::fuzz
