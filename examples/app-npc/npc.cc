// npc — r1 inside an application's main loop, the way a game would use it.
//
//   npc MODEL.gguf [--leave-after N] [--template NAME]
//
// A villager answers the player. Generation runs on a worker thread; its pieces reach the
// main loop through a small queue, and the loop keeps ticking (here: drawing a speech
// bubble) whether or not a piece is ready. The queue is bounded, so the worker never runs far
// ahead of what the player has seen. When the player walks away mid-sentence the loop calls
// Session::Cancel: the worker stops at the next token and the villager is free for the next
// visitor, with the conversation so far still cached.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <r1/r1.hpp>

namespace {

// One NPC's voice: a session, a worker thread and the queue between them.
class NpcVoice {
 public:
  explicit NpcVoice(r1::Session session) : session_(std::move(session)) {}
  ~NpcVoice() {
    Interrupt();
    Join();
  }

  // Starts answering `line` on the worker thread; returns at once.
  void Say(std::string line, r1::GenerateOptions options) {
    Join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.clear();
      interrupted_ = false;
      finished_ = false;
    }
    worker_ = std::thread([this, line = std::move(line), options = std::move(options)] {
      const std::vector<r1::Message> chat = {{"user", line}};
      std::optional<r1::Result> result;
      std::string error;
      try {
        result = session_.Chat(chat, options, [this](r1::Channel, std::string_view text, int32_t) {
          std::unique_lock<std::mutex> lock(mu_);
          // Wait while the bubble is full: speech goes no faster than the game shows it.
          room_.wait(lock, [this] { return queue_.size() < kQueueLimit || interrupted_; });
          if (interrupted_) return false;
          queue_.emplace_back(text);
          return true;
        });
      } catch (const r1::Error& e) {
        error = e.what();
      }
      std::lock_guard<std::mutex> lock(mu_);
      result_ = std::move(result);
      error_ = std::move(error);
      finished_ = true;
    });
  }

  // The next piece, if one is ready; never blocks.
  std::optional<std::string> Poll() {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.empty()) return std::nullopt;
    std::string piece = std::move(queue_.front());
    queue_.pop_front();
    room_.notify_one();
    return piece;
  }

  bool finished() {
    std::lock_guard<std::mutex> lock(mu_);
    return finished_ && queue_.empty();
  }

  // The player walked away: stop at the next token. Safe from any thread.
  void Interrupt() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      interrupted_ = true;
    }
    room_.notify_all();
    session_.Cancel();
  }

  // Joins the worker and returns how the last answer ended.
  // The answer, or nothing when it failed (error() says why).
  std::optional<r1::Result> Wait() {
    Join();
    std::lock_guard<std::mutex> lock(mu_);
    return result_;
  }
  std::string error() {
    std::lock_guard<std::mutex> lock(mu_);
    return error_;
  }

 private:
  void Join() {
    if (worker_.joinable()) worker_.join();
  }

  static constexpr size_t kQueueLimit = 4;
  r1::Session session_;
  std::thread worker_;
  std::mutex mu_;
  std::condition_variable room_;
  std::deque<std::string> queue_;
  bool interrupted_ = false;
  bool finished_ = false;
  std::optional<r1::Result> result_;
  std::string error_ = "nothing said yet";
};

struct Scene {
  int ticks = 0;
  int pieces_shown = 0;
  std::string bubble;
};

// Plays one visit: ticks until the answer is complete or the player leaves after `leave_after`
// pieces (< 0: the player stays).
std::optional<r1::Result> Visit(NpcVoice& npc, const std::string& line, int leave_after,
                                const r1::GenerateOptions& options) {
  std::printf("player: %s\nvillager: ", line.c_str());
  npc.Say(line, options);
  Scene scene;
  bool left = false;
  while (!npc.finished()) {
    ++scene.ticks;
    while (auto piece = npc.Poll()) {
      scene.bubble += *piece;
      ++scene.pieces_shown;
      std::fputs(piece->c_str(), stdout);
      std::fflush(stdout);
      if (!left && leave_after >= 0 && scene.pieces_shown >= leave_after) {
        left = true;
        std::printf(" [the player walks away]");
        npc.Interrupt();
        break;
      }
    }
    if (left) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // the rest of the frame
  }
  auto result = npc.Wait();
  std::printf("\n  (%d ticks, %d pieces shown, %s)\n", scene.ticks, scene.pieces_shown,
              result ? r1::StopReasonName(result->stop_reason) : "error");
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL.gguf [--leave-after N] [--template NAME]\n", argv[0]);
    return 2;
  }
  int leave_after = 5;
  r1::GenerateOptions options;
  options.max_new_tokens = -1;  // only the context or the player ends the first answer
  options.ignore_eos = true;
  options.temperature = 0.8f;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--leave-after") == 0) {
      leave_after = std::atoi(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--template") == 0) {
      options.chat_template = argv[i + 1];  // an unknown name fails the first answer, naming it
    } else {
      std::fprintf(stderr, "npc: unknown option %s\n", argv[i]);
      return 2;
    }
  }

  std::optional<r1::Model> model;
  std::optional<r1::Session> session;
  try {
    model = r1::Model::Load(argv[1]);
    r1::SessionOptions session_options;
    session_options.n_ctx = 512;
    session.emplace(*model, session_options);
  } catch (const r1::Error& e) {
    std::fprintf(stderr, "npc: %s\n", e.what());
    return 1;
  }
  NpcVoice villager(std::move(*session));

  // First visitor leaves mid-answer: the answer must end as cancelled.
  auto first = Visit(villager, "Once upon a time", leave_after, options);
  if (!first || first->stop_reason != r1::StopReason::kCancelled) {
    std::fprintf(stderr, "npc: the first answer was not cancelled%s%s\n", first ? "" : ": ",
                 first ? "" : villager.error().c_str());
    return 1;
  }
  // Second visitor listens to a short answer to the end.
  r1::GenerateOptions short_answer = options;
  short_answer.max_new_tokens = 12;
  auto second = Visit(villager, "Tell me about the park", -1, short_answer);
  if (!second) {
    std::fprintf(stderr, "npc: %s\n", villager.error().c_str());
    return 1;
  }
  return second->stop_reason == r1::StopReason::kCancelled ? 1 : 0;
}
