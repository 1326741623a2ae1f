#include "serve/metrics.h"

#include "absl/strings/str_format.h"

namespace r1::serve {
namespace {

constexpr std::string_view kEndpoints[] = {"/v1/chat/completions", "/v1/completions", "/v1/models", "/health",
                                           "/metrics"};

void Header(std::string* out, std::string_view name, std::string_view type, std::string_view help) {
  absl::StrAppendFormat(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

}  // namespace

void Metrics::CountRequest(std::string_view endpoint, int http_status) {
  std::string_view label = "other";
  for (std::string_view known : kEndpoints) {
    if (endpoint == known) label = known;
  }
  std::lock_guard lock(mu_);
  ++requests_[{std::string(label), http_status}];
}

void Metrics::CountGeneration(const GenerateResult& r) {
  std::lock_guard lock(mu_);
  prompt_tokens_ += static_cast<uint64_t>(r.n_prompt_tokens);
  generated_tokens_ += static_cast<uint64_t>(r.n_generated_tokens);
  drafted_tokens_ += static_cast<uint64_t>(r.n_drafted_tokens);
  accepted_draft_tokens_ += static_cast<uint64_t>(r.n_accepted_tokens);
  if (r.n_generated_tokens > 0) last_decode_tokens_per_second_ = r.decode_tokens_per_second();
}

std::string Metrics::Render(const Gauges& g) const {
  std::lock_guard lock(mu_);
  std::string out;
  Header(&out, "r1_requests_total", "counter", "Requests answered, by endpoint and HTTP status.");
  for (const auto& [key, count] : requests_) {
    absl::StrAppendFormat(&out, "r1_requests_total{endpoint=\"%s\",status=\"%d\"} %d\n", key.first, key.second,
                          count);
  }
  Header(&out, "r1_prompt_tokens_total", "counter", "Prompt tokens of finished generations.");
  absl::StrAppendFormat(&out, "r1_prompt_tokens_total %d\n", prompt_tokens_);
  Header(&out, "r1_generated_tokens_total", "counter", "Tokens generated.");
  absl::StrAppendFormat(&out, "r1_generated_tokens_total %d\n", generated_tokens_);
  Header(&out, "r1_draft_tokens_total", "counter", "Tokens the draft model guessed (serve --draft).");
  absl::StrAppendFormat(&out, "r1_draft_tokens_total %d\n", drafted_tokens_);
  Header(&out, "r1_draft_accepted_tokens_total", "counter", "Guesses of the draft model the target kept.");
  absl::StrAppendFormat(&out, "r1_draft_accepted_tokens_total %d\n", accepted_draft_tokens_);
  Header(&out, "r1_queue_depth", "gauge", "Requests waiting for a slot.");
  absl::StrAppendFormat(&out, "r1_queue_depth %d\n", g.queue_depth);
  Header(&out, "r1_busy_slots", "gauge", "Slots generating now.");
  absl::StrAppendFormat(&out, "r1_busy_slots %d\n", g.busy_slots);
  Header(&out, "r1_slots", "gauge", "Slots (parallel sessions).");
  absl::StrAppendFormat(&out, "r1_slots %d\n", g.slots);
  Header(&out, "r1_engine_rounds_total", "counter", "Engine rounds: one decode pass for every generating slot.");
  absl::StrAppendFormat(&out, "r1_engine_rounds_total %d\n", g.engine_rounds);
  Header(&out, "r1_widest_decode_batch", "gauge", "The most conversations decoded in one forward pass so far.");
  absl::StrAppendFormat(&out, "r1_widest_decode_batch %d\n", g.widest_round);
  Header(&out, "r1_decode_tokens_per_second", "gauge", "Decode speed of the last finished generation.");
  absl::StrAppendFormat(&out, "r1_decode_tokens_per_second %g\n", last_decode_tokens_per_second_);
  return out;
}

}  // namespace r1::serve
