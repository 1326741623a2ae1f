// perplexity.cc — chunked perplexity and the KL divergence from a base model's saved
// log-probabilities, in llama-perplexity's definitions and file format.
#include "tools/perplexity.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include "absl/strings/str_format.h"
#include "r1/model.h"
#include "r1/tokenizer.h"

namespace r1::tools {
namespace {

constexpr char kBaseMagic[8] = {'_', 'l', 'o', 'g', 'i', 't', 's', '_'};
constexpr float kBaseWindow = 16.0f;  // log-probabilities below top - 16 nats are stored as the floor

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<FILE, FileCloser>;

// uint16 entries of one stored row: two f32 (step, floor) then one code per token, padded to
// an even count.
size_t BaseRowEntries(int64_t n_vocab) { return static_cast<size_t>(2 * ((n_vocab + 1) / 2) + 4); }

struct RowStats {
  float max_logit;
  float log_sum_exp;  // log Σ exp(l - max)
  int32_t argmax;
};

RowStats Softmax(absl::Span<const float> logits) {
  RowStats s{logits[0], 0.0f, 0};
  for (size_t i = 1; i < logits.size(); ++i) {
    if (logits[i] > s.max_logit) s.max_logit = logits[i], s.argmax = static_cast<int32_t>(i);
  }
  double sum = 0.0;
  for (float l : logits) sum += std::exp(l - s.max_logit);
  s.log_sum_exp = static_cast<float>(std::log(sum));
  return s;
}

// The 16-bit form of a row's log-probabilities: code c stands for floor + step * c.
void EncodeBaseRow(absl::Span<const float> logits, const RowStats& s, uint16_t* out) {
  float min_logit = s.max_logit;
  for (float l : logits) min_logit = std::min(min_logit, l);
  min_logit = std::max(min_logit, s.max_logit - kBaseWindow);
  const float floor = min_logit - s.max_logit - s.log_sum_exp;
  const float step = (s.max_logit - min_logit) / 65535.0f;
  std::memcpy(out, &step, sizeof(step));
  std::memcpy(out + 2, &floor, sizeof(floor));
  uint16_t* codes = out + 4;
  const size_t n = logits.size();
  if (step == 0.0f) {
    std::fill(codes, codes + n, 0);
    return;
  }
  const float inv = 1.0f / step;
  for (size_t i = 0; i < n; ++i) {
    codes[i] = logits[i] > min_logit ? static_cast<uint16_t>(std::nearbyint(inv * (logits[i] - min_logit))) : 0;
  }
}

double Percentile(std::vector<double> v, double fraction) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const double pos = fraction * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

// Accumulates the KL divergence of the model's rows from the base rows.
struct KlAccumulator {
  std::vector<double> kld, delta_p;
  double sum_nll_base = 0;
  int64_t same_top = 0;

  void Add(absl::Span<const float> logits, const RowStats& s, const uint16_t* base, int32_t next) {
    float step, floor;
    std::memcpy(&step, base, sizeof(step));
    std::memcpy(&floor, base + 2, sizeof(floor));
    const uint16_t* codes = base + 4;
    const float log_norm = s.max_logit + s.log_sum_exp;
    double sum = 0.0;
    int32_t base_top = 0;
    float base_top_lp = 0.0f;
    for (size_t i = 0; i < logits.size(); ++i) {
      const float lp_base = step * static_cast<float>(codes[i]) + floor;
      if (i == 0 || lp_base > base_top_lp) base_top_lp = lp_base, base_top = static_cast<int32_t>(i);
      if (lp_base > -kBaseWindow) sum += std::exp(lp_base) * (lp_base - (logits[i] - log_norm));
    }
    kld.push_back(sum);
    same_top += base_top == s.argmax;
    const float lp_base_next = step * static_cast<float>(codes[next]) + floor;
    sum_nll_base -= lp_base_next;
    delta_p.push_back(std::exp(logits[next] - log_norm) - std::exp(lp_base_next));
  }

  KlDivergence Result() const {
    KlDivergence r;
    const double n = static_cast<double>(kld.size());
    double s = 0, s2 = 0, d2 = 0;
    for (double v : kld) s += v, s2 += v * v;
    for (double v : delta_p) d2 += v * v;
    r.mean = s / n;
    r.mean_error = n > 1 ? std::sqrt(std::max(0.0, s2 / n - r.mean * r.mean) / (n - 1)) : 0.0;
    r.median = Percentile(kld, 0.5);
    r.p99 = Percentile(kld, 0.99);
    r.max = Percentile(kld, 1.0);
    r.same_top = static_cast<double>(same_top) / n;
    r.base_ppl = std::exp(sum_nll_base / n);
    r.rms_delta_p = std::sqrt(d2 / n);
    r.delta_p_p1 = Percentile(delta_p, 0.01);
    r.delta_p_median = Percentile(delta_p, 0.5);
    r.delta_p_p99 = Percentile(delta_p, 0.99);
    return r;
  }
};

Status ReadExactly(FILE* f, void* p, size_t bytes, const std::string& path) {
  if (std::fread(p, 1, bytes, f) != bytes) {
    return absl::InvalidArgumentError(absl::StrFormat("'%s' ends early: not a complete base log-probability file", path));
  }
  return absl::OkStatus();
}

// The header of a base file: magic, then the context, vocabulary size and chunk count.
struct BaseHeader {
  uint32_t ctx = 0;
  int32_t vocab = 0, chunks = 0;
};

// Opens a base file and reads its header, positioned after it.
StatusOr<File> OpenBaseHeader(const std::string& path, BaseHeader& h) {
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) return absl::NotFoundError(absl::StrFormat("cannot open '%s': %s", path, std::strerror(errno)));
  char magic[8];
  R1_RETURN_IF_ERROR(ReadExactly(f.get(), magic, sizeof(magic), path));
  if (std::memcmp(magic, kBaseMagic, sizeof(magic)) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat("'%s' is not a base log-probability file", path));
  }
  R1_RETURN_IF_ERROR(ReadExactly(f.get(), &h.ctx, sizeof(h.ctx), path));
  R1_RETURN_IF_ERROR(ReadExactly(f.get(), &h.vocab, sizeof(h.vocab), path));
  R1_RETURN_IF_ERROR(ReadExactly(f.get(), &h.chunks, sizeof(h.chunks), path));
  return f;
}

// Opens a base file, checks its header against the model and its size against the header, and
// returns its tokens and n_ctx.
StatusOr<File> OpenBase(const std::string& path, int64_t n_vocab, int64_t max_ctx, std::vector<int32_t>& tokens,
                        int64_t& n_ctx) {
  BaseHeader h;
  R1_ASSIGN_OR_RETURN(File f, OpenBaseHeader(path, h));
  const uint32_t ctx = h.ctx;
  const int32_t vocab = h.vocab, chunks = h.chunks;
  if (vocab != n_vocab) {
    return absl::InvalidArgumentError(
        absl::StrFormat("'%s' was made with a vocabulary of %d tokens; this model has %d", path, vocab, n_vocab));
  }
  if (ctx < 4 || static_cast<int64_t>(ctx) > max_ctx || chunks <= 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "'%s': context %u and %d chunks do not fit this session (context %d)", path, ctx, chunks, max_ctx));
  }
  // The size must be exactly what the header promises, so nothing is allocated on its word.
  const uint64_t rows = static_cast<uint64_t>(chunks) * (ctx - 1 - ctx / 2);
  const uint64_t expected = 20 + static_cast<uint64_t>(chunks) * ctx * 4 + rows * BaseRowEntries(vocab) * 2;
  if (std::fseek(f.get(), 0, SEEK_END) != 0) return absl::InternalError("cannot seek '" + path + "'");
  const long size = std::ftell(f.get());
  if (size < 0 || static_cast<uint64_t>(size) != expected) {
    return absl::InvalidArgumentError(
        absl::StrFormat("'%s' has %d bytes; its header describes %d", path, static_cast<int64_t>(size), expected));
  }
  std::fseek(f.get(), 20, SEEK_SET);
  tokens.resize(static_cast<size_t>(chunks) * ctx);
  R1_RETURN_IF_ERROR(ReadExactly(f.get(), tokens.data(), tokens.size() * sizeof(int32_t), path));
  for (int32_t t : tokens) {
    if (t < 0 || t >= n_vocab) return absl::InvalidArgumentError(absl::StrFormat("'%s' holds token id %d", path, t));
  }
  n_ctx = ctx;
  return f;
}

Status WriteAll(FILE* f, const void* p, size_t bytes, const std::string& path) {
  if (std::fwrite(p, 1, bytes, f) != bytes) return absl::InternalError("error writing '" + path + "'");
  return absl::OkStatus();
}

}  // namespace

StatusOr<int64_t> BaseFileContext(const std::string& path) {
  BaseHeader h;
  R1_RETURN_IF_ERROR(OpenBaseHeader(path, h).status());
  return static_cast<int64_t>(h.ctx);
}

StatusOr<std::vector<int32_t>> PerplexityTokens(const Model& model, std::string_view text) {
  const Tokenizer* tok = model.tokenizer();
  if (tok == nullptr) return absl::FailedPreconditionError("the model has no tokenizer");
  return tok->Encode(text, {.add_bos = tok->add_bos(), .parse_special = false});
}

StatusOr<PerplexityResult> ComputePerplexity(Session& session, std::vector<int32_t> tokens, int64_t n_ctx,
                                             const PerplexityOptions& options,
                                             const std::function<void(int64_t, double)>& on_chunk) {
  const Model& model = session.model();
  const Tokenizer* tok = model.tokenizer();
  const int64_t n_vocab = model.config().n_vocab;

  File base_in, base_out;
  if (!options.compare_base.empty()) {
    R1_ASSIGN_OR_RETURN(base_in, OpenBase(options.compare_base, n_vocab, session.n_ctx(), tokens, n_ctx));
  }
  if (n_ctx < 4 || n_ctx > session.n_ctx()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("a chunk of %d tokens does not fit: 4 to %d (the session's context)", n_ctx, session.n_ctx()));
  }
  if (!base_in && static_cast<int64_t>(tokens.size()) < 2 * n_ctx) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "the text gives %d tokens; perplexity with chunks of %d needs at least %d", tokens.size(), n_ctx, 2 * n_ctx));
  }
  int64_t n_chunks = static_cast<int64_t>(tokens.size()) / n_ctx;
  if (options.n_chunks >= 0) n_chunks = std::min(n_chunks, options.n_chunks);
  if (n_chunks == 0) return absl::InvalidArgumentError("no chunk to score (--chunks 0)");

  const int64_t first = n_ctx / 2;
  const size_t row_entries = BaseRowEntries(n_vocab);
  std::vector<uint16_t> base_rows(static_cast<size_t>(n_ctx - 1 - first) * row_entries);
  if (!options.save_base.empty()) {
    base_out.reset(std::fopen(options.save_base.c_str(), "wb"));
    if (!base_out) {
      return absl::PermissionDeniedError(absl::StrFormat("cannot write '%s': %s", options.save_base, std::strerror(errno)));
    }
    const uint32_t ctx32 = static_cast<uint32_t>(n_ctx);
    const int32_t header[2] = {static_cast<int32_t>(n_vocab), static_cast<int32_t>(n_chunks)};
    R1_RETURN_IF_ERROR(WriteAll(base_out.get(), kBaseMagic, sizeof(kBaseMagic), options.save_base));
    R1_RETURN_IF_ERROR(WriteAll(base_out.get(), &ctx32, sizeof(ctx32), options.save_base));
    R1_RETURN_IF_ERROR(WriteAll(base_out.get(), header, sizeof(header), options.save_base));
    R1_RETURN_IF_ERROR(WriteAll(base_out.get(), tokens.data(), static_cast<size_t>(n_chunks * n_ctx) * sizeof(int32_t),
                                options.save_base));
  }

  PerplexityResult r;
  r.n_ctx = n_ctx;
  r.n_chunks = n_chunks;
  double nll = 0.0, nll2 = 0.0;
  KlAccumulator kl;
  const bool bos_first = tok != nullptr && tok->add_bos() && tok->bos_id().has_value();
  std::vector<int32_t> chunk(static_cast<size_t>(n_ctx));
  for (int64_t c = 0; c < n_chunks; ++c) {
    const int32_t* src = tokens.data() + c * n_ctx;
    std::copy(src, src + n_ctx, chunk.begin());
    if (bos_first) chunk[0] = *tok->bos_id();
    session.Reset();
    R1_RETURN_IF_ERROR(session.Evaluate(chunk, /*all_logits=*/true));
    if (base_in) {
      R1_RETURN_IF_ERROR(ReadExactly(base_in.get(), base_rows.data(), base_rows.size() * 2, options.compare_base));
    }
    for (int64_t j = first; j < n_ctx - 1; ++j) {
      const absl::Span<const float> logits = session.Logits(j);
      const RowStats s = Softmax(logits);
      const int32_t next = src[j + 1];
      const double v = s.max_logit + s.log_sum_exp - logits[static_cast<size_t>(next)];
      nll += v;
      nll2 += v * v;
      uint16_t* row = base_rows.data() + static_cast<size_t>(j - first) * row_entries;
      if (base_out) EncodeBaseRow(logits, s, row);
      if (base_in) kl.Add(logits, s, row, next);
    }
    if (base_out) {
      R1_RETURN_IF_ERROR(WriteAll(base_out.get(), base_rows.data(), base_rows.size() * 2, options.save_base));
    }
    r.n_scored += n_ctx - 1 - first;
    r.chunk_ppl.push_back(std::exp(nll / static_cast<double>(r.n_scored)));
    if (on_chunk) on_chunk(c, r.chunk_ppl.back());
  }
  if (base_out && std::fclose(base_out.release()) != 0) {
    return absl::InternalError("error writing '" + options.save_base + "'");
  }
  const double n = static_cast<double>(r.n_scored);
  const double mean = nll / n;
  r.ppl = std::exp(mean);
  // Standard error of the mean NLL, carried through exp.
  r.ppl_error = n > 1 ? r.ppl * std::sqrt(std::max(0.0, nll2 / n - mean * mean) / (n - 1)) : 0.0;
  if (base_in) {
    r.has_kld = true;
    r.kld = kl.Result();
  }
  return r;
}

}  // namespace r1::tools
