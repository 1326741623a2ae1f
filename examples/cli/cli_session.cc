#include "cli_session.h"

#include <cstdio>
#include <random>

#include "absl/strings/str_format.h"
#include "cli_input.h"
#include "r1/tokenizer.h"

namespace r1::cli {
namespace {

constexpr ChatTemplate kChatTemplates[] = {ChatTemplate::kDeepSeekR1, ChatTemplate::kDeepSeekR1Distill,
                                           ChatTemplate::kLlama3, ChatTemplate::kChatMl, ChatTemplate::kQwen2};

// A seed from the system's entropy source, for runs that do not name one.
uint64_t RandomSeed() {
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

// --grammar, --grammar-file, --json-schema, --json-schema-file: at most one of them.
Status ParseStructuredOutput(const Args& args, GenerateOptions* o) {
  int given = 0;
  for (const char* flag : {"--grammar", "--grammar-file", "--json-schema", "--json-schema-file"}) given += args.Has(flag);
  if (given > 1) return absl::InvalidArgumentError("give one of --grammar, --grammar-file, --json-schema, --json-schema-file");
  auto read = [](std::string_view flag, const std::string& path) -> StatusOr<std::string> {
    std::optional<std::string> text = ReadAll(path);
    if (!text) return absl::NotFoundError(absl::StrFormat("%s: cannot read %s", flag, path));
    return *std::move(text);
  };
  if (const auto v = args.Value("--grammar")) o->grammar = *v;
  if (const auto v = args.Value("--json-schema")) o->json_schema = *v;
  if (const auto path = args.Value("--grammar-file")) {
    R1_ASSIGN_OR_RETURN(o->grammar, read("--grammar-file", *path));
  }
  if (const auto path = args.Value("--json-schema-file")) {
    R1_ASSIGN_OR_RETURN(o->json_schema, read("--json-schema-file", *path));
  }
  o->grammar_from_first_token = args.Has("--grammar-from-start");
  return absl::OkStatus();
}

}  // namespace

StatusOr<SessionOptions> ParseSessionOptions(const Args& args) {
  SessionOptions options;
  int64_t threads = 0;
  R1_RETURN_IF_ERROR(args.Int("-t", 1, 1024, &threads));
  options.n_threads = static_cast<int>(threads);
  R1_RETURN_IF_ERROR(args.Int("--ctx", 1, int64_t{1} << 24, &options.n_ctx));
  R1_ASSIGN_OR_RETURN(options.cache_type, ParseCacheTypeFlag(args));
  options.batch_invariant = args.Has("--batch-invariant");
  int64_t gpu_layers = 0, gpu_device = -1;
  R1_RETURN_IF_ERROR(args.Int("--gpu-layers", -1, int64_t{1} << 20, &gpu_layers));
  R1_RETURN_IF_ERROR(args.Int("--gpu-device", -1, 1024, &gpu_device));
  options.gpu_layers = static_cast<int>(gpu_layers);
  options.gpu_device = static_cast<int>(gpu_device);
  return options;
}

StatusOr<CacheType> ParseCacheTypeFlag(const Args& args) {
  const auto v = args.Value("--cache-type");
  if (!v) return CacheType::kF16;
  if (auto type = ParseCacheType(*v)) return *type;
  return absl::InvalidArgumentError(absl::StrFormat("--cache-type: expected f16, q8_0 or f32, got '%s'", *v));
}

LoadOptions ParseLoadOptions(const Args& args) {
  LoadOptions load;
  load.repack_weights = args.Has("--repack");
  load.interleave_rows = args.Has("--interleave");
  return load;
}

StatusOr<std::unique_ptr<Session>> OpenSession(const std::string& path, const LoadOptions& load,
                                               const SessionOptions& options) {
  R1_ASSIGN_OR_RETURN(std::shared_ptr<const Model> model, Model::Load(path, load));
  return Session::Create(std::move(model), options);
}

StatusOr<DraftChoice> ParseDraft(const Args& args, const LoadOptions& load) {
  DraftChoice draft;
  const std::optional<std::string> path = args.Value("--draft");
  draft.nextn = args.Has("--draft-nextn");
  if (path && draft.nextn) return absl::InvalidArgumentError("--draft and --draft-nextn exclude each other");
  if (!path && !draft.nextn) {
    if (args.Has("--draft-max")) return absl::InvalidArgumentError("--draft-max needs --draft MODEL or --draft-nextn");
    return draft;
  }
  if (args.Has("--draft-max")) {
    int64_t n = 0;
    R1_RETURN_IF_ERROR(args.Int("--draft-max", 1, kMaxDraftTokens, &n));
    draft.options.max_draft_tokens = static_cast<int>(n);
  }
  if (path) {
    R1_ASSIGN_OR_RETURN(draft.model, Model::Load(*path, load));
  }
  return draft;
}

Status ApplyDraft(const DraftChoice& draft, Session& session) {
  if (draft.nextn) return session.SetNextnDraft(draft.options);
  if (draft.model != nullptr) return session.SetDraft(draft.model, draft.options);
  return absl::OkStatus();
}

Status AttachDraft(const Args& args, const LoadOptions& load, Session& session) {
  R1_ASSIGN_OR_RETURN(const DraftChoice draft, ParseDraft(args, load));
  return ApplyDraft(draft, session);
}

StatusOr<GenerateOptions> ParseGenerateOptions(const Args& args) {
  GenerateOptions o;
  constexpr int64_t kMaxTokens = int64_t{1} << 30;
  if (args.Has("-n")) R1_RETURN_IF_ERROR(args.Int("-n", 0, kMaxTokens, &o.max_new_tokens));
  o.sampler.seed = RandomSeed();
  R1_RETURN_IF_ERROR(args.Unsigned("--seed", &o.sampler.seed));
  double temp = o.sampler.temperature, top_p = o.sampler.top_p, min_p = o.sampler.min_p;
  R1_RETURN_IF_ERROR(args.Real("--temp", 0, 100, &temp));
  R1_RETURN_IF_ERROR(args.Real("--top-p", 0, 1, &top_p));
  R1_RETURN_IF_ERROR(args.Real("--min-p", 0, 1, &min_p));
  o.sampler.temperature = static_cast<float>(temp);
  o.sampler.top_p = static_cast<float>(top_p);
  o.sampler.min_p = static_cast<float>(min_p);
  int64_t top_k = o.sampler.top_k;
  R1_RETURN_IF_ERROR(args.Int("--top-k", 0, INT32_MAX, &top_k));
  o.sampler.top_k = static_cast<int32_t>(top_k);
  R1_RETURN_IF_ERROR(args.Int("--think-budget", 0, kMaxTokens, &o.reasoning_budget));
  if (const auto path = args.Value("--template-file")) {
    if (args.Has("--no-chat")) return absl::InvalidArgumentError("--template-file and --no-chat exclude each other");
    if (args.Has("--template")) return absl::InvalidArgumentError("--template and --template-file exclude each other");
    const std::optional<std::string> source = ReadAll(*path);
    if (!source) return absl::NotFoundError(absl::StrFormat("--template-file: cannot read %s", *path));
    if (source->empty()) return absl::InvalidArgumentError(absl::StrFormat("--template-file: %s is empty", *path));
    o.chat_template_source = *source;
  }
  R1_RETURN_IF_ERROR(ParseStructuredOutput(args, &o));
  if (const auto name = args.Value("--template")) {
    if (args.Has("--no-chat")) return absl::InvalidArgumentError("--template and --no-chat exclude each other");
    o.chat_template = ChatTemplateFromName(*name);
    if (!o.chat_template) {
      return absl::InvalidArgumentError(
          absl::StrFormat("--template: expected one of %s, got '%s'", ChatTemplateNames(), *name));
    }
  }
  return o;
}

std::string ChatTemplateNames() {
  std::string names;
  for (const ChatTemplate t : kChatTemplates) {
    if (!names.empty()) names += ", ";
    names += ChatTemplateName(t);
  }
  return names;
}

StatusOr<PromptMode> ChoosePromptMode(const Args& args, const Model& model) {
  if (args.Has("--no-chat")) return PromptMode::kRaw;
  if (args.Has("--template") || args.Has("--template-file")) return PromptMode::kChat;
  const Tokenizer* tokenizer = model.tokenizer();
  if (tokenizer == nullptr || tokenizer->chat_template().empty()) return PromptMode::kRaw;
  // A template outside the built-in families is rendered by the Jinja engine.
  return PromptMode::kChat;
}

void PrintSummary(const GenerateResult& r, uint64_t seed) {
  std::fflush(stdout);
  std::fprintf(stderr,
               "%lld prompt tokens (%lld computed), %lld generated (%lld reasoning) | prefill %.1f tok/s | "
               "decode %.1f tok/s | seed %llu | stop: %s\n",
               static_cast<long long>(r.n_prompt_tokens), static_cast<long long>(r.n_prefilled_tokens),
               static_cast<long long>(r.n_generated_tokens), static_cast<long long>(r.n_reasoning_tokens),
               r.prefill_tokens_per_second(), r.decode_tokens_per_second(), static_cast<unsigned long long>(seed),
               StopReasonName(r.stop_reason));
  if (r.n_drafted_tokens > 0) {
    std::fprintf(stderr, "draft: %lld of %lld guesses kept (%.0f%%)\n", static_cast<long long>(r.n_accepted_tokens),
                 static_cast<long long>(r.n_drafted_tokens), 100.0 * r.acceptance_rate());
  }
}

}  // namespace r1::cli
