#include "cli_session.h"

#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_format.h"

namespace r1::cli {

StatusOr<std::unique_ptr<Session>> OpenSession(const Args& args) {
  if (args.positional().empty()) return absl::InvalidArgumentError("missing MODEL path");
  SessionOptions options;
  for (const char* flag : {"-t", "--threads"}) {
    if (auto v = args.Value(flag)) {
      auto n = ParseInt(*v);
      if (!n || *n < 1 || *n > 1024) return absl::InvalidArgumentError(absl::StrFormat("bad thread count '%s'", *v));
      options.n_threads = static_cast<int>(*n);
    }
  }
  if (auto v = args.Value("--ctx")) {
    auto n = ParseInt(*v);
    if (!n || *n < 1) return absl::InvalidArgumentError(absl::StrFormat("bad context length '%s'", *v));
    options.n_ctx = *n;
  }
  R1_ASSIGN_OR_RETURN(options.cache_type, ParseCacheTypeFlag(args));
  R1_ASSIGN_OR_RETURN(std::shared_ptr<const Model> model, Model::Load(args.positional()[0]));
  return Session::Create(std::move(model), options);
}

StatusOr<CacheType> ParseCacheTypeFlag(const Args& args) {
  const auto v = args.Value("--cache-type");
  if (!v) return CacheType::kF16;
  if (auto type = ParseCacheType(*v)) return *type;
  return absl::InvalidArgumentError(absl::StrFormat("--cache-type must be f16, q8_0 or f32, not '%s'", *v));
}

StatusOr<GenerateOptions> ParseGenerateOptions(const Args& args) {
  GenerateOptions o;
  auto number = [&](const char* flag, auto& out) -> Status {
    const auto v = args.Value(flag);
    if (!v) return absl::OkStatus();
    char* end = nullptr;
    const double x = std::strtod(v->c_str(), &end);
    if (v->empty() || *end != '\0') return absl::InvalidArgumentError(absl::StrFormat("%s needs a number, not '%s'", flag, *v));
    out = static_cast<std::remove_reference_t<decltype(out)>>(x);
    return absl::OkStatus();
  };
  R1_RETURN_IF_ERROR(number("-n", o.max_new_tokens));
  R1_RETURN_IF_ERROR(number("--seed", o.sampler.seed));
  R1_RETURN_IF_ERROR(number("--temp", o.sampler.temperature));
  R1_RETURN_IF_ERROR(number("--top-k", o.sampler.top_k));
  R1_RETURN_IF_ERROR(number("--top-p", o.sampler.top_p));
  R1_RETURN_IF_ERROR(number("--min-p", o.sampler.min_p));
  R1_RETURN_IF_ERROR(number("--think-budget", o.reasoning_budget));
  return o;
}

PiecePrinter::PiecePrinter(bool hide_thinking) : hide_thinking_(hide_thinking), tty_(isatty(STDOUT_FILENO)) {}

StreamCallback PiecePrinter::callback() {
  return [this](const StreamPiece& piece) {
    if (piece.channel == Channel::kReasoning && hide_thinking_) return true;
    if (tty_ && piece.channel != shown_) std::fputs(piece.channel == Channel::kReasoning ? "\x1b[2m" : "\x1b[0m", stdout);
    shown_ = piece.channel;
    std::fwrite(piece.text.data(), 1, piece.text.size(), stdout);
    std::fflush(stdout);
    return true;
  };
}

void PiecePrinter::Finish() {
  if (tty_ && shown_ != Channel::kContent) std::fputs("\x1b[0m", stdout);
  shown_ = Channel::kContent;
  std::fputs("\n", stdout);
}

void PrintSummary(const GenerateResult& r) {
  std::fprintf(stderr,
               "%lld prompt tokens (%lld computed), %lld generated (%lld reasoning) | prefill %.1f tok/s | "
               "decode %.1f tok/s | stop: %s\n",
               static_cast<long long>(r.n_prompt_tokens), static_cast<long long>(r.n_prefilled_tokens),
               static_cast<long long>(r.n_generated_tokens), static_cast<long long>(r.n_reasoning_tokens),
               r.prefill_tokens_per_second(), r.decode_tokens_per_second(), StopReasonName(r.stop_reason));
}

}  // namespace r1::cli
