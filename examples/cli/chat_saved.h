// chat_saved.h — the conversation `r1 chat` keeps beside a session's state file. The state
// (Session::SaveState) holds tokens and the KV cache; the messages and the text of a
// template-less chat go to STATE.chat.json, so /load can continue the conversation.
#pragma once

#include <string>
#include <vector>

#include "r1/chat.h"
#include "r1/status.h"

namespace r1::cli {

struct SavedChat {
  std::vector<ChatMessage> messages;  // the conversation, system prompt included
  std::string transcript;             // the growing text of a template-less chat
};

std::string ConversationPath(const std::string& state_path);
Status SaveConversation(const std::string& state_path, const SavedChat& chat);
StatusOr<SavedChat> LoadConversation(const std::string& state_path);

}  // namespace r1::cli
