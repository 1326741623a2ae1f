// The Jinja engine on the real chat templates (../shared/templates and the shared vocabularies'
// tokenizer.chat_template): each renders byte for byte what its built-in family renders.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "r1/chat.h"
#include "r1/tokenizer.h"
#include "support/test_util.h"
#include "vocab_test_util.h"

R1_TEST_NEEDS_SHARED_DIR();

namespace r1 {
namespace {

std::string ReadText(const std::string& path) {
  auto bytes = test::ReadFileBytes(path);
  REQUIRE(bytes.has_value());
  return std::string(bytes->begin(), bytes->end());
}

const std::vector<std::vector<ChatMessage>>& Conversations() {
  static const auto* convs = new std::vector<std::vector<ChatMessage>>{
      {{"user", "Hello! Who are you?"}},
      {{"system", "You are terse."}, {"user", "2+2?"}},
      {{"user", "  padded  \n"}, {"assistant", "<think>\nadd\n</think>\n\n4"}, {"user", "And 3+3?"}},
      {{"system", "First."},
       {"user", "Ünïcödé ✓ and \"quotes\" {{ not jinja }}"},
       {"assistant", "<think>a</think>b</think>final"},
       {"system", "Second."},
       {"user", "Next"},
       {"assistant", "plain answer"}},
      {{"assistant", "starts with the assistant"}, {"user", ""}},
  };
  return *convs;
}

// `always_prompts`: the template ends with the assistant header whatever add_generation_prompt
// says (the llama3 vocabulary's does), so only the generation-prompt renders can match.
void CheckSameAsBuiltin(const std::string& label, const std::string& source, std::string_view bos,
                        std::string_view eos, bool always_prompts = false) {
  const std::optional<ChatTemplate> family = DetectChatTemplate(source);
  INFO(label);
  REQUIRE(family.has_value());
  int n = 0;
  for (const auto& conv : Conversations()) {
    for (bool gen : {true, false}) {
      if (always_prompts && !gen) continue;
      ChatFormatOptions options;
      options.add_generation_prompt = gen;
      options.bos_token = std::string(bos);
      options.eos_token = std::string(eos);
      INFO("conversation ", n, ", generation prompt ", gen);
      auto builtin = FormatChat(*family, conv, options);
      auto jinja = FormatChatJinja(source, conv, options);
      REQUIRE(builtin.ok());
      INFO(jinja.status());
      REQUIRE(jinja.ok());
      CHECK(*jinja == *builtin);
    }
    ++n;
  }
}

TEST_CASE("the shared template files render as their built-in families") {
  const std::string dir = *test::SharedDir() + "/templates";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".jinja") continue;
    CheckSameAsBuiltin(entry.path().filename().string(), ReadText(entry.path().string()),
                       "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>");
    ++files;
  }
  CHECK(files >= 3);
}

TEST_CASE("the shared vocabularies' templates render as their built-in families") {
  {
    // The llama3 template's unconditional generation prompt, as Jinja2 renders it.
    const Tokenizer& tok = test::SharedVocab("llama3.vocab.gguf");
    auto prompt = FormatChatJinja(tok.chat_template(), Conversations()[0],
                                  {.add_generation_prompt = false, .bos_token = "<B>"});
    REQUIRE(prompt.ok());
    CHECK(*prompt == "<B><|start_header_id|>user<|end_header_id|>\n\nHello! Who are you?<|eot_id|>"
                     "<|start_header_id|>assistant<|end_header_id|>\n\n");
  }
  for (const char* vocab : {"qwen2.vocab.gguf", "llama3.vocab.gguf", "r1-distill-qwen.vocab.gguf",
                            "r1-distill-llama.vocab.gguf", "deepseek-r1.vocab.gguf"}) {
    const Tokenizer& tok = test::SharedVocab(vocab);
    const std::string bos = tok.bos_id() ? std::string(*tok.TokenText(*tok.bos_id())) : "";
    const std::string eos = tok.eos_id() ? std::string(*tok.TokenText(*tok.eos_id())) : "";
    CheckSameAsBuiltin(vocab, std::string(tok.chat_template()), bos, eos,
                       std::string_view(vocab) == "llama3.vocab.gguf");
  }
}

}  // namespace
}  // namespace r1
