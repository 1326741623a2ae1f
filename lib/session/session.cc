// session.cc — context bookkeeping around Forward: batching, bounds, logits.
#include "r1/session.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_format.h"
#include "r1/tokenizer.h"
#include "runtime/resource_limits.h"
#include "session/model_drafter.h"
#include "session/nextn_drafter.h"
#include "session/session_impl.h"

namespace r1 {


namespace {

// An R1 chat reasons for thousands of tokens: chat models get up to 32K positions (reserved,
// not touched, so an unused tail costs no memory); models without a template stay at 4K.
int64_t DefaultContext(const Model& model) {
  const Tokenizer* tok = model.tokenizer();
  const bool chat = tok != nullptr && !tok->chat_template().empty();
  return std::min<int64_t>(model.config().n_ctx_train, chat ? 32768 : 4096);
}

std::optional<DType> CacheDType(CacheType type) {
  switch (type) {
    case CacheType::kF16: return DType::kF16;
    case CacheType::kQ8_0: return DType::kQ8_0;
    case CacheType::kF32: return DType::kF32;
  }
  return std::nullopt;
}

}  // namespace

const char* CacheTypeName(CacheType type) {
  switch (type) {
    case CacheType::kF16: return "f16";
    case CacheType::kQ8_0: return "q8_0";
    case CacheType::kF32: return "f32";
  }
  return "unknown";
}

std::optional<CacheType> ParseCacheType(std::string_view name) {
  for (CacheType t : {CacheType::kF16, CacheType::kQ8_0, CacheType::kF32}) {
    if (name == CacheTypeName(t)) return t;
  }
  return std::nullopt;
}

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

StatusOr<std::unique_ptr<Session>> Session::Create(std::shared_ptr<const Model> model,
                                                   const SessionOptions& options) {
  if (model == nullptr) return absl::InvalidArgumentError("Session::Create: model is null");
  if (options.n_ctx < 0 || options.n_batch <= 0) {
    return absl::InvalidArgumentError("Session options: n_ctx must not be negative and n_batch must be positive");
  }
  if (options.n_threads < 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "n_threads %d is out of range: 0 (the model's default) or 1 to %d", options.n_threads, MaxThreadCount()));
  }
  const int64_t n_ctx = options.n_ctx > 0 ? options.n_ctx : DefaultContext(*model);
  const std::optional<DType> cache_type = CacheDType(options.cache_type);
  if (!cache_type) return absl::InvalidArgumentError("Session options: unknown cache type");
  const int n_threads = options.n_threads > 0 ? options.n_threads : model->default_threads();
  R1_RETURN_IF_ERROR(CheckThreadCount(
      n_threads, options.n_threads > 0 ? "n_threads" : "n_threads (the model's default, LoadOptions::n_threads)"));
  R1_RETURN_IF_ERROR(CheckContextSizes(n_ctx, std::min(options.n_batch, n_ctx)));
  auto impl = std::make_unique<Impl>(n_threads);
  impl->model = std::move(model);
  impl->n_ctx = n_ctx;
  impl->cache_type = options.cache_type;
  impl->n_batch = std::min(options.n_batch, n_ctx);
  impl->ctx.isa = DefaultIsa();
  impl->ctx.kernels = &GetFloatKernels(impl->ctx.isa);
  impl->ctx.pool = &impl->pool;
  impl->ctx.batch_invariant = options.batch_invariant;
  R1_RETURN_IF_ERROR(InitKvCache(impl->model->impl(), n_ctx, *cache_type, impl->ctx.isa, impl->kv));
  impl->tokens.reserve(static_cast<size_t>(n_ctx));
  impl->acts.Init(impl->model->impl(), impl->n_batch, n_ctx, n_threads, *cache_type);
  if (options.gpu_layers != 0) {
    R1_ASSIGN_OR_RETURN(impl->device_layers,
                        OpenDeviceLayers(impl->model->impl(), options.gpu_layers, options.gpu_device, n_ctx, *cache_type));
    impl->acts.device_layers = impl->device_layers.get();
  }
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

Status Session::Evaluate(absl::Span<const int32_t> tokens, bool all_logits) {
  Impl& s = *impl_;
  const int64_t n = static_cast<int64_t>(tokens.size());
  const int64_t n_vocab = s.model->config().n_vocab;
  if (n == 0) return absl::InvalidArgumentError("no tokens to evaluate");
  if (n > s.n_ctx - s.n_past()) {
    return absl::OutOfRangeError(absl::StrFormat(
        "%d tokens do not fit in the context: %d of %d positions are used", n, s.n_past(), s.n_ctx));
  }
  for (int64_t i = 0; i < n; ++i) {
    if (tokens[i] < 0 || tokens[i] >= n_vocab) {
      return absl::InvalidArgumentError(
          absl::StrFormat("token id %d at index %d is outside the vocabulary [0, %d)", tokens[i], i, n_vocab));
    }
  }
  const Model::Impl& model = s.model->impl();
  if (all_logits && n > s.n_batch) s.all_logits.resize(static_cast<size_t>(n * n_vocab));
  for (int64_t start = 0; start < n; start += s.n_batch) {
    const int64_t len = std::min(s.n_batch, n - start);
    const LogitRows rows = all_logits ? LogitRows::kAll : start + len == n ? LogitRows::kLast : LogitRows::kNone;
    if (Status pass = Forward(model, tokens.data() + start, len, s.n_past(), rows, s.kv, s.acts, s.ctx); !pass.ok()) {
      Truncate(s.n_past() - start).IgnoreError();  // none of this call's tokens stay
      return pass;
    }
    if (s.keep_hidden) s.KeepHidden(s.acts.x.data(), len);
    s.tokens.insert(s.tokens.end(), tokens.begin() + start, tokens.begin() + start + len);
    if (all_logits && n > s.n_batch) {
      std::memcpy(s.all_logits.data() + start * n_vocab, s.acts.logits.data(),
                  static_cast<size_t>(len * n_vocab) * sizeof(float));
    }
  }
  s.logits = (all_logits && n > s.n_batch) ? s.all_logits.data() : s.acts.logits.data();
  s.n_logit_rows = all_logits ? n : 1;
  return absl::OkStatus();
}

absl::Span<const float> Session::Logits(int64_t row) const {
  const Impl& s = *impl_;
  if (s.logits == nullptr || s.n_logit_rows == 0) return {};
  if (row < 0) row = s.n_logit_rows - 1;
  if (row >= s.n_logit_rows) return {};
  const int64_t n_vocab = s.model->config().n_vocab;
  return {s.logits + row * n_vocab, static_cast<size_t>(n_vocab)};
}

int64_t Session::n_logit_rows() const { return impl_->n_logit_rows; }
int64_t Session::n_past() const { return impl_->n_past(); }
absl::Span<const int32_t> Session::tokens() const { return impl_->tokens; }
int64_t Session::n_ctx() const { return impl_->n_ctx; }
int Session::n_threads() const { return impl_->pool.n_threads(); }
std::string_view Session::isa() const { return IsaName(impl_->ctx.isa); }
CacheType Session::cache_type() const { return impl_->cache_type; }
bool Session::batch_invariant() const { return impl_->ctx.batch_invariant; }
void Session::SetProductObserver(ProductObserver* observer) { impl_->ctx.observer = observer; }
uint64_t Session::kv_bytes_per_token() const { return impl_->kv.bytes_per_position(); }
const Model& Session::model() const { return *impl_->model; }

Status Session::Truncate(int64_t n) {
  if (n < 0 || n > impl_->n_past()) {
    return absl::OutOfRangeError(absl::StrFormat("cannot truncate to %d: %d positions are filled", n, impl_->n_past()));
  }
  impl_->tokens.resize(static_cast<size_t>(n));
  impl_->TruncateHidden(n);
  impl_->logits = nullptr;
  impl_->n_logit_rows = 0;
  return absl::OkStatus();
}

StatusOr<int64_t> Session::KeepSharedPrefix(absl::Span<const int32_t> tokens) {
  if (tokens.empty()) return absl::InvalidArgumentError("KeepSharedPrefix: no tokens");
  const std::vector<int32_t>& have = impl_->tokens;
  const size_t common = std::mismatch(have.begin(), have.end(), tokens.begin(), tokens.end()).first - have.begin();
  const int64_t kept = static_cast<int64_t>(std::min(common, tokens.size() - 1));
  R1_RETURN_IF_ERROR(Truncate(kept));
  return kept;
}

void Session::Reset() { (void)Truncate(0); }

void Session::Impl::KeepHidden(const float* rows, int64_t n) {
  const int64_t d = model->config().d_model;
  if (hidden.empty()) hidden_pos0 = n_past();
  hidden.insert(hidden.end(), rows, rows + n * d);
}

void Session::Impl::DropHiddenBefore(int64_t pos) {
  const int64_t d = model->config().d_model;
  const int64_t drop = std::clamp<int64_t>(pos - hidden_pos0, 0, static_cast<int64_t>(hidden.size()) / d);
  hidden.erase(hidden.begin(), hidden.begin() + drop * d);
  hidden_pos0 += drop;
}

void Session::Impl::TruncateHidden(int64_t end) {
  const int64_t d = model->config().d_model;
  if (end <= hidden_pos0) {
    hidden.clear();
    hidden_pos0 = end;
  } else if (end - hidden_pos0 < static_cast<int64_t>(hidden.size()) / d) {
    hidden.resize(static_cast<size_t>((end - hidden_pos0) * d));
  }
}

Status Session::SetDraft(std::shared_ptr<const Model> draft, const DraftOptions& options) {
  R1_ASSIGN_OR_RETURN(std::unique_ptr<Drafter> drafter, ModelDrafter::Create(std::move(draft), *this, options));
  ClearDraft();
  impl_->drafter = std::move(drafter);
  return absl::OkStatus();
}

Status Session::SetNextnDraft(const DraftOptions& options) {
  R1_ASSIGN_OR_RETURN(std::unique_ptr<Drafter> drafter, NextnDrafter::Create(*impl_, options));
  ClearDraft();
  impl_->drafter = std::move(drafter);
  impl_->keep_hidden = true;
  return absl::OkStatus();
}

void Session::ClearDraft() {
  impl_->drafter.reset();
  impl_->keep_hidden = false;
  impl_->hidden = {};
}
bool Session::has_draft() const { return impl_->drafter != nullptr; }
void Session::Cancel() { impl_->cancel.store(true, std::memory_order_relaxed); }

int32_t Argmax(absl::Span<const float> values) {
  if (values.empty()) return -1;
  size_t best = 0;
  for (size_t i = 1; i < values.size(); ++i) {
    if (values[i] > values[best]) best = i;
  }
  return static_cast<int32_t>(best);
}

}  // namespace r1
