// Tokenizer behaviour on small in-memory vocabularies: BPE merge order, SentencePiece, added
// tokens, BOS/EOS, streaming decode, errors and concurrent use.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tiny_vocab.h"
#include "tokenize/utf8.h"

namespace r1 {
namespace {

using test::MakeBpeSpec;
using test::MakeSpmSpec;
using test::MustCreate;
using test::TinyBpe;

std::vector<int32_t> Ids(const Tokenizer& tok, std::string_view text, EncodeOptions o = {}) {
  auto ids = tok.Encode(text, o);
  INFO(ids.status().ToString());
  REQUIRE(ids.ok());
  return *ids;
}

std::string Text(const Tokenizer& tok, const std::vector<int32_t>& ids, DecodeOptions o = {}) {
  auto text = tok.Decode(ids, o);
  REQUIRE(text.ok());
  return *text;
}

// Merging by rescanning every pair after each merge: slow, obviously right.
std::vector<std::string> ReferenceBpe(const std::string& word,
                                      const std::vector<std::pair<std::string, std::string>>& merges) {
  std::vector<std::string> symbols;
  for (char c : word) symbols.emplace_back(1, c);
  while (true) {
    size_t best = merges.size(), at = 0;
    for (size_t i = 0; i + 1 < symbols.size(); ++i) {
      for (size_t r = 0; r < best; ++r) {
        if (merges[r].first == symbols[i] && merges[r].second == symbols[i + 1]) {
          best = r;
          at = i;
          break;
        }
      }
    }
    if (best == merges.size()) return symbols;
    symbols[at] += symbols[at + 1];
    symbols.erase(symbols.begin() + at + 1);
  }
}

TEST_CASE("BPE applies merges by rank, leftmost first among equals") {
  TinyBpe tiny;
  tiny.pre = "gpt-2";
  tiny.merges = {{"a", "a"}, {"b", "c"}, {"aa", "a"}, {"a", "bc"}};
  auto tok = MustCreate(MakeBpeSpec(tiny));
  const int32_t aa = 256, bc = 257, aaa = 258, abc = 259;
  CHECK(Ids(*tok, "aaaa") == std::vector<int32_t>{aa, aa});  // leftmost pair first
  CHECK(Ids(*tok, "aaa") == std::vector<int32_t>{aaa});
  CHECK(Ids(*tok, "abc") == std::vector<int32_t>{abc});      // "bc" (rank 1) before "a bc"
  CHECK(Ids(*tok, "aabc") == std::vector<int32_t>{aa, bc});  // "aa" outranks "a bc"
  CHECK(Ids(*tok, "x") == std::vector<int32_t>{'x'});
  CHECK(Ids(*tok, "") == std::vector<int32_t>{});
}

TEST_CASE("the priority-queue BPE agrees with a rescanning reference on random words") {
  std::mt19937 rng(7);
  const std::string alphabet = "abcd";
  // Random merges over the alphabet, each result a new, distinct token.
  std::vector<std::pair<std::string, std::string>> merges;
  std::vector<std::string> symbols = {"a", "b", "c", "d"};
  std::vector<std::string> results;
  while (merges.size() < 40) {
    const std::string& l = symbols[rng() % symbols.size()];
    const std::string& r = symbols[rng() % symbols.size()];
    const std::string joined = l + r;
    if (joined.size() > 6 || std::find(results.begin(), results.end(), joined) != results.end() ||
        std::find(symbols.begin(), symbols.end(), joined) != symbols.end()) {
      continue;
    }
    merges.emplace_back(l, r);
    results.push_back(joined);
    symbols.push_back(joined);
  }
  TinyBpe tiny;
  tiny.pre = "gpt-2";
  tiny.merges = merges;
  const VocabSpec spec = MakeBpeSpec(tiny);
  auto tok = MustCreate(spec);
  for (int n = 0; n < 2000; ++n) {
    std::string word;
    const int len = 1 + static_cast<int>(rng() % 24);
    for (int i = 0; i < len; ++i) word += alphabet[rng() % alphabet.size()];
    std::vector<int32_t> expected;
    for (const std::string& s : ReferenceBpe(word, merges)) {
      auto id = tok->FindToken(s.size() == 1 ? std::string(1, s[0]) : s);
      REQUIRE(id.has_value());
      expected.push_back(*id);
    }
    INFO(word);
    CHECK(Ids(*tok, word) == expected);
  }
}

TEST_CASE("added tokens: control ones only with parse_special, user-defined always") {
  TinyBpe tiny;
  tiny.added = {{"<|im_start|>", TokenType::kControl},
                {"<think>", TokenType::kUserDefined},
                {"<a>", TokenType::kControl},
                {"<a><b>", TokenType::kControl},
                {"[PAD9]", TokenType::kUnused}};
  auto tok = MustCreate(MakeBpeSpec(tiny));
  const int32_t im_start = 256, think = 257, a = 258, ab = 259;
  CHECK(Ids(*tok, "<|im_start|>x", {.parse_special = true}) == std::vector<int32_t>{im_start, 'x'});
  const auto plain = Ids(*tok, "<|im_start|>x");
  CHECK(std::find(plain.begin(), plain.end(), im_start) == plain.end());
  CHECK(Ids(*tok, "<think>") == std::vector<int32_t>{think});
  CHECK(Ids(*tok, "<a><b>", {.parse_special = true}) == std::vector<int32_t>{ab});  // longest
  CHECK(Ids(*tok, "<a><c>", {.parse_special = true}) ==
        std::vector<int32_t>{a, '<', 'c', '>'});
  CHECK(Ids(*tok, "[PAD9]").size() == 6);  // unused entries are plain text
  CHECK(Text(*tok, Ids(*tok, "<a><b>!", {.parse_special = true})) == "<a><b>!");
  CHECK(Text(*tok, {im_start, 'x', think}, {.render_special = false}) == "x<think>");
}

TEST_CASE("added tokens: literal ranges match nothing, FindAddedTokens finds what parse_special matches") {
  TinyBpe tiny;
  tiny.added = {{"<|im_start|>", TokenType::kControl}, {"<think>", TokenType::kUserDefined},
                {"<a>", TokenType::kControl}, {"<a><b>", TokenType::kControl}};
  auto tok = MustCreate(MakeBpeSpec(tiny));
  const int32_t im_start = 256, think = 257, a = 258, ab = 259;
  const std::string text = "<a><b><think>x<|im_start|>";  // tokens at 0-6, 6-13, 14-26
  using Ranges = std::vector<std::pair<size_t, size_t>>;
  CHECK(tok->FindAddedTokens(text) == Ranges{{0, 6}, {6, 13}, {14, 26}});
  CHECK(tok->FindAddedTokens("plain").empty());
  auto ids = [&](Ranges literal) {
    EncodeOptions options{.parse_special = true};
    options.literal_ranges = std::move(literal);
    return Ids(*tok, text, options);
  };
  const auto count = [](const std::vector<int32_t>& v, int32_t id) { return std::count(v.begin(), v.end(), id); };
  CHECK(ids({}) == std::vector<int32_t>{ab, think, 'x', im_start});
  // A literal stretch inside "<a><b>" leaves the shorter "<a>" before it; user-defined tokens
  // stay plain there too.
  const auto split_ab = ids({{4, 13}});
  CHECK(split_ab.front() == a);
  CHECK(count(split_ab, ab) == 0);
  CHECK(count(split_ab, think) == 0);
  CHECK(split_ab.back() == im_start);
  const auto all = ids({{0, 3}, {3, 26}});  // adjacent ranges cover everything
  CHECK(count(all, a) + count(all, ab) + count(all, think) + count(all, im_start) == 0);
  CHECK(Text(*tok, all) == text);
  // Ranges past the end are clipped.
  CHECK(ids({{14, 1000}}) == std::vector<int32_t>(ids({{14, 26}})));
}

TEST_CASE("BOS/EOS follow the metadata unless the caller says otherwise") {
  TinyBpe tiny;
  tiny.added = {{"<s>", TokenType::kControl}, {"</s>", TokenType::kControl}};
  VocabSpec spec = MakeBpeSpec(tiny);
  spec.bos_id = 256;
  spec.eos_id = 257;
  spec.add_bos = true;
  auto tok = MustCreate(spec);
  CHECK(Ids(*tok, "x") == std::vector<int32_t>{256, 'x'});
  CHECK(Ids(*tok, "x", {.add_bos = false}) == std::vector<int32_t>{'x'});
  CHECK(Ids(*tok, "x", {.add_eos = true}) == std::vector<int32_t>{256, 'x', 257});
  CHECK(tok->IsEndOfGeneration(257));
  CHECK_FALSE(tok->IsEndOfGeneration('x'));
  CHECK_FALSE(tok->IsEndOfGeneration(-5));
  spec.bos_id.reset();
  CHECK_FALSE(Tokenizer::Create(spec).ok());  // add_bos without a BOS token
}

TEST_CASE("SentencePiece: score order, prefix space, byte fallback and its decoding") {
  const std::string sp = "\xE2\x96\x81";  // U+2581
  auto tok = MustCreate(MakeSpmSpec({{sp, -1}, {"h", -2}, {"i", -3}, {sp + "h", -4},
                                     {"hi", -5}, {sp + "hi", -6}, {sp + sp, -7}}));
  const int32_t first = 3 + 256;
  const int32_t space = first, hi_word = first + 5, two_spaces = first + 6, h = first + 1;
  CHECK(Ids(*tok, "hi", {.add_bos = false}) == std::vector<int32_t>{hi_word});
  CHECK(Ids(*tok, "hi") == std::vector<int32_t>{1, hi_word});  // BOS by default for "llama"
  CHECK(Ids(*tok, " hi", {.add_bos = false}) == std::vector<int32_t>{space, hi_word});
  // é has no piece: its two UTF-8 bytes fall back to <0xC3> <0xA9>.
  CHECK(Ids(*tok, "h\xC3\xA9", {.add_bos = false}) ==
        std::vector<int32_t>{first + 3, 3 + 0xC3, 3 + 0xA9});
  CHECK(Text(*tok, Ids(*tok, "hi hé")) == "<s>hi hé");
  CHECK(Text(*tok, Ids(*tok, "  hi"), {.render_special = false}) == "  hi");
  CHECK(Text(*tok, {h}, {.strip_prefix_space = false}) == "h");
  CHECK(Text(*tok, {two_spaces}, {.strip_prefix_space = false}) == "  ");
  CHECK(Text(*tok, {two_spaces}) == " ");
  // A continuation keeps its leading space once the decoder has seen the prompt.
  StreamDecoder stream(*tok);
  REQUIRE(stream.Prime(Ids(*tok, "hi")).ok());
  CHECK(*stream.Push(hi_word) == " hi");
  CHECK_FALSE(stream.Prime(std::vector<int32_t>{-1}).ok());
  // Text after an added token gets the prefix space too, and loses it again on decoding.
  CHECK(Ids(*tok, "hi</s>hi", {.add_bos = false, .parse_special = true}) ==
        std::vector<int32_t>{hi_word, 2, hi_word});
  CHECK(Text(*tok, {hi_word, 2, hi_word}) == "hi</s>hi");
}

TEST_CASE("StreamDecoder holds back partial characters and matches Decode") {
  TinyBpe tiny;
  auto tok = MustCreate(MakeBpeSpec(tiny));
  // "é€🦙" byte by byte: each id is a single byte.
  const std::string text = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\xA6\x99z";
  std::vector<int32_t> ids;
  for (unsigned char c : text) ids.push_back(c);
  StreamDecoder stream(*tok);
  std::vector<std::string> pieces;
  for (int32_t id : ids) {
    auto piece = stream.Push(id);
    REQUIRE(piece.ok());
    pieces.push_back(*piece);
  }
  CHECK(stream.Flush().empty());
  CHECK(pieces == std::vector<std::string>{"a", "", "\xC3\xA9", "", "", "\xE2\x82\xAC", "", "", "",
                                           "\xF0\x9F\xA6\x99", "z"});
  CHECK(Text(*tok, ids) == text);

  // A prompt that ends inside a character: the character comes out when it is complete.
  REQUIRE(stream.Prime(std::vector<int32_t>{'q', 0xE2, 0x82}).ok());
  CHECK(*stream.Push(0xAC) == "\xE2\x82\xAC");
  stream.Reset();

  // An unfinished character at the end comes out of Flush (raw, or as U+FFFD on request).
  CHECK(stream.Push(0xE2)->empty());
  CHECK(stream.Flush() == "\xE2");
  StreamDecoder lossy(*tok, {.replace_invalid_utf8 = true});
  CHECK(lossy.Push(0xE2)->empty());
  CHECK(*lossy.Push('x') == "\xEF\xBF\xBDx");
  CHECK(Text(*tok, {0xE2, 'x'}, {.replace_invalid_utf8 = true}) == "\xEF\xBF\xBDx");
  CHECK(Text(*tok, {0xE2, 'x'}) == "\xE2x");
}

TEST_CASE("out-of-range ids are errors, not crashes") {
  auto tok = MustCreate(MakeBpeSpec({}));
  CHECK_FALSE(tok->Decode(std::vector<int32_t>{1, 256}).ok());
  CHECK_FALSE(tok->Decode(std::vector<int32_t>{-1}).ok());
  CHECK_FALSE(tok->TokenPiece(1 << 30).ok());
  CHECK_FALSE(tok->TokenText(-1).ok());
  CHECK_FALSE(tok->GetTokenType(256).ok());
  StreamDecoder stream(*tok);
  CHECK(*stream.Push('a') == "a");
  CHECK(stream.Push(999).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(*stream.Push('b') == "b");
}

TEST_CASE("malformed vocabularies are rejected with a reason") {
  VocabSpec spec = MakeBpeSpec({});
  spec.model = "wordpiece";
  CHECK(Tokenizer::Create(spec).status().code() == absl::StatusCode::kUnimplemented);
  spec = MakeBpeSpec({});
  spec.pre = "no-such-pre";
  CHECK(Tokenizer::Create(spec).status().code() == absl::StatusCode::kNotFound);
  spec = MakeBpeSpec({});
  spec.token_types.pop_back();
  CHECK_FALSE(Tokenizer::Create(spec).ok());
  spec = MakeBpeSpec({});
  spec.merges = {"nospace"};
  CHECK_FALSE(Tokenizer::Create(spec).ok());
  CHECK_FALSE(Tokenizer::Create(VocabSpec{}).ok());
}

TEST_CASE("one tokenizer serves many threads at once") {
  TinyBpe tiny;
  tiny.merges = {{"t", "h"}, {"th", "e"}, {" ", "the"}, {"o", "n"}, {"on", "e"}};
  auto tok = MustCreate(MakeBpeSpec(tiny));
  std::vector<std::string> texts;
  for (int i = 0; i < 200; ++i) {
    texts.push_back("the one " + std::to_string(i) + " then theone other " + std::string(i % 7, 'e'));
  }
  std::vector<std::vector<int32_t>> expected;
  for (const std::string& t : texts) expected.push_back(Ids(*tok, t));
  std::vector<int> mismatches(8, 0);
  std::vector<std::thread> threads;
  for (int w = 0; w < 8; ++w) {
    threads.emplace_back([&, w] {
      for (int round = 0; round < 20; ++round) {
        for (size_t i = 0; i < texts.size(); ++i) {
          auto ids = tok->Encode(texts[(i + w) % texts.size()]);
          if (!ids.ok() || *ids != expected[(i + w) % texts.size()]) ++mismatches[w];
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(std::count(mismatches.begin(), mismatches.end(), 0) == 8);
}

}  // namespace
}  // namespace r1
