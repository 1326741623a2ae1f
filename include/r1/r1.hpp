// r1/r1.hpp — r1's C++ API: a header-only layer over the stable C ABI (r1.h).
//
// Everything here is inline and calls only r1_* functions, so a program built against it links
// with any libr1 of the same major version, whatever C++ standard library or other libraries
// either was built with. Handles are RAII (move-only), sizes are std::span/std::string_view,
// and failures throw r1::Error, which carries the C status and message. Callbacks may throw:
// the exception stops the call and is rethrown from it.
//
// The classes live in an inline namespace: written r1::Session, they never share a mangled
// name with anything inside the library (a static link holds both).
#pragma once

#include <r1.h>

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace r1 {
inline namespace hpp_v0 {

class Error : public std::runtime_error {
 public:
  Error(r1_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
  r1_status status() const noexcept { return status_; }

 private:
  r1_status status_;
};

namespace detail {

inline void Check(r1_status status) {
  if (status != R1_OK) throw Error(status, std::string(r1_status_name(status)) + ": " + r1_last_error());
}

// Holds the first exception a callback threw, so that the C call returns first.
struct CallbackGuard {
  std::exception_ptr error;
  template <class Fn>
  int Run(Fn&& fn) noexcept {
    try {
      return fn() ? 0 : 1;
    } catch (...) {
      error = std::current_exception();
      return 1;
    }
  }
  void Rethrow() const {
    if (error) std::rethrow_exception(error);
  }
};

}  // namespace detail

// The library that is running, as "MAJOR.MINOR.PATCH", and whether it matches this header.
inline std::string_view LibraryVersion() { return r1_version_string(); }
inline bool LibraryMatchesHeader() { return r1_version() / 10000 == R1_VERSION_MAJOR; }

enum class Channel { kReasoning = R1_CHANNEL_REASONING, kContent = R1_CHANNEL_CONTENT };

enum class StopReason {
  kEndOfGeneration = R1_STOP_END_OF_GENERATION,
  kMaxTokens = R1_STOP_MAX_TOKENS,
  kStopString = R1_STOP_STOP_STRING,
  kCancelled = R1_STOP_CANCELLED,
  kContextFull = R1_STOP_CONTEXT_FULL,
  kGrammarDeadEnd = R1_STOP_GRAMMAR_DEAD_END,
};

enum class CacheType { kF16 = R1_CACHE_F16, kQ8_0 = R1_CACHE_Q8_0, kF32 = R1_CACHE_F32 };

struct ModelOptions {
  bool use_mmap = true;
  int n_threads = 0;            // default threads of sessions on this model; 0 = all cores
  bool repack_weights = false;  // see r1_model_options.repack_weights
  std::function<bool(float)> progress;  // fraction done; false cancels the load
};

struct ModelInfo {
  std::string architecture, name;
  int64_t n_vocab = 0, n_ctx_train = 0, n_embd = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0;
  int64_t n_params_bytes = 0;
  bool has_chat_template = false;
  std::optional<int32_t> bos_token, eos_token;
};

enum class AddBos { kAsModelSays = -1, kNo = 0, kYes = 1 };

class Model {
 public:
  static Model Load(const std::string& path, const ModelOptions& options = {}) {
    r1_model_options o;
    r1_model_options_default(&o);
    o.use_mmap = options.use_mmap ? 1 : 0;
    o.n_threads = options.n_threads;
    o.repack_weights = options.repack_weights ? 1 : 0;
    detail::CallbackGuard guard;
    struct Progress {
      const std::function<bool(float)>* fn;
      detail::CallbackGuard* guard;
    } progress{&options.progress, &guard};
    if (options.progress) {
      o.progress = [](float fraction, void* user) {
        auto* p = static_cast<Progress*>(user);
        return p->guard->Run([&] { return (*p->fn)(fraction); });
      };
      o.progress_user_data = &progress;
    }
    r1_model* model = nullptr;
    const r1_status status = r1_model_load(path.c_str(), &o, &model);
    guard.Rethrow();
    detail::Check(status);
    return Model(model);
  }

  ModelInfo Info() const {
    r1_model_info i;
    r1_model_info_default(&i);
    detail::Check(r1_model_get_info(get(), &i));
    ModelInfo info;
    info.architecture = i.architecture;
    info.name = i.name;
    info.n_vocab = i.n_vocab;
    info.n_ctx_train = i.n_ctx_train;
    info.n_embd = i.n_embd;
    info.n_layers = i.n_layers;
    info.n_heads = i.n_heads;
    info.n_kv_heads = i.n_kv_heads;
    info.n_params_bytes = i.n_params_bytes;
    info.has_chat_template = i.has_chat_template != 0;
    if (i.bos_token >= 0) info.bos_token = i.bos_token;
    if (i.eos_token >= 0) info.eos_token = i.eos_token;
    return info;
  }

  std::vector<int32_t> Tokenize(std::string_view text, AddBos add_bos = AddBos::kAsModelSays,
                                bool parse_special = false) const {
    std::vector<int32_t> ids(text.size() + 2);
    size_t n = 0;
    r1_status status = r1_tokenize(get(), text.data(), text.size(), static_cast<int32_t>(add_bos), parse_special,
                                   ids.data(), ids.size(), &n);
    if (status == R1_ERR_BUFFER_TOO_SMALL) {
      ids.resize(n);
      status = r1_tokenize(get(), text.data(), text.size(), static_cast<int32_t>(add_bos), parse_special,
                           ids.data(), ids.size(), &n);
    }
    detail::Check(status);
    ids.resize(n);
    return ids;
  }

  std::string Detokenize(std::span<const int32_t> tokens) const {
    std::string text(tokens.size() * 8 + 16, '\0');
    size_t n = 0;
    r1_status status = r1_detokenize(get(), tokens.data(), tokens.size(), text.data(), text.size(), &n);
    if (status == R1_ERR_BUFFER_TOO_SMALL) {
      text.resize(n);
      status = r1_detokenize(get(), tokens.data(), tokens.size(), text.data(), text.size(), &n);
    }
    detail::Check(status);
    text.resize(n);
    return text;
  }

  r1_model* get() const noexcept { return model_.get(); }

 private:
  struct Free {
    void operator()(r1_model* m) const noexcept { r1_model_free(m); }
  };
  explicit Model(r1_model* model) : model_(model) {}
  std::unique_ptr<r1_model, Free> model_;
};

// A GPU a session's layers may run on; SessionOptions::gpu_device is its index in GpuDevices().
struct GpuDevice {
  std::string name;
  std::string kind;           // "discrete", "integrated", "virtual", "cpu" (a software device), "other"
  uint64_t memory_bytes = 0;  // its largest device-local memory heap
};

// The GPUs this library can use, in the Vulkan driver's order; empty for a library built without
// Vulkan or a machine without a driver.
inline std::vector<GpuDevice> GpuDevices() {
  size_t n = 0;
  detail::Check(r1_gpu_device_count(&n));
  std::vector<GpuDevice> gpus;
  for (size_t i = 0; i < n; ++i) {
    r1_gpu_device_info info;
    r1_gpu_device_info_default(&info);
    detail::Check(r1_gpu_device_get_info(i, &info));
    gpus.push_back({info.name, info.kind, info.memory_bytes});
  }
  return gpus;
}

struct SessionOptions {
  int n_ctx = 0;      // 0: the model's training context, capped (see r1_session_options)
  int n_threads = 0;  // 0: the model's default
  int n_batch = 0;    // 0: 512
  CacheType cache_type = CacheType::kF16;
  bool batch_invariant = false;  // see r1_session_options
  int gpu_layers = 0;            // see r1_session_options: 0 none, -1 all, n the first n
  int gpu_device = -1;           // an index into GpuDevices(); -1: the best GPU
};

struct Message {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

struct GenerateOptions {
  int max_new_tokens = -1;  // < 0: until the context is full
  float temperature = 0.6f;
  int top_k = 0;
  float top_p = 0.95f;
  float min_p = 0.0f;
  float repeat_penalty = 1.0f;
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  int penalty_window = 64;
  uint64_t seed = 0;
  std::vector<std::string> stop;
  int reasoning_budget = -1;  // < 0: no limit
  bool ignore_eos = false;
  bool drop_oldest_turns = false;
  std::optional<std::string> chat_template;  // a built-in template's name instead of the model's
  // Structured output: a GBNF grammar the answer must match, or a JSON Schema (JSON text) it
  // must validate against; not both. The thought of a reasoning model stays free unless
  // grammar_from_first_token.
  std::optional<std::string> grammar;
  std::optional<std::string> json_schema;
  bool grammar_from_first_token = false;
  // Chat: functions the model may call, as OpenAI's `tools` JSON array; and "auto" (unset),
  // "none", "required" or the name of the function that must be called.
  std::optional<std::string> tools_json;
  std::optional<std::string> tool_choice;
};

struct Result {
  StopReason stop_reason = StopReason::kEndOfGeneration;
  int64_t n_prompt_tokens = 0, n_prefilled_tokens = 0, n_generated_tokens = 0, n_reasoning_tokens = 0;
  double prefill_seconds = 0, decode_seconds = 0;
  std::string reasoning, content;
  // The functions the answer called, as OpenAI's tool_calls JSON array ("[]" when none).
  std::string tool_calls_json = "[]";
  int n_tool_calls = 0;
  // Speculative decoding (Session::SetDraft): the draft's guesses and how many were kept.
  int64_t n_drafted_tokens = 0, n_accepted_tokens = 0;
};

// One streamed piece of complete UTF-8 text; return false to stop the generation.
using StreamFn = std::function<bool(Channel channel, std::string_view text, int32_t token)>;

class Session {
 public:
  explicit Session(const Model& model, const SessionOptions& options = {}) {
    r1_session_options o;
    r1_session_options_default(&o);
    o.n_ctx = options.n_ctx;
    o.n_threads = options.n_threads;
    o.n_batch = options.n_batch;
    o.cache_type = static_cast<int32_t>(options.cache_type);
    o.batch_invariant = options.batch_invariant ? 1 : 0;
    o.gpu_layers = options.gpu_layers;
    o.gpu_device = options.gpu_device;
    r1_session* session = nullptr;
    detail::Check(r1_session_create(model.get(), &o, &session));
    session_.reset(session);
  }

  // Formats the conversation with the chat template and generates the assistant's answer.
  Result Chat(std::span<const Message> messages, const GenerateOptions& options = {}, const StreamFn& on_piece = {}) {
    std::vector<r1_message> c_messages;
    c_messages.reserve(messages.size());
    for (const Message& m : messages) c_messages.push_back({m.role.c_str(), m.content.c_str()});
    return Run(options, on_piece, [&](const r1_generate_options* o, r1_stream_fn fn, void* user, r1_result* r) {
      return r1_session_chat(get(), c_messages.data(), c_messages.size(), o, fn, user, r);
    });
  }

  // Chat with the conversation as OpenAI's `messages` JSON array, whose assistant turns can
  // carry tool_calls and whose "tool" turns carry their results.
  Result ChatJson(std::string_view messages_json, const GenerateOptions& options = {}, const StreamFn& on_piece = {}) {
    return Run(options, on_piece, [&](const r1_generate_options* o, r1_stream_fn fn, void* user, r1_result* r) {
      return r1_session_chat_json(get(), messages_json.data(), messages_json.size(), o, fn, user, r);
    });
  }

  // Continues a raw prompt.
  Result Generate(std::string_view prompt, const GenerateOptions& options = {}, const StreamFn& on_piece = {}) {
    return Run(options, on_piece, [&](const r1_generate_options* o, r1_stream_fn fn, void* user, r1_result* r) {
      return r1_session_generate(get(), prompt.data(), prompt.size(), o, fn, user, r);
    });
  }

  // Any thread: stops a running generation at its next token.
  void Cancel() { detail::Check(r1_session_cancel(get())); }
  void Reset() { detail::Check(r1_session_reset(get())); }
  // Speculative decoding: `draft` (same tokenizer) guesses up to max_draft_tokens (1 to 16, 0:
  // 8) tokens ahead and this model checks them in one pass; the output does not change. The
  // session keeps the draft model alive. ClearDraft removes it.
  void SetDraft(const Model& draft, int max_draft_tokens = 0) {
    detail::Check(r1_session_set_draft(get(), draft.get(), max_draft_tokens));
  }
  // The same with the model's own multi-token-prediction (nextn) block as the draft (files that
  // carry one; r1::Error with R1_ERR_FAILED_PRECONDITION otherwise).
  void SetNextnDraft(int max_draft_tokens = 0) { detail::Check(r1_session_set_nextn_draft(get(), max_draft_tokens)); }
  void ClearDraft() { detail::Check(r1_session_set_draft(get(), nullptr, 0)); }
  // Appends tokens to the context and computes the last one's logits.
  void Eval(std::span<const int32_t> tokens) { detail::Check(r1_session_eval(get(), tokens.data(), tokens.size())); }
  // The last computed logits; valid until the next call on the session.
  std::span<const float> Logits() const {
    const float* logits = nullptr;
    size_t n = 0;
    detail::Check(r1_session_logits(get(), &logits, &n));
    return {logits, n};
  }
  int64_t n_past() const {
    int64_t n = 0;
    detail::Check(r1_session_n_past(get(), &n));
    return n;
  }
  void Save(const std::string& path) const { detail::Check(r1_session_save(get(), path.c_str())); }
  void Load(const std::string& path) { detail::Check(r1_session_load(get(), path.c_str())); }

  r1_session* get() const noexcept { return session_.get(); }

 private:
  struct Free {
    void operator()(r1_session* s) const noexcept { r1_session_free(s); }
  };

  template <class Call>
  Result Run(const GenerateOptions& options, const StreamFn& on_piece, Call&& call) {
    std::vector<const char*> stops;
    for (const std::string& s : options.stop) stops.push_back(s.c_str());
    r1_generate_options o;
    r1_generate_options_default(&o);
    o.max_new_tokens = options.max_new_tokens;
    o.temperature = options.temperature;
    o.top_k = options.top_k;
    o.top_p = options.top_p;
    o.min_p = options.min_p;
    o.repeat_penalty = options.repeat_penalty;
    o.presence_penalty = options.presence_penalty;
    o.frequency_penalty = options.frequency_penalty;
    o.penalty_window = options.penalty_window;
    o.seed = options.seed;
    o.stop = stops.empty() ? nullptr : stops.data();
    o.n_stop = stops.size();
    o.reasoning_budget = options.reasoning_budget;
    o.ignore_eos = options.ignore_eos ? 1 : 0;
    o.drop_oldest_turns = options.drop_oldest_turns ? 1 : 0;
    o.chat_template = options.chat_template ? options.chat_template->c_str() : nullptr;
    o.grammar = options.grammar ? options.grammar->c_str() : nullptr;
    o.json_schema = options.json_schema ? options.json_schema->c_str() : nullptr;
    o.grammar_from_first_token = options.grammar_from_first_token ? 1 : 0;
    o.tools_json = options.tools_json ? options.tools_json->c_str() : nullptr;
    o.tool_choice = options.tool_choice ? options.tool_choice->c_str() : nullptr;

    struct Stream {
      const StreamFn* fn;
      detail::CallbackGuard guard;
    } stream{&on_piece, {}};
    r1_stream_fn trampoline = nullptr;
    if (on_piece) {
      trampoline = [](r1_channel channel, const char* text, size_t len, int32_t token, void* user) {
        auto* s = static_cast<Stream*>(user);
        return s->guard.Run([&] { return (*s->fn)(static_cast<Channel>(channel), std::string_view(text, len), token); });
      };
    }
    r1_result r;
    r1_result_default(&r);
    const r1_status status = call(&o, trampoline, &stream, &r);
    stream.guard.Rethrow();
    detail::Check(status);
    Result result;
    result.stop_reason = static_cast<StopReason>(r.stop_reason);
    result.n_prompt_tokens = r.n_prompt_tokens;
    result.n_prefilled_tokens = r.n_prefilled_tokens;
    result.n_generated_tokens = r.n_generated_tokens;
    result.n_reasoning_tokens = r.n_reasoning_tokens;
    result.prefill_seconds = r.prefill_seconds;
    result.decode_seconds = r.decode_seconds;
    if (r.reasoning != nullptr) result.reasoning.assign(r.reasoning, r.reasoning_len);
    if (r.content != nullptr) result.content.assign(r.content, r.content_len);
    if (r.tool_calls_json != nullptr) result.tool_calls_json.assign(r.tool_calls_json, r.tool_calls_json_len);
    result.n_tool_calls = r.n_tool_calls;
    result.n_drafted_tokens = r.n_drafted_tokens;
    result.n_accepted_tokens = r.n_accepted_tokens;
    return result;
  }

  std::unique_ptr<r1_session, Free> session_;
};

inline const char* StopReasonName(StopReason reason) {
  switch (reason) {
    case StopReason::kEndOfGeneration: return "end of generation";
    case StopReason::kMaxTokens: return "max tokens";
    case StopReason::kStopString: return "stop string";
    case StopReason::kCancelled: return "cancelled";
    case StopReason::kContextFull: return "context full";
    case StopReason::kGrammarDeadEnd: return "grammar dead end";
  }
  return "unknown";
}

}  // namespace hpp_v0
}  // namespace r1
