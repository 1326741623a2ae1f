// Special token ids in GGUF metadata (tokenizer.ggml.*_token_id): ids outside the vocabulary
// are errors that name the key, the value and the vocabulary size, except the converters'
// "no such token" values (-1, 2^32 - 1).
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gguf/gguf_writer.h"
#include "r1/tokenizer.h"
#include "tiny_vocab.h"

namespace r1 {
namespace {

// A SentencePiece vocabulary (259 tokens) as GGUF metadata, with `edit` applied last.
class VocabFile {
 public:
  explicit VocabFile(const std::function<Status(GgufWriter&)>& edit) {
    static int counter = 0;
    path_ = absl::StrFormat("/tmp/r1_special_ids_%d_%d.gguf", static_cast<int>(getpid()), counter++);
    const VocabSpec spec = test::MakeSpmSpec({});
    n_vocab_ = spec.tokens.size();
    GgufWriter w;
    REQUIRE(w.SetString("general.architecture", "llama").ok());
    REQUIRE(w.SetString("tokenizer.ggml.model", "llama").ok());
    REQUIRE(w.SetStringArray("tokenizer.ggml.tokens", spec.tokens).ok());
    REQUIRE(w.SetArray("tokenizer.ggml.scores", absl::Span<const float>(spec.scores)).ok());
    REQUIRE(w.SetArray("tokenizer.ggml.token_type", absl::Span<const int32_t>(spec.token_types)).ok());
    REQUIRE(w.SetUint32("tokenizer.ggml.bos_token_id", 1).ok());
    REQUIRE(w.SetUint32("tokenizer.ggml.eos_token_id", 2).ok());
    REQUIRE(edit(w).ok());
    REQUIRE(w.WriteToFile(path_).ok());
  }
  ~VocabFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }
  size_t n_vocab() const { return n_vocab_; }

 private:
  std::string path_;
  size_t n_vocab_ = 0;
};

constexpr const char* kIdKeys[] = {
    "tokenizer.ggml.bos_token_id",     "tokenizer.ggml.eos_token_id",
    "tokenizer.ggml.eot_token_id",     "tokenizer.ggml.eom_token_id",
    "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id",
    "tokenizer.ggml.seperator_token_id", "tokenizer.ggml.cls_token_id",
    "tokenizer.ggml.mask_token_id",
};

TEST_SUITE("tokenize") {
  TEST_CASE("a special token id far outside the vocabulary is an error naming key, value and size") {
    const VocabFile file([](GgufWriter& w) { return w.SetUint32("tokenizer.ggml.bos_token_id", 4000000000u); });
    const auto tok = Tokenizer::Load(file.path());
    REQUIRE_FALSE(tok.ok());
    CHECK(tok.status().code() == absl::StatusCode::kInvalidArgument);
    const std::string message(tok.status().message());
    INFO(message);
    CHECK(message.find("tokenizer.ggml.bos_token_id") != std::string::npos);
    CHECK(message.find("4000000000") != std::string::npos);
    CHECK(message.find("259 tokens") != std::string::npos);
  }

  TEST_CASE("every special token key is checked, the first id past the end included") {
    for (const char* key : kIdKeys) {
      INFO(key);
      const VocabFile past_end([key](GgufWriter& w) { return w.SetUint32(key, 259); });
      const auto tok = Tokenizer::Load(past_end.path());
      REQUIRE_FALSE(tok.ok());
      CHECK(std::string(tok.status().message()).find(key) != std::string::npos);
      const VocabFile negative([key](GgufWriter& w) { return w.SetInt32(key, -2); });
      CHECK(Tokenizer::Load(negative.path()).status().code() == absl::StatusCode::kInvalidArgument);
      const VocabFile last([key](GgufWriter& w) { return w.SetUint32(key, 258); });
      CHECK(Tokenizer::Load(last.path()).ok());
    }
  }

  TEST_CASE("the converters' 'no such token' values mean the token is absent") {
    const VocabFile unsigned_none([](GgufWriter& w) {
      R1_RETURN_IF_ERROR(w.SetUint32("tokenizer.ggml.eos_token_id", UINT32_MAX));
      return w.SetUint32("tokenizer.ggml.padding_token_id", UINT32_MAX);
    });
    auto tok = Tokenizer::Load(unsigned_none.path());
    REQUIRE_MESSAGE(tok.ok(), tok.status().ToString());
    CHECK((*tok)->bos_id() == 1);
    CHECK_FALSE((*tok)->eos_id().has_value());

    const VocabFile signed_none([](GgufWriter& w) {
      R1_RETURN_IF_ERROR(w.SetBool("tokenizer.ggml.add_bos_token", false));  // there is no BOS to add
      return w.SetInt32("tokenizer.ggml.bos_token_id", -1);
    });
    tok = Tokenizer::Load(signed_none.path());
    REQUIRE_MESSAGE(tok.ok(), tok.status().ToString());
    CHECK_FALSE((*tok)->bos_id().has_value());
    CHECK((*tok)->eos_id() == 2);
  }
}

}  // namespace
}  // namespace r1
