// r1 bench MODEL [-p 512] [-n 128] [-t THREADS] [-r REPS] [--json] [--membw] — prompt and
// generation speed with llama-bench's definitions: ppP = one batch of P prompt tokens into an
// empty cache; tgN = N single-token decodes from an empty cache. Each test runs REPS times after
// one warm-up decode (which also pages the whole model in); mean ± sample stddev of tok/s.
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "cli_args.h"
#include "commands.h"
#include "r1/model.h"
#include "r1/session.h"
#include "tools/model_tools.h"

namespace r1::cli {
namespace {

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double PeakRssMiB() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

// The file's weight scheme as llama.cpp names it: general.file_type when it is a known mixture,
// else the type holding most weight bytes.
std::string ModelTypeName(const Model& model) {
  std::map<std::string, uint64_t> bytes;
  for (const TensorSummary& t : model.Tensors()) {
    if (t.shape.size() >= 2) bytes[std::string(DTypeName(t.type))] += t.n_bytes;
  }
  std::string best;
  uint64_t most = 0;
  for (const auto& [name, b] : bytes) {
    if (b > most) most = b, best = name;
  }
  // K-type files with Q6_K attn_v/ffn_down and output are llama.cpp's _M mixtures.
  if (best == "Q4_K" || best == "Q5_K") {
    if (bytes.count("Q6_K")) return best + "_M";
  }
  return best;
}

struct Stats {
  double mean = 0, sd = 0;
};
Stats MeanSd(const std::vector<double>& v) {
  Stats s;
  if (v.empty()) return s;
  for (double x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  if (v.size() > 1) {
    double ss = 0;
    for (double x : v) ss += (x - s.mean) * (x - s.mean);
    s.sd = std::sqrt(ss / static_cast<double>(v.size() - 1));
  }
  return s;
}

}  // namespace

int RunBench(int argc, char** argv) {
  const std::vector<std::string> known = {"-p", "-n", "-t", "--threads", "-r", "--json", "--membw"};
  const Args args(argc, argv, {"-p", "-n", "-t", "--threads", "-r"});
  if (!args.error().empty()) return Fail("bench", args.error());
  if (auto flag = args.Unknown(known)) return Fail("bench", "unknown option " + *flag);
  if (args.positional().size() != 1) {
    return Fail("bench", "usage: r1 bench MODEL [-p 512] [-n 128] [-t THREADS] [-r 5] [--json] [--membw]");
  }
  auto int_flag = [&](std::initializer_list<const char*> flags, int64_t def, int64_t lo,
                      int64_t hi) -> std::optional<int64_t> {
    for (const char* f : flags) {
      if (auto v = args.Value(f)) {
        auto n = ParseInt(*v);
        if (!n || *n < lo || *n > hi) return std::nullopt;
        return *n;
      }
    }
    return def;
  };
  const auto n_prompt = int_flag({"-p"}, 512, 0, 1 << 16);
  const auto n_gen = int_flag({"-n"}, 128, 0, 1 << 16);
  const auto reps = int_flag({"-r"}, 5, 1, 1000);
  const auto threads = int_flag({"-t", "--threads"}, 0, 0, 1024);
  if (!n_prompt || !n_gen || !reps || !threads) return Fail("bench", "bad -p, -n, -r or -t value");
  const bool json = args.Has("--json");

  const std::string path = args.positional()[0];
  const auto t_load = std::chrono::steady_clock::now();
  auto model = Model::Load(path);
  if (!model.ok()) return Fail("bench", model.status());
  const double load_s = Seconds(t_load);
  SessionOptions so;
  so.n_threads = static_cast<int>(*threads);
  so.n_ctx = std::max<int64_t>(*n_prompt, *n_gen) + 1;
  so.n_batch = std::max<int64_t>(*n_prompt, 1);
  auto session = Session::Create(*model, so);
  if (!session.ok()) return Fail("bench", session.status());
  Session& s = **session;
  const ModelConfig& cfg = (*model)->config();
  const std::string type = ModelTypeName(**model);
  const std::string isa(s.isa());
  const int n_threads = s.n_threads();

  // Bytes a decode step reads: every matrix once, except the embedding table, of which one row
  // is read, unless it doubles as the output matrix.
  uint64_t bytes_per_token = 0;
  for (const TensorSummary& t : (*model)->Tensors()) {
    if (t.name == "token_embd.weight" && !cfg.tied_embeddings) continue;
    bytes_per_token += t.n_bytes;
  }
  double ceiling = 0, bandwidth = 0;
  if (args.Has("--membw")) {
    bandwidth = tools::MeasureReadBandwidth(n_threads);
    ceiling = bandwidth / static_cast<double>(bytes_per_token);
  }

  std::mt19937 rng(1234);
  std::uniform_int_distribution<int32_t> pick(0, static_cast<int32_t>(cfg.n_vocab - 1));
  auto random_tokens = [&](int64_t n) {
    std::vector<int32_t> v(static_cast<size_t>(n));
    for (int32_t& t : v) t = pick(rng);
    return v;
  };
  {
    s.Reset();
    const std::vector<int32_t> one = random_tokens(1);
    if (Status st = s.Evaluate(one); !st.ok()) return Fail("bench", st);
  }

  if (!json) {
    std::printf("model: %s (%s, %s, file %.2f GiB, weights %.2f GB, read per token %.2f GB)\n",
                path.c_str(), cfg.architecture.c_str(), type.c_str(),
                static_cast<double>((*model)->file_bytes()) / (1 << 30),
                static_cast<double>((*model)->weight_bytes()) / 1e9, bytes_per_token / 1e9);
    std::printf("load: %.3f s | isa: %s | threads: %d\n", load_s, isa.c_str(), n_threads);
    if (bandwidth > 0) {
      std::printf("read bandwidth: %.1f GB/s (%d threads)\n", bandwidth / 1e9, n_threads);
      std::printf("decode ceiling: %.1f tok/s\n", ceiling);
    }
    std::printf("| %-8s | %8s | %18s |\n", "test", "threads", "t/s");
  }

  auto report = [&](const std::string& test, int64_t n_tok, const std::vector<double>& secs) {
    std::vector<double> tps;
    for (double x : secs) tps.push_back(static_cast<double>(n_tok) / x);
    const Stats st = MeanSd(tps);
    if (json) {
      std::string extra;
      if (ceiling > 0 && test.rfind("tg", 0) == 0) {
        extra = absl::StrFormat(", \"ceiling_tokens_per_second\": %.3f, \"ceiling_fraction\": %.4f", ceiling,
                                st.mean / ceiling);
      }
      if (bandwidth > 0) extra += absl::StrFormat(", \"read_bandwidth_gbps\": %.3f", bandwidth / 1e9);
      std::printf(
          "{\"test\": \"%s\", \"tokens_per_second\": %.4f, \"stddev\": %.4f, \"threads\": %d, \"type\": \"%s\", "
          "\"isa\": \"%s\", \"model_file\": \"%s\", \"n_tokens\": %lld, \"reps\": %zu, \"load_seconds\": %.4f, "
          "\"peak_rss_mib\": %.1f, \"file_mib\": %.1f%s}\n",
          test.c_str(), st.mean, st.sd, n_threads, type.c_str(), isa.c_str(), path.c_str(),
          static_cast<long long>(n_tok), secs.size(), load_s, PeakRssMiB(),
          static_cast<double>((*model)->file_bytes()) / (1 << 20), extra.c_str());
    } else {
      std::string pct;
      if (ceiling > 0 && test.rfind("tg", 0) == 0) pct = absl::StrFormat(" (%.0f%% of ceiling)", 100 * st.mean / ceiling);
      std::printf("| %-8s | %8d | %9.2f ± %6.2f |%s\n", test.c_str(), n_threads, st.mean, st.sd, pct.c_str());
    }
    std::fflush(stdout);
  };

  if (*n_prompt > 0) {
    std::vector<double> secs;
    for (int64_t r = 0; r < *reps; ++r) {
      s.Reset();
      const std::vector<int32_t> prompt = random_tokens(*n_prompt);
      const auto t0 = std::chrono::steady_clock::now();
      if (Status st = s.Evaluate(prompt); !st.ok()) return Fail("bench", st);
      secs.push_back(Seconds(t0));
    }
    report(absl::StrFormat("pp%d", *n_prompt), *n_prompt, secs);
  }
  if (*n_gen > 0) {
    std::vector<double> secs;
    for (int64_t r = 0; r < *reps; ++r) {
      s.Reset();
      const std::vector<int32_t> toks = random_tokens(*n_gen);
      const auto t0 = std::chrono::steady_clock::now();
      for (int64_t i = 0; i < *n_gen; ++i) {
        if (Status st = s.Evaluate(absl::MakeConstSpan(&toks[static_cast<size_t>(i)], 1)); !st.ok()) {
          return Fail("bench", st);
        }
      }
      secs.push_back(Seconds(t0));
    }
    report(absl::StrFormat("tg%d", *n_gen), *n_gen, secs);
  }
  if (!json) {
    std::printf("peak resident memory: %.1f MiB (file %.1f MiB)\n", PeakRssMiB(),
                static_cast<double>((*model)->file_bytes()) / (1 << 20));
  }
  return 0;
}

}  // namespace r1::cli
