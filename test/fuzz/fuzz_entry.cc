#include "fuzz_entry.h"

#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string_view>
#include <variant>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "gguf/gguf_reader.h"
#include "grammar/gbnf_parser.h"
#include "grammar/grammar_constraint.h"
#include "r1/chat.h"
#include "serve/openai_request.h"
#include "session/chat_prompt.h"
#include "tokenize/gguf_vocab.h"

namespace r1::fuzz {
namespace {

constexpr char kInvariantPayload[] = "r1.fuzz/invariant";

Status Invariant(std::string_view what) {
  Status s = absl::InternalError(absl::StrFormat("invariant broken: %s", what));
  s.SetPayload(kInvariantPayload, absl::Cord("1"));
  return s;
}

// A per-process file for targets whose API takes a path; /dev/shm keeps it off the disk.
std::string ScratchPath(std::string_view what) {
  std::error_code ec;
  std::filesystem::path dir = "/dev/shm";
  if (!std::filesystem::is_directory(dir, ec)) dir = std::filesystem::temp_directory_path(ec);
  return (dir / absl::StrFormat("r1-fuzz-%d-%s", static_cast<int>(::getpid()), what)).string();
}

bool WriteFile(const std::string& path, absl::Span<const uint8_t> data) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  const bool ok = data.empty() || std::fwrite(data.data(), 1, data.size(), f) == data.size();
  return std::fclose(f) == 0 && ok;
}

// Touches the first and last byte of a view so that AddressSanitizer sees a view that runs
// past its buffer.
uint8_t Touch(const uint8_t* p, uint64_t n) {
  if (p == nullptr || n == 0) return 0;
  return static_cast<uint8_t>(p[0] ^ p[n - 1]);
}

uint8_t Touch(std::string_view s) {
  return Touch(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// A sink the optimiser cannot remove.
volatile uint8_t g_sink;

}  // namespace

bool IsInvariantFailure(const Status& status) {
  return !status.ok() && status.GetPayload(kInvariantPayload).has_value();
}

void AbortOnInvariantFailure(const Status& status) {
  if (!IsInvariantFailure(status)) return;
  std::fprintf(stderr, "%s\n", status.ToString().c_str());
  std::abort();
}

namespace {
// The shared folder the build was configured with, unless R1_SHARED_DIR says otherwise.
std::string DefaultSharedDir() {
#ifdef R1_FUZZ_SHARED_DIR
  return SharedDirOr(R1_FUZZ_SHARED_DIR);
#else
  return SharedDirOr("../shared");
#endif
}
}  // namespace

Vocabs& VocabsOrDie() {
  static Vocabs* vocabs = [] {
    auto v = LoadVocabs(DefaultSharedDir());
    if (!v.ok()) {
      std::fprintf(stderr, "cannot load the vocabularies (set R1_SHARED_DIR): %s\n", v.status().ToString().c_str());
      std::exit(1);
    }
    return v->release();
  }();
  return *vocabs;
}

StateFixture& StateFixtureOrDie() {
  static StateFixture* fixture = [] {
    auto f = MakeStateFixture(DefaultSharedDir());
    if (!f.ok()) {
      std::fprintf(stderr, "cannot load the model (set R1_SHARED_DIR): %s\n", f.status().ToString().c_str());
      std::exit(1);
    }
    return f->release();
  }();
  return *fixture;
}

std::string SharedDirOr(const std::string& fallback) {
  const char* env = std::getenv("R1_SHARED_DIR");
  return env != nullptr && *env != '\0' ? std::string(env) : fallback;
}

// ---- GGUF -------------------------------------------------------------------------------

Status RunGguf(absl::Span<const uint8_t> data) {
  GgufLimits limits;
  // Small caps keep each run fast; the real limits are checked the same way.
  limits.max_array_elements = 1 << 16;
  limits.max_string_bytes = 1 << 16;
  R1_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> file, GgufFile::FromBuffer(data, limits));
  uint8_t acc = 0;
  for (const GgufKeyValue& kv : file->metadata()) {
    acc ^= Touch(kv.key);
    if (file->Find(kv.key) == nullptr) return Invariant("a listed key is not found");
    // Each getter either converts or refuses; none may read outside the value.
    if (auto s = file->GetString(kv.key); s.ok()) acc ^= Touch(*s);
    (void)file->GetInt(kv.key);
    (void)file->GetUint(kv.key);
    (void)file->GetFloat(kv.key);
    (void)file->GetBool(kv.key);
    auto arr = file->GetArray(kv.key);
    if (arr.ok()) {
      const GgufArray& a = **arr;
      const uint64_t n = a.size();
      for (uint64_t i : {uint64_t{0}, n / 2, n - 1, n, n + 1, ~uint64_t{0}}) {
        if (auto s = a.StringAt(i); s.ok()) {
          if (i >= n) return Invariant("StringAt accepted an index past the end");
          acc ^= Touch(*s);
        }
        if (auto v = a.IntAt(i); v.ok() && i >= n) return Invariant("IntAt accepted an index past the end");
        if (auto v = a.FloatAt(i); v.ok() && i >= n) return Invariant("FloatAt accepted an index past the end");
      }
    }
  }
  const uint8_t* begin = file->bytes().data();
  const uint8_t* end = begin + file->bytes().size();
  for (const GgufTensorInfo& t : file->tensors()) {
    acc ^= Touch(t.name);
    if (file->FindTensor(t.name) == nullptr) return Invariant("a listed tensor is not found");
    if (t.n_bytes > 0 && (t.data < begin || t.data > end || t.n_bytes > static_cast<uint64_t>(end - t.data))) {
      return Invariant("a tensor's data runs outside the file");
    }
    // The byte size must be what the shape and type say: a size that wrapped around would
    // let a tensor of many elements own a few bytes.
    const DTypeTraits tr = Traits(t.type);
    if (t.n_elements % tr.block_size != 0 || t.n_bytes / tr.type_size != t.n_elements / tr.block_size ||
        t.n_bytes % tr.type_size != 0) {
      return Invariant(absl::StrFormat("tensor '%s' (%s, %d elements) has %d bytes", t.name, tr.name, t.n_elements,
                                       t.n_bytes));
    }
    acc ^= Touch(t.data, t.n_bytes);
  }
  g_sink = acc;
  // The vocabulary reader on whatever the file holds; a tokenizer it accepts must work.
  auto tok = TokenizerFromGguf(*file);
  if (tok.ok()) {
    // A fuzzed vocabulary may have no way to write some byte (no byte token, no unknown
    // token): Encode may refuse then, but what it returns must decode.
    auto ids = (*tok)->Encode("Hello <think> w\xc3\xb6rld\n\xff \xe4\xbd\xa0\xe5\xa5\xbd", {.parse_special = true});
    if (ids.ok() && !(*tok)->Decode(*ids).ok()) return Invariant("Decode failed on Encode's ids");
  }
  return absl::OkStatus();
}

// ---- model loading ----------------------------------------------------------------------

Status RunModelLoad(absl::Span<const uint8_t> data) {
  static const std::string path = ScratchPath("model.gguf");
  if (!WriteFile(path, data)) return absl::UnavailableError("cannot write the scratch file");
  LoadOptions load;
  load.n_threads = 1;
  auto model = Model::Load(path, load);
  std::remove(path.c_str());
  if (!model.ok()) return model.status();
  const ModelConfig& c = (*model)->config();
  if (c.n_vocab <= 0 || c.n_layers <= 0 || c.d_model <= 0) return Invariant("a loaded model has an empty shape");
  if (const Tokenizer* tok = (*model)->tokenizer(); tok != nullptr) {
    auto ids = tok->Encode("Hi there", {});
    if (ids.ok() && !tok->Decode(*ids).ok()) return Invariant("Decode failed on Encode's ids");
  }
  SessionOptions so;
  so.n_ctx = 8;
  so.n_threads = 1;
  R1_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::Create(*model, so));
  const int32_t last = static_cast<int32_t>(c.n_vocab - 1);
  R1_RETURN_IF_ERROR(session->Evaluate(std::vector<int32_t>{0, last}));
  if (session->Logits().size() != static_cast<size_t>(c.n_vocab)) return Invariant("logits are not n_vocab long");
  if (session->Evaluate(std::vector<int32_t>{static_cast<int32_t>(c.n_vocab)}).ok()) {
    return Invariant("Evaluate accepted an id past the vocabulary");
  }
  return absl::OkStatus();
}

// ---- tokenizer, stream decoder, chat ----------------------------------------------------

StatusOr<std::unique_ptr<Vocabs>> LoadVocabs(const std::string& shared_dir) {
  auto v = std::make_unique<Vocabs>();
  for (const char* name : {"vocab/deepseek-r1.vocab.gguf", "vocab/r1-distill-qwen.vocab.gguf",
                           "vocab/r1-distill-llama.vocab.gguf", "vocab/ggml-vocab-llama-spm.gguf"}) {
    R1_ASSIGN_OR_RETURN(std::unique_ptr<Tokenizer> tok, Tokenizer::Load(shared_dir + "/" + name));
    v->tokenizers.push_back(std::move(tok));
    v->names.push_back(name);
  }
  return v;
}

Status RunTokenizer(const Vocabs& vocabs, absl::Span<const uint8_t> data) {
  if (data.empty() || vocabs.tokenizers.empty()) return absl::OkStatus();
  const uint8_t flags = data[0];
  const Tokenizer& tok = *vocabs.tokenizers[(flags & 7) % vocabs.tokenizers.size()];
  const std::string_view text(reinterpret_cast<const char*>(data.data() + 1), data.size() - 1);
  EncodeOptions eo;
  eo.parse_special = (flags & 8) != 0;
  eo.add_bos = (flags & 16) != 0;
  eo.add_eos = (flags & 32) != 0;
  auto ids = tok.Encode(text, eo);
  if (!ids.ok()) return Invariant(absl::StrFormat("Encode failed: %s", ids.status().message()));
  for (int32_t id : *ids) {
    if (id < 0 || id >= tok.n_vocab()) return Invariant("Encode produced an id outside the vocabulary");
  }
  DecodeOptions d;
  d.render_special = (flags & 64) != 0;
  d.replace_invalid_utf8 = (flags & 128) != 0;
  auto decoded = tok.Decode(*ids, d);
  if (!decoded.ok()) return Invariant(absl::StrFormat("Decode of Encode's ids failed: %s", decoded.status().message()));
  // Byte-level BPE without a normaliser (DeepSeek-V3, Llama 3) gives back any bytes exactly
  // when nothing is added and control tokens stay text.
  const bool lossless = tok.model() == "gpt2" && (tok.pre() == "deepseek-v3" || tok.pre() == "llama-bpe");
  if (lossless && !eo.parse_special && !*eo.add_bos && !*eo.add_eos && d.render_special &&
      !d.replace_invalid_utf8 && *decoded != text) {
    return Invariant("Decode(Encode(text)) differs from text");
  }
  return absl::OkStatus();
}

Status RunStreamDecoder(const Vocabs& vocabs, absl::Span<const uint8_t> data) {
  if (data.size() < 2 || vocabs.tokenizers.empty()) return absl::OkStatus();
  const uint8_t flags = data[0];
  const Tokenizer& tok = *vocabs.tokenizers[(flags & 7) % vocabs.tokenizers.size()];
  const int32_t n_vocab = tok.n_vocab();
  DecodeOptions d;
  d.render_special = (flags & 8) != 0;
  d.strip_prefix_space = (flags & 16) != 0;
  d.replace_invalid_utf8 = (flags & 32) != 0;
  std::vector<int32_t> ids;
  for (size_t i = 2; i + 3 <= data.size(); i += 3) {
    const uint32_t v = data[i] | (uint32_t{data[i + 1]} << 8) | (uint32_t{data[i + 2]} << 16);
    if ((v >> 20) == 0xF) {
      const int32_t bad[] = {-1, INT_MIN, INT_MAX, n_vocab, n_vocab + 1, -n_vocab, INT_MIN + 1, n_vocab * 2};
      ids.push_back(bad[v & 7]);
    } else {
      ids.push_back(static_cast<int32_t>(v % static_cast<uint32_t>(n_vocab)));
    }
  }
  std::vector<int32_t> valid;
  for (int32_t id : ids) {
    if (id >= 0 && id < n_vocab) valid.push_back(id);
  }
  auto whole = tok.Decode(ids, d);
  if (whole.ok() != (valid.size() == ids.size())) return Invariant("Decode's answer to out-of-range ids");
  const size_t n_prime = std::min<size_t>(data[1], ids.size());
  StreamDecoder sd(tok, d);
  const bool primed = n_prime > 0;
  if (primed) {
    Status s = sd.Prime(absl::MakeConstSpan(ids).first(n_prime));
    const bool all_valid = std::all_of(ids.begin(), ids.begin() + n_prime, [&](int32_t id) { return id >= 0 && id < n_vocab; });
    if (s.ok() != all_valid) return Invariant("Prime's answer to out-of-range ids");
  }
  std::string streamed;
  for (size_t i = primed ? n_prime : 0; i < ids.size(); ++i) {
    auto piece = sd.Push(ids[i]);
    const bool in_range = ids[i] >= 0 && ids[i] < n_vocab;
    if (piece.ok() != in_range) return Invariant("Push's answer to an id");
    if (piece.ok()) streamed += *piece;
  }
  streamed += sd.Flush();
  if (!primed) {
    auto expected = tok.Decode(valid, d);
    if (!expected.ok()) return Invariant("Decode failed on in-range ids");
    if (streamed != *expected) return Invariant("streamed text differs from Decode");
  }
  // After Flush the decoder starts over: the same ids stream the same text again.
  sd.Reset();
  std::string again;
  for (int32_t id : valid) {
    if (auto p = sd.Push(id); p.ok()) again += *p;
  }
  again += sd.Flush();
  auto expected = tok.Decode(valid, d);
  if (!expected.ok() || again != *expected) return Invariant("a reset decoder streams different text");
  return absl::OkStatus();
}

Status RunChat(const Vocabs& vocabs, absl::Span<const uint8_t> data) {
  if (data.empty()) return absl::OkStatus();
  const uint8_t flags = data[0];
  const std::string_view rest(reinterpret_cast<const char*>(data.data() + 1), data.size() - 1);
  static constexpr const char* kRoles[] = {"system", "user", "assistant", "tool", "developer", ""};
  std::vector<ChatMessage> messages;
  size_t pos = 0;
  while (pos <= rest.size() && messages.size() < 64) {
    size_t end = rest.find('\0', pos);
    if (end == std::string_view::npos) end = rest.size();
    std::string_view role = rest.substr(pos, end - pos);
    pos = end + 1;
    size_t cend = pos <= rest.size() ? rest.find('\0', pos) : std::string_view::npos;
    if (cend == std::string_view::npos) cend = rest.size();
    std::string_view content = pos <= rest.size() ? rest.substr(pos, cend - pos) : std::string_view();
    pos = cend + 1;
    ChatMessage m;
    // One-byte roles name the usual ones, so most inputs reach the renderers.
    m.role = role.size() == 1 ? kRoles[static_cast<uint8_t>(role[0]) % 6] : std::string(role);
    m.content = std::string(content);
    messages.push_back(std::move(m));
  }
  (void)DetectChatTemplate(rest);
  (void)ChatTemplateFromName(rest);
  const bool gen_prompt = (flags & 8) != 0;
  const unsigned which = flags & 7;
  StatusOr<std::string> prompt = absl::UnknownError("");
  const Tokenizer* tok = vocabs.tokenizers.empty() ? nullptr : vocabs.tokenizers[(flags >> 4) % vocabs.tokenizers.size()].get();
  if (which < 5) {
    ChatFormatOptions o;
    o.add_generation_prompt = gen_prompt;
    if (flags & 64) o.bos_token = "<s>";
    prompt = FormatChat(static_cast<ChatTemplate>(which), messages, o);
  } else if (tok != nullptr) {
    prompt = FormatChat(*tok, messages, gen_prompt);
  }
  if (!prompt.ok()) return prompt.status();
  if (tok != nullptr) {
    auto ids = tok->Encode(*prompt, {.add_bos = false, .parse_special = true});
    if (!ids.ok()) return Invariant("Encode failed on a formatted chat");
  }
  return absl::OkStatus();
}

// ---- r1 serve's request bodies ------------------------------------------------------------

Status RunOpenAiRequest(absl::Span<const uint8_t> data) {
  if (data.empty()) return absl::OkStatus();
  serve::RequestLimits limits;
  if (data[0] & 1) limits = {.max_messages = 3, .max_stop_strings = 2};
  const std::string_view body(reinterpret_cast<const char*>(data.data() + 1), data.size() - 1);
  for (const bool chat : {true, false}) {
    const serve::ParsedRequest parsed = chat ? serve::ParseChatRequest(body, limits)
                                             : serve::ParseCompletionRequest(body, limits);
    if (const auto* error = std::get_if<serve::ApiError>(&parsed)) {
      if (error->http_status < 400 || error->http_status >= 500 || error->type.empty() || error->message.empty()) {
        return Invariant("a request error without a 4xx status, a type and a message");
      }
      continue;
    }
    const serve::CompletionRequest& r = std::get<serve::CompletionRequest>(parsed);
    if (r.chat != chat || (chat && (r.messages.empty() || r.messages.size() > limits.max_messages)) ||
        r.stop.size() > limits.max_stop_strings) {
      return Invariant("a parsed request outside the limits");
    }
    const GenerateOptions o = serve::ToGenerateOptions(r, GenerateOptions{}, 64);
    if (o.max_new_tokens > 64) return Invariant("max_tokens above the server's cap");
  }
  return absl::OkStatus();
}

// ---- GBNF grammars ------------------------------------------------------------------------

Status RunGrammar(absl::Span<const uint8_t> data) {
  const std::string_view all(reinterpret_cast<const char*>(data.data()), data.size());
  const size_t split = std::min(all.find('\0'), all.size());
  const std::string_view gbnf = all.substr(0, split);
  const std::string_view text = all.substr(std::min(split + 1, all.size()));
  auto parsed = grammar::ParseGbnf(gbnf);
  if (!parsed.ok()) {
    if (parsed.status().code() != absl::StatusCode::kInvalidArgument ||
        !absl::StartsWith(parsed.status().message(), "line ")) {
      return Invariant("a grammar error without a line and column");
    }
    return parsed.status();
  }
  grammar::GrammarMatcher matcher(*parsed);
  std::string before, after;
  for (size_t i = 0; i < text.size() && i < 256; ++i) {
    before.clear();
    matcher.AppendKey(&before);
    if (matcher.AcceptByte(static_cast<uint8_t>(text[i]))) continue;
    after.clear();
    matcher.AppendKey(&after);
    if (before != after) return Invariant("a refused byte changed the matcher");
  }
  // A small vocabulary with whole and partial characters; the mask must equal trying each.
  using Kind = grammar::TokenVocabulary::Kind;
  static const std::shared_ptr<const grammar::TokenVocabulary> vocab = grammar::TokenVocabulary::FromPieces(
      {"a", "b", "ab", "{", "}", "\"", " ", "\n", "0", "12", "true", "\xC3", "\xA9", "\xC3\xA9", "\xE3\x81",
       "\x82", "\xE2\x82\xAC", "x\xF0", "<eos>", "<ctl>"},
      {Kind::kText, Kind::kText, Kind::kText, Kind::kText, Kind::kText, Kind::kText, Kind::kText,
       Kind::kText, Kind::kText, Kind::kText, Kind::kText, Kind::kText, Kind::kText, Kind::kText,
       Kind::kText, Kind::kText, Kind::kText, Kind::kText, Kind::kEndOfGeneration, Kind::kNever});
  grammar::GrammarAutomaton automaton(matcher, 64);
  grammar::TokenMasker masker(vocab);
  int32_t state = automaton.start();
  const grammar::AllowedTokens& allowed = masker.Allowed(automaton, &state);
  for (int32_t id = 0; id < vocab->size(); ++id) {
    bool expected = false;
    if (vocab->kind(id) == Kind::kText) {
      grammar::GrammarMatcher copy = matcher;
      expected = copy.AcceptBytes(vocab->bytes(id));
    } else if (vocab->kind(id) == Kind::kEndOfGeneration) {
      expected = matcher.complete();
    }
    if (allowed.Contains(id) != expected) return Invariant("the token mask differs from trying each token");
  }
  return absl::OkStatus();
}

// ---- Jinja chat templates -----------------------------------------------------------------

Status RunJinja(absl::Span<const uint8_t> data) {
  if (data.empty()) return absl::OkStatus();
  const uint8_t flags = data[0];
  const std::string_view rest(reinterpret_cast<const char*>(data.data() + 1), data.size() - 1);
  const size_t source_end = std::min(rest.find('\0'), rest.size());
  const std::string_view source = rest.substr(0, source_end);
  std::vector<ChatMessage> messages;
  size_t pos = source_end + 1;
  while (pos <= rest.size() && messages.size() < 64) {
    size_t end = std::min(rest.find('\0', pos), rest.size());
    ChatMessage m;
    m.role = std::string(rest.substr(pos, end - pos));
    pos = end + 1;
    if (pos <= rest.size()) {
      end = std::min(rest.find('\0', pos), rest.size());
      m.content = std::string(rest.substr(pos, end - pos));
      pos = end + 1;
    }
    messages.push_back(std::move(m));
  }
  ChatFormatOptions o;
  o.add_generation_prompt = (flags & 1) != 0;
  if (flags & 2) o.bos_token = "<s>";
  if (flags & 4) o.eos_token = "</s>";
  StatusOr<std::string> out = FormatChatJinja(source, messages, o);
  if (out.ok()) {
    if (out->size() > (size_t{16} << 20)) return Invariant("Jinja output over its 16 MiB bound");
    return absl::OkStatus();
  }
  // Bad templates are InvalidArgument (syntax, types, raise_exception) or ResourceExhausted
  // (a bound reached); anything else is a bug.
  const absl::StatusCode code = out.status().code();
  if (code != absl::StatusCode::kInvalidArgument && code != absl::StatusCode::kResourceExhausted) {
    return Invariant(absl::StrFormat("Jinja render failed with an unexpected status: %s",
                                     out.status().ToString()));
  }
  if (out.status().message().empty()) return Invariant("Jinja error without a message");
  return out.status();
}

// ---- session state ----------------------------------------------------------------------

StatusOr<std::unique_ptr<StateFixture>> MakeStateFixture(const std::string& shared_dir) {
  auto f = std::make_unique<StateFixture>();
  LoadOptions lo;
  lo.n_threads = 1;
  R1_ASSIGN_OR_RETURN(f->model, Model::Load(shared_dir + "/models/stories260K-q8dequant.gguf", lo));
  SessionOptions so;
  so.n_ctx = 64;
  so.n_threads = 1;
  R1_ASSIGN_OR_RETURN(f->session, Session::Create(f->model, so));
  f->scratch_path = ScratchPath("state.bin");
  return f;
}

Status RunSessionState(StateFixture& fx, absl::Span<const uint8_t> data) {
  if (!WriteFile(fx.scratch_path, data)) return absl::UnavailableError("cannot write the scratch file");
  Status loaded = fx.session->LoadState(fx.scratch_path);
  std::remove(fx.scratch_path.c_str());
  if (!loaded.ok()) {
    // A refused file leaves a usable session.
    fx.session->Reset();
    Status s = fx.session->Evaluate(std::vector<int32_t>{1});
    if (!s.ok()) return Invariant(absl::StrFormat("Evaluate after a refused state: %s", s.message()));
    fx.session->Reset();
    return loaded;
  }
  const int64_t n_past = fx.session->n_past();
  if (n_past < 0 || n_past > fx.session->n_ctx() || fx.session->tokens().size() != static_cast<size_t>(n_past)) {
    return Invariant("a loaded state has an impossible length");
  }
  const int32_t n_vocab = static_cast<int32_t>(fx.model->config().n_vocab);
  for (int32_t id : fx.session->tokens()) {
    if (id < 0 || id >= n_vocab) return Invariant("a loaded state holds an id outside the vocabulary");
  }
  if (n_past < fx.session->n_ctx()) {
    Status s = fx.session->Evaluate(std::vector<int32_t>{1});
    if (!s.ok()) return Invariant(absl::StrFormat("Evaluate after a loaded state: %s", s.message()));
  }
  fx.session->Reset();
  return absl::OkStatus();
}

}  // namespace r1::fuzz
