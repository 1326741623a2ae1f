// serve/metrics.h — the server's counters, rendered in Prometheus' text exposition format
// for GET /metrics. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "r1/session.h"

namespace r1::serve {

class Metrics {
 public:
  // One answered request. Endpoints outside the API are counted as "other", so that a
  // scanner probing random paths cannot grow the label set without bound.
  void CountRequest(std::string_view endpoint, int http_status);
  // One finished generation.
  void CountGeneration(const GenerateResult& result);

  // The gauges are read from the slot pool at scrape time.
  struct Gauges {
    int queue_depth = 0;
    int busy_slots = 0;
    int slots = 0;
    uint64_t engine_rounds = 0;  // engine rounds run (each: one batched decode step, one prompt chunk)
    int widest_round = 0;        // the most conversations decoded in one pass so far
  };
  std::string Render(const Gauges& gauges) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  uint64_t prompt_tokens_ = 0;
  uint64_t generated_tokens_ = 0;
  uint64_t drafted_tokens_ = 0;
  uint64_t accepted_draft_tokens_ = 0;
  double last_decode_tokens_per_second_ = 0;
};

}  // namespace r1::serve
