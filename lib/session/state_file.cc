// state_file.cc — Session::SaveState / LoadState.
//
// Layout (little-endian):
//   "R1STATE\0"  u32 version (2)  u32 cache type (GGUF type id: 0 f32, 1 f16, 8 q8_0)
//   u64 model fingerprint  u64 n_layers  u64 n_kv_dim  u64 n_vocab  u64 n_tokens
//   i32 tokens[n_tokens]
//   u64 n_logit_values (0 or n_vocab)  f32 logits[n_logit_values]   (the last token's)
//   per layer: key rows[n_tokens], value rows[n_tokens], each row as the cache type stores it
// n_v_dim is the cache's value width: n_kv_dim for dense models, 0 for MLA (deepseek2), whose
// key rows hold the latent and the rotary key part. Both follow from the model (fingerprint).
// Version 1 files are the same with f32 rows and a zero type. A file whose cache type differs
// from the session's is converted row by row on load.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>

#include "absl/strings/str_format.h"
#include "quant/quant_kernels.h"
#include "session/session_impl.h"

namespace r1 {
namespace {

constexpr char kMagic[8] = {'R', '1', 'S', 'T', 'A', 'T', 'E', '\0'};
constexpr uint32_t kVersion = 2;

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t cache_type;
  uint64_t fingerprint, n_layers, n_kv_dim, n_vocab, n_tokens;
};

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<FILE, FileCloser>;

// Reads every layer's key and value rows, stored as `stored`, into the cache: straight in
// when the types agree, else through f32.
bool ReadCacheRows(FILE* f, DType stored, uint64_t k_row, uint64_t v_row, uint64_t n_tokens, const KvCache& kv) {
  const auto to_float = GetQuantKernels(Isa::kScalar, stored)->to_float;
  const bool same = stored == kv.type();
  std::vector<uint8_t> row(same ? 0 : std::max(k_row, v_row));
  std::vector<float> values(same ? 0 : static_cast<size_t>(std::max(kv.n_k_dim(), kv.n_v_dim())));
  for (int64_t l = 0; l < kv.n_layers(); ++l) {
    for (const bool keys : {true, false}) {
      const uint64_t bytes = keys ? k_row : v_row;
      if (bytes == 0) continue;
      if (same) {
        uint8_t* dst = keys ? kv.KeyRow(l, 0) : kv.ValueRow(l, 0);
        if (n_tokens != 0 && std::fread(dst, bytes, n_tokens, f) != n_tokens) return false;
        continue;
      }
      for (uint64_t p = 0; p < n_tokens; ++p) {
        if (std::fread(row.data(), bytes, 1, f) != 1) return false;
        const int64_t pos = static_cast<int64_t>(p);
        if (keys) {
          to_float(row.data(), values.data(), kv.n_k_dim());
          kv.StoreKeys(l, pos, 1, values.data(), 0);
        } else {
          to_float(row.data(), values.data(), kv.n_v_dim());
          kv.StoreValues(l, pos, 1, values.data(), 0);
        }
      }
    }
  }
  return true;
}

}  // namespace

Status Session::SaveState(const std::string& path) const {
  const Impl& s = *impl_;
  if (s.device_layers != nullptr) {
    return absl::FailedPreconditionError("SaveState: the session's GPU layers keep their cache on the device");
  }
  const ModelConfig& c = s.model->config();
  const std::string tmp = path + ".tmp";
  File f(std::fopen(tmp.c_str(), "wb"));
  if (!f) return absl::UnavailableError(absl::StrFormat("cannot write '%s'", tmp));
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof(kMagic));
  h.version = kVersion;
  h.cache_type = static_cast<uint32_t>(s.kv.type());
  h.fingerprint = s.model->impl().fingerprint;
  h.n_layers = static_cast<uint64_t>(c.n_layers);
  h.n_kv_dim = static_cast<uint64_t>(s.kv.n_k_dim());
  h.n_vocab = static_cast<uint64_t>(c.n_vocab);
  h.n_tokens = s.tokens.size();
  const auto last_logits = Logits();
  const uint64_t n_logit_values = last_logits.size();
  bool ok = std::fwrite(&h, sizeof(h), 1, f.get()) == 1 &&
            std::fwrite(s.tokens.data(), sizeof(int32_t), s.tokens.size(), f.get()) == s.tokens.size() &&
            std::fwrite(&n_logit_values, sizeof(n_logit_values), 1, f.get()) == 1 &&
            std::fwrite(last_logits.data(), sizeof(float), n_logit_values, f.get()) == n_logit_values;
  const size_t n_tokens = s.tokens.size();
  for (int64_t l = 0; ok && l < c.n_layers; ++l) {
    // A layer's rows are consecutive in the cache.
    ok = (n_tokens == 0 || std::fwrite(s.kv.KeyRow(l, 0), s.kv.k_row_bytes(), n_tokens, f.get()) == n_tokens) &&
         (n_tokens == 0 || s.kv.n_v_dim() == 0 ||
          std::fwrite(s.kv.ValueRow(l, 0), s.kv.v_row_bytes(), n_tokens, f.get()) == n_tokens);
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
  if (s.device_layers != nullptr) {
    return absl::FailedPreconditionError("LoadState: the session's GPU layers keep their cache on the device");
  }
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
  if (h.version != 1 && h.version != kVersion) return invalid(absl::StrFormat("unsupported version %d", h.version));
  const DType stored = h.version == 1 ? DType::kF32 : static_cast<DType>(h.cache_type);
  if (h.version == 1 && h.cache_type != 0) return invalid("bad header");
  if (stored != DType::kF32 && stored != DType::kF16 && stored != DType::kQ8_0) {
    return invalid(absl::StrFormat("unknown cache type %d", h.cache_type));
  }
  if (h.fingerprint != s.model->impl().fingerprint || h.n_layers != static_cast<uint64_t>(c.n_layers) ||
      h.n_kv_dim != static_cast<uint64_t>(s.kv.n_k_dim()) || h.n_vocab != static_cast<uint64_t>(c.n_vocab)) {
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
  const auto row_bytes = [stored](uint64_t width) { return width == 0 ? 0 : RowBytes(stored, width).value_or(0); };
  const uint64_t k_row = row_bytes(h.n_kv_dim), v_row = row_bytes(n_v_dim);
  if (k_row == 0 || (n_v_dim != 0 && v_row == 0)) return invalid("its cache rows do not fit the cache type");
  const uint64_t kv_bytes = h.n_layers * h.n_tokens * (k_row + v_row);
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
  s.TruncateHidden(0);  // a multi-token-prediction draft starts over after the loaded context
  if (!ReadCacheRows(f.get(), stored, k_row, v_row, h.n_tokens, s.kv)) {
    s.tokens.clear();  // the cache is partly overwritten: start from an empty context
    s.logits = nullptr;
    s.n_logit_rows = 0;
    return invalid("truncated");
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
