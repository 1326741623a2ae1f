// Built-in chat templates against prompts rendered by the official Jinja templates
// (data/chat_cases.json, made by make_chat_cases.py), and template detection.
#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "r1/chat.h"
#include "tokenize/chat_render.h"

namespace r1 {
namespace {

nlohmann::json LoadCases() {
  std::ifstream in(std::string(R1_TOKENIZE_TEST_DATA) + "/chat_cases.json");
  REQUIRE(in.good());
  return nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
}

TEST_CASE("every built-in template renders exactly what its Jinja original renders") {
  const nlohmann::json data = LoadCases();
  REQUIRE(data.is_object());
  int n = 0;
  for (const auto& c : data["cases"]) {
    const std::string name = c["template"].get<std::string>();
    const std::optional<ChatTemplate> tmpl = ChatTemplateFromName(name);
    REQUIRE(tmpl.has_value());
    std::vector<ChatMessage> messages;
    for (const auto& m : c["messages"]) {
      messages.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
    }
    ChatFormatOptions options;
    options.add_generation_prompt = c["add_generation_prompt"].get<bool>();
    options.bos_token = c["bos_token"].get<std::string>();
    INFO(name, " / ", c["conversation"].get<std::string>(), " / generation prompt ",
         options.add_generation_prompt);
    auto prompt = FormatChat(*tmpl, messages, options);
    REQUIRE(prompt.ok());
    CHECK(*prompt == c["prompt"].get<std::string>());
    ++n;
  }
  CHECK(n >= 100);
}

TEST_CASE("the default BOS text is the family's") {
  const std::vector<ChatMessage> chat = {{"user", "Hi"}};
  CHECK(*FormatChat(ChatTemplate::kDeepSeekR1, chat) ==
        "<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜><think>\n");
  CHECK(*FormatChat(ChatTemplate::kLlama3, chat, {.add_generation_prompt = false}) ==
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>");
  CHECK(*FormatChat(ChatTemplate::kChatMl, chat) ==
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
}

TEST_CASE("roles a template cannot place are refused") {
  const std::vector<ChatMessage> chat = {{"developer", "x"}};
  CHECK(FormatChat(ChatTemplate::kDeepSeekR1, chat).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(FormatChat(ChatTemplate::kQwen2, chat).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(FormatChat(ChatTemplate::kChatMl, chat).ok());  // ChatML takes any role name
}

TEST_CASE("templates are recognised from their Jinja source") {
  CHECK(DetectChatTemplate("{{bos_token}}{{'<｜User｜>' + c}}{{'<｜Assistant｜>'}}{% set "
                           "ns.system_prompt = ns.system_prompt + '\\n\\n' %}") ==
        ChatTemplate::kDeepSeekR1);
  CHECK(DetectChatTemplate("{% set ns.system_prompt = message['content'] %}<｜User｜><｜Assistant｜>") ==
        ChatTemplate::kDeepSeekR1Distill);
  CHECK(DetectChatTemplate("<|start_header_id|>{{ role }}<|end_header_id|>{{ c }}<|eot_id|>") ==
        ChatTemplate::kLlama3);
  CHECK(DetectChatTemplate("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud.") ==
        ChatTemplate::kQwen2);
  CHECK(DetectChatTemplate("{{'<|im_start|>' + role}}") == ChatTemplate::kChatMl);
  CHECK_FALSE(DetectChatTemplate("[INST] {{ content }} [/INST]").has_value());
  CHECK_FALSE(DetectChatTemplate("").has_value());
  for (ChatTemplate t : {ChatTemplate::kDeepSeekR1, ChatTemplate::kDeepSeekR1Distill,
                         ChatTemplate::kLlama3, ChatTemplate::kChatMl, ChatTemplate::kQwen2}) {
    CHECK(ChatTemplateFromName(ChatTemplateName(t)) == t);
  }
}

TEST_CASE("PythonStrip strips what str.strip() strips") {
  using internal::PythonStrip;
  CHECK(PythonStrip("  a b \n") == "a b");
  CHECK(PythonStrip("\xC2\xA0\xE3\x80\x80x\xE2\x80\xA8\x1F") == "x");  // NBSP, U+3000, U+2028, US
  CHECK(PythonStrip("\xE2\x80\x8Bx") == "\xE2\x80\x8Bx");                // U+200B is not a space
  CHECK(PythonStrip(" \t ") == "");
  CHECK(PythonStrip("é") == "é");
}

}  // namespace
}  // namespace r1
