// grammar_bench — what a GBNF token mask costs per generated token.
//
//   grammar_bench [VOCAB.gguf] [--grammar FILE.gbnf] [--text FILE] [--repeat N] [--verbose]
//
// Without a vocabulary it uses deepseek-r1.vocab.gguf from the shared test data (R1_SHARED_DIR,
// else ../shared); without --grammar llama.cpp's json.gbnf; without --text a fixed JSON
// document of strings, numbers, nesting and non-ASCII text. The text is encoded with the
// tokenizer and fed token by token, as generation would, timing the mask before each token:
//   first   the first Mask in each state of a fresh constraint (the allowed-token cache fills
//           as the document goes, as it does in real use);
//   cached  a second Mask in the same state, answered from the cache;
//   walk    the trie walk alone with the cache bypassed (what a never-seen state costs once
//           the byte transitions are known).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "grammar/example_grammars.h"  // test/: llama.cpp's grammars, as users have them
#include "grammar/grammar_constraint.h"
#include "r1/tokenizer.h"

namespace {


constexpr char kDocument[] = R"json({
  "id": "run-2024-08-17T09:41:22Z",
  "model": "deepseek-r1",
  "ok": true,
  "score": -12.75e3,
  "counts": [0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144],
  "user": {"name": "Zoë Müller", "city": "Zürich", "tags": ["admin", "beta-tester", null]},
  "summary": "The quick brown fox jumps over the lazy dog. It then writes a long sentence, with commas, \"quotes\", and a tab\there, to exercise the string rule of the grammar for a while.",
  "translations": {"ja": "こんにちは、世界。今日はいい天気ですね。", "zh": "你好，世界", "ru": "Привет, мир", "emoji": "🙂👍"},
  "matrix": [[1.5, 2.25], [3e-2, -4], []],
  "notes": [{"at": 1, "text": "first"}, {"at": 2, "text": "second \u00e9"}]
})json";

std::string ReadFile(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "grammar_bench: cannot read %s\n", path);
    std::exit(1);
  }
  return std::string(std::istreambuf_iterator<char>(in), {});
}

double Ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

struct Stats {
  std::vector<double> ms;
  void Print(const char* what) const {
    double sum = 0, worst = 0;
    for (double v : ms) sum += v, worst = std::max(worst, v);
    std::vector<double> sorted = ms;
    std::sort(sorted.begin(), sorted.end());
    const double p50 = sorted.empty() ? 0 : sorted[sorted.size() / 2];
    const double p99 = sorted.empty() ? 0 : sorted[std::min(sorted.size() - 1, sorted.size() * 99 / 100)];
    std::printf("  %-7s mean %.3f ms  median %.3f  p99 %.3f  worst %.3f  (%zu tokens)\n", what,
                ms.empty() ? 0 : sum / ms.size(), p50, p99, worst, ms.size());
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string vocab_path, gbnf = r1::grammar::testdata::kJsonGbnf, text = kDocument;
  int repeat = 1;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--grammar") && i + 1 < argc) gbnf = ReadFile(argv[++i]);
    else if (!std::strcmp(argv[i], "--text") && i + 1 < argc) text = ReadFile(argv[++i]);
    else if (!std::strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--verbose")) verbose = true;
    else vocab_path = argv[i];
  }
  if (vocab_path.empty()) {
    const char* shared = std::getenv("R1_SHARED_DIR");
    vocab_path = std::string(shared ? shared : "../shared") + "/vocab/deepseek-r1.vocab.gguf";
  }
  auto tok = r1::Tokenizer::Load(vocab_path);
  if (!tok.ok()) {
    std::fprintf(stderr, "grammar_bench: %s\n", tok.status().ToString().c_str());
    return 1;
  }
  auto t0 = std::chrono::steady_clock::now();
  auto vocab = r1::grammar::BuildTokenVocabulary(**tok);
  if (!vocab.ok()) {
    std::fprintf(stderr, "grammar_bench: %s\n", vocab.status().ToString().c_str());
    return 1;
  }
  std::printf("vocabulary %s: %d tokens, %zu trie nodes, built in %.1f ms\n", vocab_path.c_str(),
              (*vocab)->size(), (*vocab)->nodes().size(), Ms(std::chrono::steady_clock::now() - t0));
  auto ids = (*tok)->Encode(text, {.add_bos = false});
  if (!ids.ok()) return 1;
  std::vector<float> logits((*vocab)->size());

  for (int round = 0; round < repeat; ++round) {
    Stats first, cached, walk;
    t0 = std::chrono::steady_clock::now();
    auto constraint = r1::grammar::GrammarConstraint::Create(gbnf, *vocab);
    if (!constraint.ok()) {
      std::fprintf(stderr, "grammar_bench: %s\n", constraint.status().ToString().c_str());
      return 1;
    }
    std::printf("round %d: grammar compiled in %.3f ms; %zu tokens of text\n", round + 1,
                Ms(std::chrono::steady_clock::now() - t0), ids->size());
    auto walker = r1::grammar::GrammarConstraint::Create(gbnf, *vocab);
    int64_t allowed_sum = 0;
    for (int32_t id : *ids) {
      std::fill(logits.begin(), logits.end(), 0.0f);
      auto a = std::chrono::steady_clock::now();
      allowed_sum += (*constraint)->Mask(absl::MakeSpan(logits));
      auto b = std::chrono::steady_clock::now();
      (*constraint)->Mask(absl::MakeSpan(logits));
      auto c = std::chrono::steady_clock::now();
      (*walker)->Allowed(/*use_cache=*/false);
      auto d = std::chrono::steady_clock::now();
      first.ms.push_back(Ms(b - a));
      cached.ms.push_back(Ms(c - b));
      walk.ms.push_back(Ms(d - c));
      if (!(*constraint)->Accept(id).ok() || !(*walker)->Accept(id).ok()) {
        std::fprintf(stderr, "grammar_bench: the grammar refused token %d of the text\n", id);
        return 1;
      }
    }
    if (verbose) {  // the slowest states, by the text before them
      std::vector<size_t> order(ids->size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return walk.ms[a] > walk.ms[b]; });
      for (size_t k = 0; k < std::min<size_t>(8, order.size()); ++k) {
        const size_t i = order[k];
        auto before = (*tok)->Decode(absl::MakeConstSpan(ids->data(), i));
        const std::string tail = before.ok() ? before->substr(before->size() - std::min<size_t>(before->size(), 24)) : "";
        std::printf("    walk %.3f ms, first %.3f ms after ...%s\n", walk.ms[i], first.ms[i], tail.c_str());
      }
    }
    first.Print("first");
    cached.Print("cached");
    walk.Print("walk");
    const auto& m = (*constraint)->masker();
    std::printf("  first-call cache hit rate %.1f%% (%llu hits, %llu misses incl. the timed repeats); "
                "mean allowed %.0f tokens; complete at end: %s\n",
                100.0 * (m.hits() - ids->size()) / ids->size(),
                static_cast<unsigned long long>(m.hits()), static_cast<unsigned long long>(m.misses()),
                static_cast<double>(allowed_sum) / ids->size(), (*constraint)->complete() ? "yes" : "no");
  }
  return 0;
}
