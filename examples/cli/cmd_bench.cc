// r1 bench MODEL [-p 512] [-n 128] [-d 0] [-t THREADS] [-r REPS] [--cache-type T] [--repack] [--batch-invariant] [--json] [--membw] [--draft MODEL | --draft-nextn [--draft-max N]]
// — prompt and generation speed with llama-bench's definitions: ppP = one batch of P prompt
// tokens, tgN = N single-token decodes, both after DEPTH tokens already in the cache (0: an
// empty cache). -p, -n and -d take comma lists; each (depth, test) pair is one result. The
// cache is filled to each depth once; every repetition truncates back to it, so only the test
// itself is timed. Each test runs REPS times after one warm-up decode (which also pages the
// whole model in); mean ± sample stddev of tok/s. With --draft, each tgN is followed by two
// greedy generations of N tokens after a short prompt, alone ("gN") and with the draft
// ("gN+draft"), with the share of the draft's guesses kept (--draft-nextn: the model's own
// multi-token-prediction block drafts).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "cli_args.h"
#include "cli_session.h"
#include "command_table.h"
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

// "512" or "0,4096,16384": integers in [lo, hi]; nullopt on anything else (an empty item, a
// value out of range, a fraction, "nan").
std::optional<std::vector<int64_t>> ParseIntList(const std::string& text, int64_t lo, int64_t hi) {
  std::vector<int64_t> out;
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    const auto n = ParseInt(std::string_view(item.data(), item.size()));
    if (!n || *n < lo || *n > hi) return std::nullopt;
    out.push_back(*n);
  }
  return out;
}

int64_t Max(const std::vector<int64_t>& v) { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }

// JSON numbers with a fixed number of decimals, as the measurements deserve.
double Round(double x, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(x * scale) / scale;
}

}  // namespace

int RunBench(int argc, char** argv) {
  const Args args(argc, argv, *FindCommand("bench"));
  if (!args.error().empty()) return Usage("bench", args.error());
  if (args.positional().size() != 1) return Usage("bench", "expected one MODEL path");
  // A comma list of whole numbers in [lo, hi]; on a bad value, records the first error in `bad`.
  std::string bad;
  auto int_list = [&](const char* flag, int64_t def, int64_t lo, int64_t hi) -> std::vector<int64_t> {
    const auto v = args.Value(flag);
    if (!v) return {def};
    auto list = ParseIntList(*v, lo, hi);
    if (list) return *list;
    if (bad.empty()) {
      bad = absl::StrFormat("%s: expected whole numbers from %d to %d separated by commas, got '%s'", flag, lo, hi, *v);
    }
    return {def};
  };
  const std::vector<int64_t> prompts = int_list("-p", 512, 0, 1 << 16);
  const std::vector<int64_t> gens = int_list("-n", 128, 0, 1 << 16);
  const std::vector<int64_t> depths = int_list("-d", 0, 0, 1 << 24);
  if (!bad.empty()) return Usage("bench", bad);
  int64_t reps = 5, threads = 0;
  if (Status st = args.Int("-r", 1, 1000, &reps); !st.ok()) return Usage("bench", st);
  if (Status st = args.Int("-t", 1, 1024, &threads); !st.ok()) return Usage("bench", st);
  const auto cache_type = ParseCacheTypeFlag(args);
  if (!cache_type.ok()) return Usage("bench", cache_type.status());
  const bool json = args.Has("--json");

  const std::string path = args.positional()[0];
  const auto t_load = std::chrono::steady_clock::now();
  auto model = Model::Load(path, ParseLoadOptions(args));
  if (!model.ok()) return Fail("bench", model.status());
  const double load_s = Seconds(t_load);
  const auto draft_choice = ParseDraft(args, ParseLoadOptions(args));
  if (!draft_choice.ok()) {
    return draft_choice.status().code() == absl::StatusCode::kInvalidArgument ? Usage("bench", draft_choice.status())
                                                                              : Fail("bench", draft_choice.status());
  }
  const bool draft = draft_choice->any();
  constexpr int64_t kGenerationPrompt = 8;  // the prompt of the --draft generations
  SessionOptions so;
  so.n_threads = static_cast<int>(threads);
  so.n_ctx = Max(depths) + std::max(Max(prompts), Max(gens)) + 1 + (draft ? kGenerationPrompt : 0);
  so.n_batch = std::max<int64_t>(512, Max(prompts));  // a pp test is one batch
  so.cache_type = *cache_type;
  so.batch_invariant = args.Has("--batch-invariant");
  auto session = Session::Create(*model, so);
  if (!session.ok()) return Fail("bench", session.status());
  Session& s = **session;
  const ModelConfig& cfg = (*model)->config();
  const std::string type = ModelTypeName(**model);
  const std::string isa(s.isa());
  const std::string cache_name = CacheTypeName(s.cache_type());
  const uint64_t kv_bytes_per_token = s.kv_bytes_per_token();
  const int n_threads = s.n_threads();
  const double file_mib = static_cast<double>((*model)->file_bytes()) / (1 << 20);

  // Weight bytes a decode step reads: every matrix once, except the embedding table, of which
  // one row is read, unless it doubles as the output matrix, and the routed experts, of which
  // n_experts_used of n_experts are read.
  uint64_t weight_bytes_per_token = 0;
  for (const TensorSummary& t : (*model)->Tensors()) {
    if (t.name == "token_embd.weight" && !cfg.tied_embeddings) continue;
    long long block = -1;  // MTP (nextn) blocks after the model's layers are never read
    if (std::sscanf(t.name.c_str(), "blk.%lld.", &block) == 1 && block >= cfg.n_layers) {
      continue;
    }
    const bool routed = t.name.find("_exps.") != std::string::npos && cfg.n_experts > 0;
    weight_bytes_per_token += routed ? t.n_bytes / static_cast<uint64_t>(cfg.n_experts) *
                                           static_cast<uint64_t>(cfg.n_experts_used)
                                     : t.n_bytes;
  }
  double bandwidth = 0;
  if (args.Has("--membw")) bandwidth = tools::MeasureReadBandwidth(n_threads);
  // tok/s if decoding were bound by memory reads alone: N decodes after `depth` read the cache
  // of depth + (N + 1) / 2 positions on average.
  auto decode_ceiling = [&](int64_t depth, int64_t n_gen) {
    const double cache_positions = static_cast<double>(depth) + static_cast<double>(n_gen + 1) / 2;
    return bandwidth / (static_cast<double>(weight_bytes_per_token) +
                        cache_positions * static_cast<double>(kv_bytes_per_token));
  };

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
                static_cast<double>((*model)->weight_bytes()) / 1e9, weight_bytes_per_token / 1e9);
    std::printf("load: %.3f s | isa: %s | threads: %d | cache: %s, %.1f KiB per token", load_s, isa.c_str(),
                n_threads, cache_name.c_str(), static_cast<double>(kv_bytes_per_token) / 1024);
    if (s.batch_invariant()) std::printf(" | batch-invariant");
    if ((*model)->repacked_bytes() > 0) {
      std::printf(" | weights repacked: %.1f MiB", static_cast<double>((*model)->repacked_bytes()) / (1 << 20));
    }
    std::printf("\n");
    if (bandwidth > 0) {
      std::printf("read bandwidth: %.1f GB/s (%d threads)\n", bandwidth / 1e9, n_threads);
      std::printf("decode ceiling: %.1f tok/s (empty cache)\n", bandwidth / static_cast<double>(weight_bytes_per_token));
    }
    std::printf("| %-16s | %8s | %18s |\n", "test", "threads", "t/s");
  }

  auto report = [&](const std::string& test, int64_t depth, int64_t n_tok, const std::vector<double>& secs,
                    double acceptance = -1) {
    std::vector<double> tps;
    for (double x : secs) tps.push_back(static_cast<double>(n_tok) / x);
    const Stats st = MeanSd(tps);
    const bool is_tg = test.rfind("tg", 0) == 0;
    const double ceiling = bandwidth > 0 && is_tg ? decode_ceiling(depth, n_tok) : 0;
    if (json) {
      nlohmann::ordered_json row = {
          {"test", test},
          {"depth", depth},
          {"tokens_per_second", Round(st.mean, 4)},
          {"stddev", Round(st.sd, 4)},
          {"threads", n_threads},
          {"type", type},
          {"isa", isa},
          {"cache_type", cache_name},
          {"batch_invariant", s.batch_invariant()},
          {"kv_bytes_per_token", kv_bytes_per_token},
          {"repacked_mib", Round(static_cast<double>((*model)->repacked_bytes()) / (1 << 20), 1)},
          {"model_file", path},
          {"n_tokens", n_tok},
          {"reps", secs.size()},
          {"load_seconds", Round(load_s, 4)},
          {"peak_rss_mib", Round(PeakRssMiB(), 1)},
          {"file_mib", Round(file_mib, 1)},
      };
      if (ceiling > 0) {
        row["ceiling_tokens_per_second"] = Round(ceiling, 3);
        row["ceiling_fraction"] = Round(st.mean / ceiling, 4);
      }
      if (bandwidth > 0) row["read_bandwidth_gbps"] = Round(bandwidth / 1e9, 3);
      if (acceptance >= 0) row["draft_acceptance"] = Round(acceptance, 4);
      // Replace, not throw, should the path not be valid UTF-8.
      std::printf("%s\n", row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else {
      const std::string name = depth > 0 ? absl::StrFormat("%s @ d%d", test, depth) : test;
      std::string pct;
      if (ceiling > 0) pct = absl::StrFormat(" (%.0f%% of ceiling)", 100 * st.mean / ceiling);
      if (acceptance >= 0) pct += absl::StrFormat(" (%.0f%% of guesses kept)", 100 * acceptance);
      std::printf("| %-16s | %8d | %9.2f ± %6.2f |%s\n", name.c_str(), n_threads, st.mean, st.sd, pct.c_str());
    }
    std::fflush(stdout);
  };

  for (const int64_t depth : depths) {
    s.Reset();
    if (depth > 0) {
      // Evaluate splits the tokens into batches of n_batch.
      if (Status st = s.Evaluate(random_tokens(depth)); !st.ok()) return Fail("bench", st);
    }
    for (const int64_t n_prompt : prompts) {
      if (n_prompt == 0) continue;
      std::vector<double> secs;
      for (int64_t r = 0; r < reps; ++r) {
        if (Status st = s.Truncate(depth); !st.ok()) return Fail("bench", st);
        const std::vector<int32_t> prompt = random_tokens(n_prompt);
        const auto t0 = std::chrono::steady_clock::now();
        if (Status st = s.Evaluate(prompt); !st.ok()) return Fail("bench", st);
        secs.push_back(Seconds(t0));
      }
      report(absl::StrFormat("pp%d", n_prompt), depth, n_prompt, secs);
    }
    for (const int64_t n_gen : gens) {
      if (n_gen == 0) continue;
      std::vector<double> secs;
      for (int64_t r = 0; r < reps; ++r) {
        if (Status st = s.Truncate(depth); !st.ok()) return Fail("bench", st);
        const std::vector<int32_t> toks = random_tokens(n_gen);
        const auto t0 = std::chrono::steady_clock::now();
        for (int64_t i = 0; i < n_gen; ++i) {
          if (Status st = s.Evaluate(absl::MakeConstSpan(&toks[static_cast<size_t>(i)], 1)); !st.ok()) {
            return Fail("bench", st);
          }
        }
        secs.push_back(Seconds(t0));
      }
      report(absl::StrFormat("tg%d", n_gen), depth, n_gen, secs);
      if (!draft) continue;
      // Greedy generations from the same prompt, alone and with the draft.
      const std::vector<int32_t> extra = random_tokens(kGenerationPrompt);
      for (const bool with_draft : {false, true}) {
        if (with_draft) {
          if (Status st = ApplyDraft(*draft_choice, s); !st.ok()) return Fail("bench", st);
        }
        std::vector<double> gen_secs;
        int64_t drafted = 0, accepted = 0;
        for (int64_t r = 0; r < reps; ++r) {
          if (Status st = s.Truncate(depth); !st.ok()) return Fail("bench", st);
          std::vector<int32_t> prompt(s.tokens().begin(), s.tokens().end());
          prompt.insert(prompt.end(), extra.begin(), extra.end());
          GenerateOptions o;
          o.max_new_tokens = n_gen;
          o.sampler.temperature = 0;
          o.ignore_eos = true;
          auto result = s.GenerateFromTokens(prompt, o);
          if (!result.ok()) return Fail("bench", result.status());
          gen_secs.push_back(result->decode_seconds);
          drafted += result->n_drafted_tokens;
          accepted += result->n_accepted_tokens;
        }
        s.ClearDraft();
        report(absl::StrFormat(with_draft ? "g%d+draft" : "g%d", n_gen), depth, n_gen, gen_secs,
               with_draft ? (drafted > 0 ? double(accepted) / double(drafted) : 0.0) : -1.0);
      }
    }
  }
  if (!json) std::printf("peak resident memory: %.1f MiB (file %.1f MiB)\n", PeakRssMiB(), file_mib);
  return 0;
}

}  // namespace r1::cli
