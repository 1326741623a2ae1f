// model.cc — Model::Load: open → hyper-parameters → weights.
#include "absl/strings/str_format.h"
#include "model/interleaved_rows.h"
#include "model/layer_family.h"
#include "model/model_config.h"
#include "model/model_impl.h"
#include "model/nextn_block.h"
#include "model/prompt_panels.h"
#include "kernels/isa.h"
#include "quant/quant_kernels.h"
#include "runtime/thread_pool.h"
#include "tokenize/gguf_vocab.h"

namespace r1 {
namespace {

// FNV-1a over everything but the tensor data of every file: any change of metadata, tensor
// names, types, shapes or offsets, or of a file's size, gives another value.
uint64_t Fingerprint(const GgufModelFiles& files) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const auto& file : files.files) {
    h ^= file->bytes().size();
    for (uint8_t b : file->bytes().subspan(0, file->data_offset())) h = (h ^ b) * 0x100000001b3ull;
  }
  return h;
}

}  // namespace

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

StatusOr<std::shared_ptr<const Model>> Model::Load(const std::string& path, const LoadOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  auto annotate = [&](const Status& s) {
    return Status(s.code(), absl::StrFormat("%s: %s", path, s.message()));
  };
  auto report = [&](float fraction) -> Status {
    if (options.progress && !options.progress(fraction)) {
      return absl::CancelledError(absl::StrFormat("loading '%s' was cancelled", path));
    }
    return absl::OkStatus();
  };
  if (options.n_threads < 0) return absl::InvalidArgumentError("LoadOptions::n_threads must not be negative");
  impl->default_threads = options.n_threads > 0 ? options.n_threads : ThreadPool::DefaultThreadCount();
  R1_RETURN_IF_ERROR(report(0.0f));
  auto files = OpenGgufModelFiles(path, options.use_mmap);
  if (!files.ok()) return files.status();  // its messages name the file already
  impl->files = *std::move(files);
  impl->gguf = &impl->files.model();
  R1_RETURN_IF_ERROR(report(0.4f));
  auto config = ReadModelConfig(*impl->gguf);
  if (!config.ok()) return annotate(config.status());
  impl->config = *std::move(config);
  impl->family = LayerFamilyFor(impl->config.architecture);
  if (impl->family == nullptr) {
    return annotate(absl::UnimplementedError(
        absl::StrFormat("architecture '%s' has no layer implementation", impl->config.architecture)));
  }
  auto weights = BindWeights(*impl->gguf, impl->config, *impl->family);
  if (!weights.ok()) return annotate(weights.status());
  impl->weights = *std::move(weights);
  if (options.repack_weights && GetInt8GemmKernels(DefaultIsa()) != nullptr) {
    if (Status s = PackPromptPanels(*impl->weights, impl->default_threads); !s.ok()) return annotate(s);
  }
  if (options.interleave_rows) {
    const Status s = InterleaveRows(*impl->weights, DefaultIsa(), impl->default_threads, options.use_mmap);
    if (!s.ok()) return annotate(s);
  }
  R1_RETURN_IF_ERROR(report(0.6f));
  if (impl->gguf->Has("tokenizer.ggml.model")) {
    auto tokenizer = TokenizerFromGguf(*impl->gguf);
    if (!tokenizer.ok()) return annotate(tokenizer.status());
    if ((*tokenizer)->n_vocab() != impl->config.n_vocab) {
      return annotate(absl::InvalidArgumentError(absl::StrFormat(
          "the tokenizer has %d tokens but token_embd.weight has %d rows", (*tokenizer)->n_vocab(),
          impl->config.n_vocab)));
    }
    impl->tokenizer = *std::move(tokenizer);
  }
  R1_RETURN_IF_ERROR(report(1.0f));
  impl->fingerprint = Fingerprint(impl->files);
  return std::shared_ptr<const Model>(new Model(std::move(impl)));
}

const ModelConfig& Model::config() const { return impl_->config; }
int Model::default_threads() const { return impl_->default_threads; }
const Tokenizer* Model::tokenizer() const { return impl_->tokenizer.get(); }
const std::string& Model::path() const { return impl_->path; }
uint64_t Model::file_bytes() const { return impl_->files.total_bytes(); }
const std::vector<std::string>& Model::file_paths() const { return impl_->files.paths; }

Status Model::NextnDraftStatus() const { return NextnBlockStatus(*impl_); }

uint64_t Model::repacked_bytes() const {
  return impl_->weights->prompt_panels.size() + impl_->weights->interleaved.size();
}

uint64_t Model::weight_bytes() const {
  uint64_t total = 0;
  for (const GgufTensorInfo& t : impl_->gguf->tensors()) total += t.n_bytes;
  return total;
}

std::vector<TensorSummary> Model::Tensors() const {
  std::vector<TensorSummary> out;
  for (const GgufTensorInfo& t : impl_->gguf->tensors()) {
    TensorSummary s{std::string(t.name), t.type, {}, t.n_bytes, t.data};
    for (uint32_t i = 0; i < t.n_dims; ++i) s.shape.push_back(static_cast<int64_t>(t.ne[i]));
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace r1
