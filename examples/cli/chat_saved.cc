#include "chat_saved.h"

#include <cstdio>
#include <exception>
#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "cli_input.h"

namespace r1::cli {
namespace {

constexpr char kFormat[] = "r1-chat";
constexpr int kVersion = 1;

}  // namespace

std::string ConversationPath(const std::string& state_path) { return state_path + ".chat.json"; }

Status SaveConversation(const std::string& state_path, const SavedChat& chat) {
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  for (const ChatMessage& m : chat.messages) messages.push_back({{"role", m.role}, {"content", m.content}});
  const nlohmann::ordered_json doc = {
      {"format", kFormat}, {"version", kVersion}, {"messages", messages}, {"transcript", chat.transcript}};
  const std::string text = doc.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  const std::string path = ConversationPath(state_path);
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return absl::UnavailableError(absl::StrFormat("cannot write '%s'", path));
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok) return absl::UnavailableError(absl::StrFormat("error writing '%s'", path));
  return absl::OkStatus();
}

StatusOr<SavedChat> LoadConversation(const std::string& state_path) {
  const std::string path = ConversationPath(state_path);
  const std::optional<std::string> text = ReadAll(path);
  if (!text) {
    return absl::NotFoundError(
        absl::StrFormat("cannot read '%s', the conversation saved beside the state", path));
  }
  const auto invalid = [&] { return absl::InvalidArgumentError(absl::StrFormat("'%s' is not an r1 chat file", path)); };
  // The library reports errors as statuses; exceptions from the JSON library stop here.
  try {
    const nlohmann::json doc = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (!doc.is_object() || doc.value("format", "") != kFormat || doc.value("version", 0) != kVersion ||
        !doc.contains("messages") || !doc["messages"].is_array() || !doc.contains("transcript") ||
        !doc["transcript"].is_string()) {
      return invalid();
    }
    SavedChat chat;
    for (const nlohmann::json& m : doc["messages"]) {
      if (!m.is_object() || !m.contains("role") || !m["role"].is_string() || !m.contains("content") ||
          !m["content"].is_string()) {
        return invalid();
      }
      chat.messages.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
    }
    chat.transcript = doc["transcript"].get<std::string>();
    return chat;
  } catch (const std::exception&) {
    return invalid();
  }
}

}  // namespace r1::cli
