// make_seed_corpus — writes the starting corpora of the fuzz targets from the shared test data:
//   make_seed_corpus SHARED_DIR OUT_DIR
// makes OUT_DIR/{gguf,model_load,tokenizer,stream_decoder,chat,jinja,session_state}/ with small valid
// inputs (tiny models written with GgufWriter, the vocabularies' test texts, their ids, chats,
// saved session states), so that the fuzzers start from inputs that reach deep into the code.
// Generated, never committed: see test/fuzz/meson.build and .ci/sanitizers.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "fuzz_entry.h"
#include "gguf/gguf_writer.h"
#include "r1/quant/reference.h"

namespace fs = std::filesystem;
using namespace r1;

namespace {

int g_count = 0;

void Put(const fs::path& dir, const std::string& name, const void* data, size_t n) {
  fs::create_directories(dir);
  std::ofstream f(dir / name, std::ios::binary);
  f.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
  ++g_count;
}
void Put(const fs::path& dir, const std::string& name, const std::string& s) { Put(dir, name, s.data(), s.size()); }
void Put(const fs::path& dir, const std::string& name, const std::vector<uint8_t>& b) { Put(dir, name, b.data(), b.size()); }

bool Check(const Status& s, const char* what) {
  if (!s.ok()) std::fprintf(stderr, "make_seed_corpus: %s: %s\n", what, s.ToString().c_str());
  return s.ok();
}

struct Spec {
  std::string arch = "llama";
  uint64_t vocab = 16, d = 8, layers = 1, heads = 2, kv_heads = 1, head_dim = 4, ff = 8;
  DType type = DType::kF32;
  bool tied = false, bias = false, tokenizer = false;
};

uint64_t g_rng = 12345;
float Rand() {
  g_rng = g_rng * 6364136223846793005ull + 1442695040888963407ull;
  return static_cast<float>((g_rng >> 40) & 0xFFFF) / 65536.0f - 0.5f;
}

void AddTensor(GgufWriter& w, const std::string& name, std::vector<uint64_t> ne, DType type) {
  uint64_t n = 1;
  for (uint64_t v : ne) n *= v;
  std::vector<float> x(n);
  for (float& v : x) v = Rand() * 0.2f;
  std::vector<uint8_t> bytes;
  if (type == DType::kF32) {
    bytes.resize(n * 4);
    std::memcpy(bytes.data(), x.data(), bytes.size());
  } else {
    const uint64_t rows = n / ne[0];
    const uint64_t row_bytes = *RowBytes(type, static_cast<int64_t>(ne[0]));
    bytes.resize(rows * row_bytes);
    for (uint64_t r = 0; r < rows; ++r) {
      quant::ref::QuantizeRow(type, &x[r * ne[0]], bytes.data() + r * row_bytes, static_cast<int64_t>(ne[0]));
    }
  }
  Check(w.AddTensor(name, type, ne, bytes), name.c_str());
}

// A SentencePiece-style vocabulary: specials, the 256 byte tokens, a few pieces.
void AddTokenizer(GgufWriter& w, uint64_t* n_vocab) {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<int32_t> types = {2, 3, 3};
  for (int b = 0; b < 256; ++b) {
    tokens.push_back(absl::StrFormat("<0x%02X>", b));
    types.push_back(6);
  }
  for (const char* p : {"\xe2\x96\x81", "\xe2\x96\x81H", "i", "\xe2\x96\x81the", "re", "<think>"}) {
    tokens.push_back(p);
    types.push_back(std::string_view(p) == "<think>" ? 4 : 1);
  }
  std::vector<float> scores(tokens.size());
  for (size_t i = 0; i < scores.size(); ++i) scores[i] = -static_cast<float>(i);
  Check(w.SetString("tokenizer.ggml.model", "llama"), "tokenizer.ggml.model");
  Check(w.SetStringArray("tokenizer.ggml.tokens", tokens), "tokens");
  Check(w.SetArray("tokenizer.ggml.token_type", absl::MakeConstSpan(types)), "token_type");
  Check(w.SetArray("tokenizer.ggml.scores", absl::MakeConstSpan(scores)), "scores");
  Check(w.SetUint32("tokenizer.ggml.bos_token_id", 1), "bos");
  Check(w.SetUint32("tokenizer.ggml.eos_token_id", 2), "eos");
  Check(w.SetUint32("tokenizer.ggml.unknown_token_id", 0), "unk");
  Check(w.SetString("tokenizer.chat_template", "{{ bos_token }}{% for m in messages %}<|im_start|>{{ m.content }}{% endfor %}"),
        "chat_template");
  *n_vocab = tokens.size();
}

std::vector<uint8_t> TinyModel(const Spec& s) {
  GgufWriter w;
  const std::string a = s.arch;
  uint64_t n_vocab = s.vocab;
  Check(w.SetString("general.architecture", a), "arch");
  Check(w.SetString("general.name", "seed"), "name");
  if (s.tokenizer) AddTokenizer(w, &n_vocab);
  Check(w.SetUint32(a + ".context_length", 64), "ctx");
  Check(w.SetUint32(a + ".embedding_length", uint32_t(s.d)), "d");
  Check(w.SetUint32(a + ".block_count", uint32_t(s.layers)), "layers");
  Check(w.SetUint32(a + ".feed_forward_length", uint32_t(s.ff)), "ff");
  Check(w.SetUint32(a + ".attention.head_count", uint32_t(s.heads)), "heads");
  Check(w.SetUint32(a + ".attention.head_count_kv", uint32_t(s.kv_heads)), "kv");
  Check(w.SetUint32(a + ".rope.dimension_count", uint32_t(s.head_dim)), "rot");
  Check(w.SetFloat32(a + ".rope.freq_base", 10000.0f), "base");
  Check(w.SetFloat32(a + ".attention.layer_norm_rms_epsilon", 1e-6f), "eps");
  const uint64_t q = s.heads * s.head_dim, kv = s.kv_heads * s.head_dim;
  AddTensor(w, "token_embd.weight", {s.d, n_vocab}, s.type);
  AddTensor(w, "output_norm.weight", {s.d}, DType::kF32);
  if (!s.tied) AddTensor(w, "output.weight", {s.d, n_vocab}, s.type);
  for (uint64_t l = 0; l < s.layers; ++l) {
    const std::string p = absl::StrFormat("blk.%d.", l);
    AddTensor(w, p + "attn_norm.weight", {s.d}, DType::kF32);
    AddTensor(w, p + "attn_q.weight", {s.d, q}, s.type);
    AddTensor(w, p + "attn_k.weight", {s.d, kv}, s.type);
    AddTensor(w, p + "attn_v.weight", {s.d, kv}, s.type);
    if (s.bias) {
      AddTensor(w, p + "attn_q.bias", {q}, DType::kF32);
      AddTensor(w, p + "attn_k.bias", {kv}, DType::kF32);
      AddTensor(w, p + "attn_v.bias", {kv}, DType::kF32);
    }
    AddTensor(w, p + "attn_output.weight", {q, s.d}, s.type);
    AddTensor(w, p + "ffn_norm.weight", {s.d}, DType::kF32);
    AddTensor(w, p + "ffn_gate.weight", {s.d, s.ff}, s.type);
    AddTensor(w, p + "ffn_up.weight", {s.d, s.ff}, s.type);
    AddTensor(w, p + "ffn_down.weight", {s.ff, s.d}, s.type);
  }
  auto bytes = w.Serialize();
  Check(bytes.status(), "serialize");
  return bytes.ok() ? *bytes : std::vector<uint8_t>{};
}

// The test texts of a llama.cpp-style .inp file ("__ggml_vocab_test__" lines between them).
std::vector<std::string> ReadTexts(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string all = ss.str(), sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < all.size()) {
    size_t end = all.find(sep, pos);
    if (end == std::string::npos) end = all.size();
    out.push_back(all.substr(pos, end - pos));
    pos = end + sep.size();
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: make_seed_corpus SHARED_DIR OUT_DIR\n");
    return 2;
  }
  const std::string shared = argv[1];
  const fs::path out = argv[2];

  // GGUF and model loading: tiny models of each supported shape.
  std::vector<Spec> specs(6);
  specs[1].arch = "qwen2", specs[1].bias = true;
  specs[2].tied = true, specs[2].layers = 2;
  specs[3].tokenizer = true;
  specs[4].type = DType::kQ8_0, specs[4].d = 32, specs[4].heads = 4, specs[4].head_dim = 8, specs[4].kv_heads = 2,
  specs[4].ff = 32;
  specs[5].type = DType::kF16;
  for (size_t i = 0; i < specs.size(); ++i) {
    const std::vector<uint8_t> m = TinyModel(specs[i]);
    Put(out / "model_load", absl::StrFormat("tiny-%d.gguf", i), m);
    Put(out / "gguf", absl::StrFormat("tiny-%d.gguf", i), m);
  }
  {
    // Every metadata type, arrays included, in a v2 and a v3 file.
    for (uint32_t version : {2u, 3u}) {
      GgufWriter w;
      Check(w.SetVersion(version), "version");
      for (const Status& st : {w.SetUint8("u8", 1), w.SetInt8("i8", -1), w.SetUint16("u16", 2), w.SetInt16("i16", -2),
                               w.SetUint32("u32", 3), w.SetInt32("i32", -3), w.SetUint64("u64", 4),
                               w.SetInt64("i64", -4), w.SetFloat32("f32", 0.5f), w.SetFloat64("f64", 0.25),
                               w.SetBool("b", true), w.SetString("s", "text")}) {
        Check(st, "metadata");
      }
      const std::vector<int32_t> ai = {1, 2, 3};
      const std::vector<std::string> as = {"a", "bc", ""};
      Check(w.SetArray("ai", absl::MakeConstSpan(ai)), "ai");
      Check(w.SetStringArray("as", as), "as");
      Check(w.SetBoolArray("ab", {true, false}), "ab");
      AddTensor(w, "t", {4, 2}, DType::kF32);
      auto b = w.Serialize();
      if (Check(b.status(), "types")) Put(out / "gguf", absl::StrFormat("types-v%d.gguf", version), *b);
    }
  }

  // Tokenizer, stream decoder, chat: the vocabularies' test texts.
  auto vocabs = fuzz::LoadVocabs(shared);
  if (!Check(vocabs.status(), "vocabularies")) return 1;
  const std::vector<std::string> texts = ReadTexts(fs::path(shared) / "vocab" / "deepseek-r1.vocab.gguf.inp");
  for (size_t i = 0; i < texts.size(); ++i) {
    const uint8_t v = static_cast<uint8_t>(i % (*vocabs)->tokenizers.size());
    // Flags: vocabulary in bits 0-2, parse_special on for every third text.
    const uint8_t flags = static_cast<uint8_t>(v | (i % 3 == 0 ? 8 : 0) | 64);
    Put(out / "tokenizer", absl::StrFormat("text-%d", i), std::string(1, char(flags)) + texts[i]);
    auto ids = (*vocabs)->tokenizers[v]->Encode(texts[i], {});
    if (!ids.ok()) continue;
    std::string packed = {char(v | 8 | 16), char(i % 4)};
    for (int32_t id : *ids) {
      packed += char(id & 0xFF), packed += char((id >> 8) & 0xFF), packed += char((id >> 16) & 0xFF);
    }
    Put(out / "stream_decoder", absl::StrFormat("ids-%d", i), packed);
  }
  const std::string nul(1, '\0');
  const std::vector<std::string> chats = {
      "\x01" + nul + "Hello! Who are you?",
      "\x00" + nul + "You are helpful." + nul + "\x01" + nul + "What is 2+2?" + nul + "\x02" + nul +
          "<think>\nadd</think>\n\n4" + nul + "\x01" + nul + "And 3+3?",
      "\x01" + nul + "  spaces  \n" + nul + "\x02" + nul + "</think>" + nul + "\x01" + nul + "<｜User｜>",
  };
  for (size_t c = 0; c < chats.size(); ++c) {
    for (uint8_t t : {0, 1, 2, 3, 4, 5}) {
      Put(out / "chat", absl::StrFormat("chat-%d-%d", c, t), std::string(1, char(t | 8 | ((c % 4) << 4))) + chats[c]);
    }
  }

  // Jinja: the real chat templates (shared files and the vocabularies' metadata), each with a
  // conversation spelled out as role/content fields.
  std::vector<std::string> templates;
  for (const auto& e : fs::directory_iterator(fs::path(shared) / "templates")) {
    std::ifstream in(e.path(), std::ios::binary);
    templates.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  for (const auto& tok : (*vocabs)->tokenizers) {
    if (!tok->chat_template().empty()) templates.emplace_back(tok->chat_template());
  }
  const std::string conversation = nul + "system" + nul + "Be brief." + nul + "user" + nul + "Hi" + nul +
                                   "assistant" + nul + "<think>\nhm</think>\n\nHello" + nul + "user" + nul + "Again";
  for (size_t t = 0; t < templates.size(); ++t) {
    Put(out / "jinja", absl::StrFormat("template-%d", t), std::string(1, char(7)) + templates[t] + conversation);
  }

  // Session states saved on the stories model, at a few lengths.
  auto fx = fuzz::MakeStateFixture(shared);
  if (!Check(fx.status(), "state fixture")) return 1;
  const fs::path tmp = fs::temp_directory_path() / "r1-seed-state.bin";
  for (int n : {1, 3, 9}) {
    (*fx)->session->Reset();
    std::vector<int32_t> ids;
    for (int i = 0; i < n; ++i) ids.push_back(1 + i * 7);
    if (!Check((*fx)->session->Evaluate(ids), "evaluate") || !Check((*fx)->session->SaveState(tmp.string()), "save")) {
      return 1;
    }
    std::ifstream f(tmp, std::ios::binary);
    std::vector<uint8_t> b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    Put(out / "session_state", absl::StrFormat("state-%d.bin", n), b);
  }
  fs::remove(tmp);
  std::printf("make_seed_corpus: %d files under %s\n", g_count, out.string().c_str());
  return 0;
}
