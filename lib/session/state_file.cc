// state_file.cc — Session::SaveState / LoadState.
//
// Layout (little-endian):
//   "R1STATE\0"  u32 version (1)  u32 0
//   u64 model fingerprint  u64 n_layers  u64 n_kv_dim  u64 n_vocab  u64 n_tokens
//   i32 tokens[n_tokens]
//   u64 n_logit_values (0 or n_vocab)  f32 logits[n_logit_values]   (the last token's)
//   per layer: f32 keys[n_tokens][n_kv_dim], f32 values[n_tokens][n_v_dim]
// n_v_dim is the cache's value width: n_kv_dim for dense models, 0 for MLA (deepseek2), whose
// key rows hold the latent and the rotary key part. Both follow from the model (fingerprint).
#include <cstdio>
#include <cstring>
#include <memory>

#include "absl/strings/str_format.h"
#include "session/session_impl.h"

namespace r1 {
namespace {

constexpr char kMagic[8] = {'R', '1', 'S', 'T', 'A', 'T', 'E', '\0'};
constexpr uint32_t kVersion = 1;

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t reserved;
  uint64_t fingerprint, n_layers, n_kv_dim, n_vocab, n_tokens;
};

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<FILE, FileCloser>;

}  // namespace

Status Session::SaveState(const std::string& path) const {
  const Impl& s = *impl_;
  const ModelConfig& c = s.model->config();
  const std::string tmp = path + ".tmp";
  File f(std::fopen(tmp.c_str(), "wb"));
  if (!f) return absl::UnavailableError(absl::StrFormat("cannot write '%s'", tmp));
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof(kMagic));
  h.version = kVersion;
  h.fingerprint = s.model->impl().fingerprint;
  h.n_layers = static_cast<uint64_t>(c.n_layers);
  h.n_kv_dim = static_cast<uint64_t>(s.kv.n_kv_dim());
  h.n_vocab = static_cast<uint64_t>(c.n_vocab);
  h.n_tokens = s.tokens.size();
  const auto last_logits = Logits();
  const uint64_t n_logit_values = last_logits.size();
  bool ok = std::fwrite(&h, sizeof(h), 1, f.get()) == 1 &&
            std::fwrite(s.tokens.data(), sizeof(int32_t), s.tokens.size(), f.get()) == s.tokens.size() &&
            std::fwrite(&n_logit_values, sizeof(n_logit_values), 1, f.get()) == 1 &&
            std::fwrite(last_logits.data(), sizeof(float), n_logit_values, f.get()) == n_logit_values;
  const size_t n_keys = s.tokens.size() * h.n_kv_dim;
  const size_t n_values = s.tokens.size() * static_cast<size_t>(s.kv.n_v_dim());
  for (int64_t l = 0; ok && l < c.n_layers; ++l) {
    KvCache& kv = const_cast<KvCache&>(s.kv);  // read only; the accessors are shared with writers
    ok = std::fwrite(kv.Keys(l), sizeof(float), n_keys, f.get()) == n_keys &&
         (n_values == 0 || std::fwrite(kv.Values(l), sizeof(float), n_values, f.get()) == n_values);
  }
  ok = std::fclose(f.release()) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return absl::UnavailableError(absl::StrFormat("error writing '%s'", path));
  }
  return absl::OkStatus();
}

Status Session::LoadState(const std::string& path) {
  Impl& s = *impl_;
  const ModelConfig& c = s.model->config();
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) return absl::NotFoundError(absl::StrFormat("cannot open state file '%s'", path));
  auto invalid = [&](std::string_view what) {
    return absl::InvalidArgumentError(absl::StrFormat("state file '%s': %s", path, what));
  };
  std::fseek(f.get(), 0, SEEK_END);
  const long file_size = std::ftell(f.get());
  std::fseek(f.get(), 0, SEEK_SET);
  Header h{};
  if (file_size < static_cast<long>(sizeof(h)) || std::fread(&h, sizeof(h), 1, f.get()) != 1) {
    return invalid("too short");
  }
  if (std::memcmp(h.magic, kMagic, sizeof(kMagic)) != 0) return invalid("not an r1 state file");
  if (h.version != kVersion) return invalid(absl::StrFormat("unsupported version %d", h.version));
  if (h.fingerprint != s.model->impl().fingerprint || h.n_layers != static_cast<uint64_t>(c.n_layers) ||
      h.n_kv_dim != static_cast<uint64_t>(s.kv.n_kv_dim()) || h.n_vocab != static_cast<uint64_t>(c.n_vocab)) {
    return absl::FailedPreconditionError(
        absl::StrFormat("state file '%s' was saved with a different model than '%s'", path, s.model->path()));
  }
  if (h.n_tokens > static_cast<uint64_t>(s.n_ctx)) {
    return absl::OutOfRangeError(absl::StrFormat("state file '%s' holds %d tokens but this session's context is %d",
                                                 path, h.n_tokens, s.n_ctx));
  }
  // Every size below is bounded by n_ctx and the model, so the expected length cannot overflow.
  uint64_t n_logit_values = 0;
  const uint64_t n_v_dim = static_cast<uint64_t>(s.kv.n_v_dim());
  const uint64_t kv_bytes = h.n_layers * h.n_tokens * (h.n_kv_dim + n_v_dim) * sizeof(float);
  const uint64_t before_logits = sizeof(h) + h.n_tokens * sizeof(int32_t);
  if (static_cast<uint64_t>(file_size) < before_logits + sizeof(uint64_t)) return invalid("truncated");

  std::vector<int32_t> tokens(h.n_tokens);
  if (std::fread(tokens.data(), sizeof(int32_t), tokens.size(), f.get()) != tokens.size() ||
      std::fread(&n_logit_values, sizeof(n_logit_values), 1, f.get()) != 1) {
    return invalid("truncated");
  }
  if (n_logit_values != 0 && n_logit_values != h.n_vocab) return invalid("bad logits length");
  if (static_cast<uint64_t>(file_size) != before_logits + sizeof(uint64_t) + n_logit_values * sizeof(float) + kv_bytes) {
    return invalid("its size does not match its header");
  }
  for (int32_t id : tokens) {
    if (id < 0 || id >= c.n_vocab) return invalid(absl::StrFormat("token id %d is outside the vocabulary", id));
  }
  std::vector<float> logits(n_logit_values);
  if (std::fread(logits.data(), sizeof(float), logits.size(), f.get()) != logits.size()) return invalid("truncated");
  const size_t n_keys = h.n_tokens * h.n_kv_dim;
  const size_t n_values = h.n_tokens * n_v_dim;
  for (int64_t l = 0; l < c.n_layers; ++l) {
    if (std::fread(s.kv.Keys(l), sizeof(float), n_keys, f.get()) != n_keys ||
        (n_values != 0 && std::fread(s.kv.Values(l), sizeof(float), n_values, f.get()) != n_values)) {
      s.tokens.clear();  // the cache is partly overwritten: start from an empty context
      s.logits = nullptr;
      s.n_logit_rows = 0;
      return invalid("truncated");
    }
  }
  s.tokens = std::move(tokens);
  s.tokens.reserve(static_cast<size_t>(s.n_ctx));
  if (logits.empty()) {
    s.logits = nullptr;
    s.n_logit_rows = 0;
  } else {
    std::copy(logits.begin(), logits.end(), s.acts.logits.begin());
    s.logits = s.acts.logits.data();
    s.n_logit_rows = 1;
  }
  return absl::OkStatus();
}

}  // namespace r1
