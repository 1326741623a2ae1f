// tokenizer_bench — tokenizer throughput on about 1 MB of mixed English, code and CJK text.
//
//   tokenizer_bench [VOCAB.gguf] [--file TEXT] [--mb N] [--repeat N]
//
// Without a vocabulary it uses qwen2.vocab.gguf from the shared test data (R1_SHARED_DIR, else
// ../shared). Without --file it generates the text from a fixed seed: prose from a word list,
// C++/Python-like code with made-up identifiers, and Chinese/Japanese/Korean sentences, as
// sections picked 5:3:2. It reports encoding speed with a cold word cache (the first
// pass over a fresh tokenizer) and a warm one, and decoding speed, each the best of --repeat
// rounds (default 3).
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "r1/tokenizer.h"

namespace {

const char* const kWords[] = {
    "the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "was", "with", "be", "by",
    "on", "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an",
    "had", "they", "you", "were", "their", "one", "all", "we", "can", "her", "has", "there",
    "been", "if", "more", "when", "will", "would", "who", "so", "no", "model", "tokenizer",
    "inference", "memory", "bandwidth", "attention", "reasoning", "question", "answer", "number",
    "people", "water", "history", "government", "system", "between", "important", "different",
    "following", "without", "because", "however", "university", "development", "information",
    "experience", "understand", "probability", "distribution", "sequence", "language", "weights",
    "matrix", "vector", "gradient", "training", "evaluation", "benchmark", "throughput",
    "latency", "compiler", "function", "variable", "structure", "algorithm", "performance",
    "Although", "Meanwhile", "Therefore", "Moreover", "Nevertheless", "Paris", "London", "Tokyo",
    "don't", "it's", "they're", "we'll", "I've", "isn't", "couldn't", "naïve", "café", "résumé",
};
const char* const kCodeWords[] = {
    "int", "return", "const", "auto", "for", "if", "else", "while", "std::vector", "size_t",
    "def", "self", "import", "from", "class", "None", "True", "False", "lambda", "yield",
    "static_cast<int>", "nullptr", "template", "typename", "namespace", "struct", "void",
};
const char* const kSyllables[] = {"ka", "ro", "tex", "mi", "lo", "ver", "num", "buf", "ptr",
                                  "idx", "src", "dst", "len", "ctx", "tok", "emb", "qk", "val"};
const char* const kOperators[] = {" = ", " + ", " - ", " * ", " / ", " == ", " != ", " <= ",
                                  " && ", " || ", "->", ".", ", ", "(", ")", "[", "]", " += "};
// Common Chinese characters and kana, as UTF-8 strings.
const char* const kCjk[] = {
    "的", "一", "是", "不", "了", "人", "我", "在", "有", "他", "这", "为", "之", "大", "来",
    "以", "个", "中", "上", "们", "到", "说", "国", "和", "地", "也", "子", "时", "道", "出",
    "而", "要", "于", "就", "下", "得", "可", "你", "年", "生", "自", "会", "那", "后", "能",
    "对", "着", "事", "其", "里", "所", "去", "行", "过", "家", "十", "用", "发", "天", "如",
    "然", "作", "方", "成", "者", "多", "日", "都", "三", "小", "军", "二", "无", "同", "么",
    "经", "法", "当", "起", "与", "好", "看", "学", "进", "种", "将", "还", "分", "此", "心",
    "模", "型", "推", "理", "计", "算", "资", "源", "数", "据", "东", "京", "语", "言", "文",
    "の", "に", "は", "を", "た", "が", "で", "て", "と", "し", "れ", "さ", "ある", "いる",
    "テ", "ス", "ト", "デ", "ー", "タ", "モ", "デル", "한", "국", "어", "입", "니", "다",
};
const char* const kCjkPunct[] = {"，", "。", "、", "：", "（", "）", "！", "？"};

template <typename T, size_t N>
const char* Pick(std::mt19937& rng, T (&list)[N]) {
  return list[rng() % N];
}

void AppendProse(std::mt19937& rng, std::string* out) {
  const int n = 8 + static_cast<int>(rng() % 20);
  for (int i = 0; i < n; ++i) {
    std::string w = Pick(rng, kWords);
    if (i == 0) w[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(w[0])));
    *out += w;
    if (rng() % 12 == 0) *out += ", " + std::to_string(rng() % 2000);
    *out += i + 1 < n ? (rng() % 9 == 0 ? ", " : " ") : (rng() % 5 == 0 ? "?\n" : ". ");
  }
}

std::string Identifier(std::mt19937& rng) {
  std::string id;
  const int parts = 1 + static_cast<int>(rng() % 3);
  for (int p = 0; p < parts; ++p) {
    if (p > 0) id += rng() % 2 ? "_" : "";
    id += Pick(rng, kSyllables);
  }
  if (rng() % 4 == 0) id += std::to_string(rng() % 16);
  return id;
}

void AppendCode(std::mt19937& rng, std::string* out) {
  const int lines = 3 + static_cast<int>(rng() % 8);
  for (int l = 0; l < lines; ++l) {
    *out += std::string(4 * (rng() % 4), ' ');
    const int n = 2 + static_cast<int>(rng() % 6);
    for (int i = 0; i < n; ++i) {
      *out += rng() % 3 == 0 ? Pick(rng, kCodeWords) : Identifier(rng);
      *out += Pick(rng, kOperators);
      if (rng() % 6 == 0) *out += std::to_string(rng() % 100000);
    }
    *out += rng() % 2 ? ";\n" : ":\n";
  }
  *out += "\n";
}

void AppendCjk(std::mt19937& rng, std::string* out) {
  const int n = 10 + static_cast<int>(rng() % 40);
  for (int i = 0; i < n; ++i) {
    *out += Pick(rng, kCjk);
    if (rng() % 9 == 0) *out += Pick(rng, kCjkPunct);
    if (rng() % 25 == 0) *out += std::to_string(rng() % 3000);
  }
  *out += "。\n";
}

std::string MixedText(size_t bytes) {
  std::mt19937 rng(20250101);
  std::string text;
  while (text.size() < bytes) {
    const unsigned r = rng() % 10;
    if (r < 5) AppendProse(rng, &text);
    else if (r < 8) AppendCode(rng, &text);
    else AppendCjk(rng, &text);
  }
  return text;
}

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string vocab;
  std::string file;
  double mb = 1.0;
  int repeat = 3;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--file" && i + 1 < argc) file = argv[++i];
    else if (arg == "--mb" && i + 1 < argc) mb = std::atof(argv[++i]);
    else if (arg == "--repeat" && i + 1 < argc) repeat = std::max(1, std::atoi(argv[++i]));
    else if (!arg.empty() && arg[0] != '-') vocab = arg;
    else {
      std::fprintf(stderr, "usage: tokenizer_bench [VOCAB.gguf] [--file TEXT] [--mb N] [--repeat N]\n");
      return 2;
    }
  }
  if (vocab.empty()) {
    const char* shared = std::getenv("R1_SHARED_DIR");
    vocab = std::string(shared ? shared : "../shared") + "/vocab/qwen2.vocab.gguf";
  }
  std::string text;
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "cannot read %s\n", file.c_str());
      return 1;
    }
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } else {
    text = MixedText(static_cast<size_t>(mb * 1e6));
  }
  const double megabytes = static_cast<double>(text.size()) / 1e6;

  // Each round loads a fresh tokenizer: its first pass runs with an empty word cache (cold),
  // the second with the cache filled by the first (warm). The best round counts, which keeps
  // the figures steady on a busy machine.
  double load_s = 1e30, cold_s = 1e30, warm_s = 1e30, decode_s = 1e30;
  size_t n_tokens = 0;
  for (int r = 0; r < repeat; ++r) {
    auto start = std::chrono::steady_clock::now();
    auto tok = r1::Tokenizer::Load(vocab);
    if (!tok.ok()) {
      std::fprintf(stderr, "%s\n", std::string(tok.status().message()).c_str());
      return 1;
    }
    load_s = std::min(load_s, Seconds(start));
    start = std::chrono::steady_clock::now();
    auto ids = (*tok)->Encode(text, {.add_bos = false});
    cold_s = std::min(cold_s, Seconds(start));
    start = std::chrono::steady_clock::now();
    auto again = (*tok)->Encode(text, {.add_bos = false});
    warm_s = std::min(warm_s, Seconds(start));
    if (!ids.ok() || !again.ok() || *again != *ids) {
      std::fprintf(stderr, "encoding failed or is not repeatable\n");
      return 1;
    }
    start = std::chrono::steady_clock::now();
    auto decoded = (*tok)->Decode(*ids);
    decode_s = std::min(decode_s, Seconds(start));
    if (!decoded.ok()) {
      std::fprintf(stderr, "decoding failed\n");
      return 1;
    }
    n_tokens = ids->size();
  }
  std::printf("vocabulary: %s (loaded in %.2f s)\n", vocab.c_str(), load_s);
  std::printf("text: %.2f MB, %zu tokens (%.2f bytes/token)\n", megabytes, n_tokens,
              static_cast<double>(text.size()) / static_cast<double>(n_tokens));
  std::printf("encode, cold cache: %7.2f MB/s\n", megabytes / cold_s);
  std::printf("encode, warm cache: %7.2f MB/s\n", megabytes / warm_s);
  std::printf("decode:             %7.2f MB/s\n", megabytes / decode_s);
  return 0;
}
