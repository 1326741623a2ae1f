#include "tokenize/pre_tokenizer.h"

#include <utility>

#include "absl/strings/str_format.h"

namespace r1::internal {
namespace {

// The regexes are those of the original tokenizer.json files (and, for "default", of
// llama.cpp, the only definition that name has).

// GPT-2's byte-level pattern.
constexpr const char* kGpt2 =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Qwen2: case-insensitive contractions, a letter run with one leading non-letter, single
// digits, punctuation runs with trailing newlines, newline runs, then whitespace.
constexpr const char* kQwen2 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// Llama 3: as Qwen2 but digits in runs of up to three.
constexpr const char* kLlama3 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// DeepSeek-V3 / R1: digits, then CJK ideograph and kana runs, then the main pattern.
constexpr const char* kDeepSeekV3Digits = R"(\p{N}{1,3})";
constexpr const char* kDeepSeekV3Cjk = R"([\x{4E00}-\x{9FA5}\x{3040}-\x{309F}\x{30A0}-\x{30FF}]+)";
constexpr const char* kDeepSeekV3Main =
    R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// DeepSeek LLM (the 2023 7B/67B tokenizer). The letter class lists cased letters by code
// point: escapes, because several of them are NFC singletons that an editor could silently
// replace with their canonical equivalents.
constexpr const char* kDeepSeekLlmLetters =
    "\\s?["
    "A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}"
    "\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}"
    "\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}"
    "\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}"
    "\\x{13A0}-\\x{13F5}\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}"
    "\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}"
    "\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}"
    "\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}"
    "\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}"
    "\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}"
    "\\x{2102}\\x{2107}\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}"
    "\\x{2128}\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}"
    "\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}"
    "\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}"
    "\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}"
    "\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}"
    "\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}"
    "\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}"
    "]+";
constexpr const char* kDeepSeekLlmPunct =
    R"(\s?[!-/:-~\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF5E}\x{2018}-\x{201F}\x{3000}-\x{3002}]+)";

// CJK ideographs, the U+0800 block onwards up to them, and Hangul (DeepSeek LLM and Coder).
constexpr const char* kDeepSeekCjk = R"([\x{4E00}-\x{9FA5}\x{0800}-\x{4E00}\x{AC00}-\x{D7FF}]+)";

}  // namespace

StatusOr<PreTokenizerSpec> PreTokenizerSpecFor(std::string_view name) {
  PreTokenizerSpec spec;
  if (name == "qwen2" || name == "deepseek-r1-qwen") {
    spec.regexes = {kQwen2};
    spec.nfc = true;
  } else if (name == "llama-bpe" || name == "llama3" || name == "llama-v3") {
    spec.regexes = {kLlama3};
    spec.ignore_merges = true;
  } else if (name == "deepseek-v3") {
    spec.regexes = {kDeepSeekV3Digits, kDeepSeekV3Cjk, kDeepSeekV3Main};
  } else if (name == "deepseek-llm") {
    spec.regexes = {"[\\r\\n]", kDeepSeekLlmLetters, kDeepSeekLlmPunct, "\\s+$", kDeepSeekCjk,
                    "\\p{N}+"};
  } else if (name == "deepseek-coder") {
    spec.regexes = {"[\\r\\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", kDeepSeekCjk, "\\p{N}"};
  } else if (name == "gpt-2" || name == "gpt2") {
    spec.regexes = {kGpt2};
  } else if (name.empty() || name == "default") {
    spec.regexes = {"[\\p{P}\\$\\+<=>\\^~\\|]+",
                    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
                    "\\p{N}+", "[0-9][0-9][0-9]"};
  } else {
    return absl::NotFoundError(absl::StrFormat(
        "unsupported pre-tokenizer '%s' (tokenizer.ggml.pre); supported: qwen2, "
        "deepseek-r1-qwen, deepseek-v3, llama-bpe, deepseek-llm, deepseek-coder, gpt-2, default",
        std::string(name)));
  }
  return spec;
}

StatusOr<std::unique_ptr<PreTokenizer>> PreTokenizer::Create(const PreTokenizerSpec& spec) {
  std::unique_ptr<PreTokenizer> pre(new PreTokenizer());
  pre->spec_ = spec;
  for (const std::string& regex : spec.regexes) {
    R1_ASSIGN_OR_RETURN(std::unique_ptr<RegexSplit> split, RegexSplit::Compile(regex));
    pre->splits_.push_back(std::move(split));
  }
  return pre;
}

Status PreTokenizer::Split(std::string_view text, std::vector<std::string_view>* words,
                           std::vector<std::string_view>* scratch) const {
  if (text.empty()) return absl::OkStatus();
  if (splits_.empty()) {
    words->push_back(text);
    return absl::OkStatus();
  }
  // Ping-pong between two lists; the last regex writes straight into *words.
  scratch->clear();
  scratch->push_back(text);
  std::vector<std::string_view> next;
  for (size_t r = 0; r < splits_.size(); ++r) {
    const bool last = r + 1 == splits_.size();
    std::vector<std::string_view>* out = last ? words : &next;
    if (!last) next.clear();
    for (std::string_view piece : *scratch) R1_RETURN_IF_ERROR(splits_[r]->Split(piece, out));
    if (!last) scratch->swap(next);
  }
  return absl::OkStatus();
}

}  // namespace r1::internal
