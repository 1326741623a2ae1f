#include "cli_output.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_interrupt.h"

namespace r1::cli {
namespace {

constexpr char kDim[] = "\x1b[2m";
constexpr char kNormal[] = "\x1b[0m";

void PrintJsonLine(const nlohmann::ordered_json& event) {
  // Pieces are whole UTF-8 characters; replace rather than throw should one not be.
  const std::string line = event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

const char* StopReasonKey(StopReason reason) {
  switch (reason) {
    case StopReason::kEndOfGeneration: return "end";
    case StopReason::kMaxTokens: return "max_tokens";
    case StopReason::kStopString: return "stop_string";
    case StopReason::kCancelled: return "cancelled";
    case StopReason::kContextFull: return "context_full";
    case StopReason::kGrammarDeadEnd: return "grammar_dead_end";
  }
  return "unknown";
}

}  // namespace

bool ColourAllowed() {
  if (!isatty(STDOUT_FILENO)) return false;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && no_color[0] != '\0') return false;
  const char* term = std::getenv("TERM");
  return term == nullptr || std::strcmp(term, "dumb") != 0;
}

OutputStyle ChooseOutputStyle(bool json) {
  if (json) return OutputStyle::kJson;
  return ColourAllowed() ? OutputStyle::kTerminal : OutputStyle::kPlain;
}

PiecePrinter::PiecePrinter(OutputStyle style, bool hide_thinking) : style_(style), hide_thinking_(hide_thinking) {}

void PiecePrinter::Write(std::string_view text) {
  if (text.empty()) return;
  std::fwrite(text.data(), 1, text.size(), stdout);
  at_line_start_ = text.back() == '\n';
}

// Switches the visible channel: the style or the marker lines that tell reasoning from answer.
void PiecePrinter::Enter(Channel channel) {
  if (channel == shown_) return;
  shown_ = channel;
  if (style_ == OutputStyle::kTerminal) {
    std::fputs(channel == Channel::kReasoning ? kDim : kNormal, stdout);
    return;
  }
  if (!at_line_start_) Write("\n");
  Write(channel == Channel::kReasoning ? "<think>\n" : "</think>\n");
}

StreamCallback PiecePrinter::callback() {
  return [this](const StreamPiece& piece) {
    if (Interrupted()) return false;
    if (piece.channel == Channel::kReasoning && hide_thinking_) return true;
    if (style_ == OutputStyle::kJson) {
      PrintJsonLine({{"type", piece.channel == Channel::kReasoning ? "reasoning" : "content"},
                     {"text", std::string(piece.text)}});
      return true;
    }
    Enter(piece.channel);
    Write(piece.text);
    std::fflush(stdout);
    return true;
  };
}

void PiecePrinter::Finish() {
  if (style_ == OutputStyle::kJson) return;
  Enter(Channel::kContent);
  if (!at_line_start_) Write("\n");
  std::fflush(stdout);
}

void PiecePrinter::PrintDone(const GenerateResult& r, uint64_t seed) {
  PrintJsonLine({{"type", "done"},
                 {"stop_reason", StopReasonKey(r.stop_reason)},
                 {"seed", seed},
                 {"usage",
                  {{"prompt_tokens", r.n_prompt_tokens},
                   {"computed_prompt_tokens", r.n_prefilled_tokens},
                   {"generated_tokens", r.n_generated_tokens},
                   {"reasoning_tokens", r.n_reasoning_tokens},
                   {"drafted_tokens", r.n_drafted_tokens},
                   {"accepted_draft_tokens", r.n_accepted_tokens}}},
                 {"prefill_tokens_per_second", r.prefill_tokens_per_second()},
                 {"decode_tokens_per_second", r.decode_tokens_per_second()}});
}

void PiecePrinter::PrintError(std::string_view message) {
  PrintJsonLine({{"type", "error"}, {"message", std::string(message)}});
}

}  // namespace r1::cli
