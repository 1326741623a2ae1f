// batch_decode_bench — one decode step of 1, 2, 4 … N sessions batched into one forward pass
// (Session::EvaluateBatch, as `r1 serve` runs its slots), for tuning the batched decode.
//
//   batch_decode_bench MODEL [--sessions 8] [--threads 2] [--reps 8] [--rounds 5] [--interleave 0|1]
// Prints milliseconds per step (the median of `rounds` turns of `reps` steps) and tokens per
// second of all sessions together.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "r1/model.h"
#include "r1/session.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: batch_decode_bench MODEL [--sessions 8] [--threads 2] [--reps 8] [--rounds 5] [--interleave 0|1]\n");
    return 2;
  }
  int max_sessions = 8, threads = 2, reps = 8, rounds = 5, interleave = 0;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int v = std::atoi(argv[i + 1]);
    if (flag == "--sessions") max_sessions = v;
    else if (flag == "--threads") threads = v;
    else if (flag == "--reps") reps = v;
    else if (flag == "--rounds") rounds = v;
    else if (flag == "--interleave") interleave = v;
    else {
      std::fprintf(stderr, "batch_decode_bench: unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (max_sessions < 1 || max_sessions > 64 || reps < 1 || rounds < 1 || rounds > 1000) {
    std::fprintf(stderr, "batch_decode_bench: --sessions 1 to 64, --reps at least 1, --rounds 1 to 1000\n");
    return 2;
  }
  r1::LoadOptions load;
  load.interleave_rows = interleave != 0;  // LoadOptions::interleave_rows
  auto model = r1::Model::Load(argv[1], load);
  if (!model.ok()) {
    std::fprintf(stderr, "batch_decode_bench: %s\n", model.status().ToString().c_str());
    return 1;
  }
  r1::SessionOptions options;
  options.n_ctx = 256 + 2 * reps;
  options.n_threads = threads;
  options.batch_invariant = true;  // as the server's slots
  std::vector<std::unique_ptr<r1::Session>> sessions;
  for (int i = 0; i < max_sessions; ++i) {
    auto s = r1::Session::Create(*model, options);
    if (!s.ok()) {
      std::fprintf(stderr, "batch_decode_bench: %s\n", s.status().ToString().c_str());
      return 1;
    }
    const std::vector<int32_t> prompt = {1 + i, 2, 3, 4};  // a few positions of history each
    if (auto st = (*s)->Evaluate(prompt); !st.ok()) {
      std::fprintf(stderr, "batch_decode_bench: %s\n", st.ToString().c_str());
      return 1;
    }
    sessions.push_back(std::move(*s));
  }
  // The batch sizes take turns, `rounds` times, and each reports its median round: the host's
  // load drifts over seconds, and turns expose every size to it alike.
  std::vector<int> sizes;
  for (int n = 1; n <= max_sessions; n *= 2) {
    sizes.push_back(n);
    if (n < max_sessions && 2 * n > max_sessions) n = max_sessions / 2;  // end on max_sessions
  }
  std::vector<std::vector<double>> steps(sizes.size());
  for (int round = 0; round < rounds; ++round) {
    for (size_t k = 0; k < sizes.size(); ++k) {
      const int n = sizes[k];
      std::vector<r1::Session*> batch;
      std::vector<int32_t> tokens;
      for (int i = 0; i < n; ++i) {
        batch.push_back(sessions[static_cast<size_t>(i)].get());
        tokens.push_back(5 + i);
      }
      for (auto* s : batch) (void)s->Truncate(4);
      (void)r1::Session::EvaluateBatch(batch, tokens);  // warm-up
      const auto t0 = std::chrono::steady_clock::now();
      for (int r = 0; r < reps; ++r) {
        if (auto st = r1::Session::EvaluateBatch(batch, tokens); !st.ok()) {
          std::fprintf(stderr, "batch_decode_bench: %s\n", st.ToString().c_str());
          return 1;
        }
      }
      steps[k].push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps);
    }
  }
  const auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  };
  std::printf("| sessions | ms per step | tok/s | relative to one |\n|---|---|---|---|\n");
  const double one = median(steps[0]);
  for (size_t k = 0; k < sizes.size(); ++k) {
    const double step = median(steps[k]);
    std::printf("| %d | %.1f | %.1f | %.2fx |\n", sizes[k], step * 1e3, sizes[k] / step, sizes[k] * one / step);
  }
  return 0;
}
