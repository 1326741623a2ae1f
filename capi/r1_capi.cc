// r1_capi.cc — the C ABI over the C++ API. Every entry point checks its pointers and struct
// sizes, runs inside a guard that turns any exception into a status, and records the message
// of a failure for r1_last_error().
#include "r1.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "grammar/ordered_json.h"
#include "r1/chat.h"
#include "r1/model.h"
#include "r1/session.h"
#include "r1/tokenizer.h"
#include "session/chat_json.h"

// The C constants are the C++ enumerators' values, so a cache type converts by a cast.
static_assert(R1_CACHE_F16 == static_cast<int>(r1::CacheType::kF16) &&
              R1_CACHE_Q8_0 == static_cast<int>(r1::CacheType::kQ8_0) &&
              R1_CACHE_F32 == static_cast<int>(r1::CacheType::kF32));

struct r1_model {
  std::shared_ptr<const r1::Model> model;
};

struct r1_session {
  std::shared_ptr<const r1::Model> model;
  std::unique_ptr<r1::Session> session;
  r1::GenerateResult last;  // owns the strings r1_result points to
  std::string last_tool_calls_json;
};

namespace {

thread_local std::string g_error;
thread_local const char* g_error_static = nullptr;  // set instead of g_error when memory is short

r1_status Fail(r1_status status, std::string_view message) {
  g_error_static = nullptr;
  try {
    g_error.assign(message.data(), message.size());
  } catch (...) {
    g_error_static = "out of memory while recording an error";
  }
  return status;
}

r1_status FromStatus(const absl::Status& s) {
  if (s.ok()) return R1_OK;
  r1_status code = R1_ERR_INTERNAL;
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument: code = R1_ERR_INVALID_ARGUMENT; break;
    case absl::StatusCode::kNotFound: code = R1_ERR_NOT_FOUND; break;
    case absl::StatusCode::kOutOfRange: code = R1_ERR_OUT_OF_RANGE; break;
    case absl::StatusCode::kUnimplemented: code = R1_ERR_UNSUPPORTED; break;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kDataLoss: code = R1_ERR_IO; break;
    case absl::StatusCode::kCancelled: code = R1_ERR_CANCELLED; break;
    case absl::StatusCode::kResourceExhausted: code = R1_ERR_OUT_OF_MEMORY; break;
    case absl::StatusCode::kFailedPrecondition: code = R1_ERR_FAILED_PRECONDITION; break;
    default: break;
  }
  const auto message = s.message();
  return Fail(code, std::string_view(message.data(), message.size()));
}

template <typename F>
r1_status Guard(F&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    g_error_static = "out of memory";
    return R1_ERR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    return Fail(R1_ERR_INTERNAL, e.what());
  } catch (...) {
    return Fail(R1_ERR_INTERNAL, "unexpected exception");
  }
}

r1_status Null(const char* what) { return Fail(R1_ERR_INVALID_ARGUMENT, std::string(what) + " is NULL"); }

// Copies the caller's struct over `defaults`, as far as both sizes reach.
template <typename T>
r1_status ReadOptions(const T* given, T* out, const char* what) {
  if (given == nullptr) return R1_OK;
  if ((given->struct_size) < sizeof(uint32_t) || (given->struct_size) > (1u << 16)) {
    return Fail(R1_ERR_INVALID_ARGUMENT, std::string(what) + ": struct_size is not set (use the _default function)");
  }
  std::memcpy(reinterpret_cast<char*>(out) + sizeof(uint32_t), reinterpret_cast<const char*>(given) + sizeof(uint32_t),
              std::min<size_t>(given->struct_size, sizeof(T)) - sizeof(uint32_t));
  return R1_OK;
}

// Writes `value` into the caller's struct, as far as its size reaches.
template <typename T>
r1_status WriteResult(const T& value, T* out, const char* what) {
  if ((out->struct_size) < sizeof(uint32_t) || (out->struct_size) > (1u << 16)) {
    return Fail(R1_ERR_INVALID_ARGUMENT, std::string(what) + ": struct_size is not set (use the _default function)");
  }
  const uint32_t size = out->struct_size;
  std::memcpy(reinterpret_cast<char*>(out) + sizeof(uint32_t), reinterpret_cast<const char*>(&value) + sizeof(uint32_t),
              std::min<size_t>(size, sizeof(T)) - sizeof(uint32_t));
  return R1_OK;
}

// The options in C++ form, the tools read from their JSON; InvalidArgument names the field at fault.
absl::StatusOr<r1::GenerateOptions> ToCpp(const r1_generate_options& o) {
  r1::GenerateOptions g;
  g.max_new_tokens = o.max_new_tokens;
  g.sampler.temperature = o.temperature;
  g.sampler.top_k = o.top_k;
  g.sampler.top_p = o.top_p;
  g.sampler.min_p = o.min_p;
  g.sampler.repeat_penalty = o.repeat_penalty;
  g.sampler.presence_penalty = o.presence_penalty;
  g.sampler.frequency_penalty = o.frequency_penalty;
  g.sampler.penalty_window = o.penalty_window;
  g.sampler.seed = o.seed;
  for (size_t i = 0; i < o.n_stop; ++i) g.stop.emplace_back(o.stop[i]);
  g.reasoning_budget = o.reasoning_budget;
  g.ignore_eos = o.ignore_eos != 0;
  g.drop_oldest_turns = o.drop_oldest_turns != 0;
  if (o.chat_template != nullptr) g.chat_template = r1::ChatTemplateFromName(o.chat_template);
  if (o.grammar != nullptr) g.grammar = o.grammar;
  if (o.json_schema != nullptr) g.json_schema = o.json_schema;
  g.grammar_from_first_token = o.grammar_from_first_token != 0;
  if (o.tools_json != nullptr) {
    const std::optional<r1::chat_json::Json> tools = r1::ParseOrderedJson(o.tools_json);
    if (!tools) return absl::InvalidArgumentError("tools_json is not JSON");
    R1_ASSIGN_OR_RETURN(g.tools, r1::chat_json::ReadTools(*tools));
  }
  if (o.tool_choice != nullptr) r1::chat_json::ToolChoiceFromText(o.tool_choice, &g);
  return g;
}

r1_status Finish(r1_session* s, absl::StatusOr<r1::GenerateResult> result, r1_result* out) {
  if (!result.ok()) return FromStatus(result.status());
  s->last = *std::move(result);
  if (out == nullptr) return R1_OK;
  r1_result r;
  r1_result_default(&r);
  r.stop_reason = static_cast<r1_stop_reason>(s->last.stop_reason);
  r.n_prompt_tokens = s->last.n_prompt_tokens;
  r.n_prefilled_tokens = s->last.n_prefilled_tokens;
  r.n_generated_tokens = s->last.n_generated_tokens;
  r.n_reasoning_tokens = s->last.n_reasoning_tokens;
  r.prefill_seconds = s->last.prefill_seconds;
  r.decode_seconds = s->last.decode_seconds;
  r.reasoning = s->last.reasoning.c_str();
  r.reasoning_len = s->last.reasoning.size();
  r.content = s->last.content.c_str();
  r.content_len = s->last.content.size();
  s->last_tool_calls_json = r1::chat_json::ToolCallsJson(s->last.tool_calls).dump();
  r.tool_calls_json = s->last_tool_calls_json.c_str();
  r.tool_calls_json_len = s->last_tool_calls_json.size();
  r.n_tool_calls = static_cast<int32_t>(s->last.tool_calls.size());
  r.n_drafted_tokens = s->last.n_drafted_tokens;
  r.n_accepted_tokens = s->last.n_accepted_tokens;
  return WriteResult(r, out, "r1_result");
}

r1::StreamCallback Stream(r1_stream_fn fn, void* user_data) {
  if (fn == nullptr) return nullptr;
  return [fn, user_data](const r1::StreamPiece& p) {
    return fn(static_cast<r1_channel>(p.channel), p.text.data(), p.text.size(), p.token, user_data) == 0;
  };
}

// The caller's options, checked and in C++ form.
r1_status ReadGenerateOptions(r1_session* session, const r1_generate_options* options, r1::GenerateOptions* out) {
  if (session == nullptr) return Null("session");
  r1_generate_options opts;
  r1_generate_options_default(&opts);
  if (r1_status st = ReadOptions(options, &opts, "r1_generate_options"); st != R1_OK) return st;
  if (opts.n_stop > 0 && opts.stop == nullptr) return Null("r1_generate_options.stop");
  for (size_t i = 0; i < opts.n_stop; ++i) {
    if (opts.stop[i] == nullptr) return Null("a stop string");
  }
  if (opts.chat_template != nullptr && !r1::ChatTemplateFromName(opts.chat_template)) {
    return Fail(R1_ERR_INVALID_ARGUMENT, std::string("unknown chat template '") + opts.chat_template + "'");
  }
  absl::StatusOr<r1::GenerateOptions> cpp = ToCpp(opts);
  if (!cpp.ok()) return FromStatus(cpp.status());
  *out = *std::move(cpp);
  return R1_OK;
}

}  // namespace

extern "C" {

int32_t r1_version(void) { return R1_VERSION_NUMBER; }

const char* r1_version_string(void) {
#define R1_STR2(x) #x
#define R1_STR(x) R1_STR2(x)
  return R1_STR(R1_VERSION_MAJOR) "." R1_STR(R1_VERSION_MINOR) "." R1_STR(R1_VERSION_PATCH);
}

const char* r1_last_error(void) { return g_error_static != nullptr ? g_error_static : g_error.c_str(); }

const char* r1_status_name(r1_status status) {
  switch (status) {
    case R1_OK: return "R1_OK";
    case R1_ERR_INVALID_ARGUMENT: return "R1_ERR_INVALID_ARGUMENT";
    case R1_ERR_NOT_FOUND: return "R1_ERR_NOT_FOUND";
    case R1_ERR_OUT_OF_RANGE: return "R1_ERR_OUT_OF_RANGE";
    case R1_ERR_UNSUPPORTED: return "R1_ERR_UNSUPPORTED";
    case R1_ERR_IO: return "R1_ERR_IO";
    case R1_ERR_CANCELLED: return "R1_ERR_CANCELLED";
    case R1_ERR_OUT_OF_MEMORY: return "R1_ERR_OUT_OF_MEMORY";
    case R1_ERR_BUFFER_TOO_SMALL: return "R1_ERR_BUFFER_TOO_SMALL";
    case R1_ERR_FAILED_PRECONDITION: return "R1_ERR_FAILED_PRECONDITION";
    case R1_ERR_INTERNAL: return "R1_ERR_INTERNAL";
    default: return "unknown r1_status";
  }
}

void r1_model_options_default(r1_model_options* o) {
  if (o == nullptr) return;
  *o = r1_model_options{};
  o->struct_size = sizeof(*o);
  o->use_mmap = 1;
}

r1_status r1_model_load(const char* path, const r1_model_options* options, r1_model** out_model) {
  return Guard([&] {
    if (out_model == nullptr) return Null("out_model");
    *out_model = nullptr;
    if (path == nullptr) return Null("path");
    r1_model_options o;
    r1_model_options_default(&o);
    if (r1_status st = ReadOptions(options, &o, "r1_model_options"); st != R1_OK) return st;
    r1::LoadOptions lo;
    lo.use_mmap = o.use_mmap != 0;
    lo.n_threads = o.n_threads;
    lo.repack_weights = o.repack_weights != 0;
    lo.interleave_rows = o.interleave_rows != 0;
    if (o.progress != nullptr) {
      lo.progress = [fn = o.progress, ud = o.progress_user_data](float f) { return fn(f, ud) == 0; };
    }
    auto model = r1::Model::Load(path, lo);
    if (!model.ok()) return FromStatus(model.status());
    *out_model = new r1_model{*std::move(model)};
    return R1_OK;
  });
}

void r1_model_free(r1_model* model) { delete model; }

void r1_model_info_default(r1_model_info* info) {
  if (info == nullptr) return;
  *info = r1_model_info{};
  info->struct_size = sizeof(*info);
}

r1_status r1_model_get_info(const r1_model* model, r1_model_info* info) {
  return Guard([&] {
    if (model == nullptr) return Null("model");
    if (info == nullptr) return Null("info");
    const r1::ModelConfig& c = model->model->config();
    const r1::Tokenizer* tok = model->model->tokenizer();
    r1_model_info v;
    r1_model_info_default(&v);
    v.architecture = c.architecture.c_str();
    v.name = c.name.c_str();
    v.n_vocab = c.n_vocab;
    v.n_ctx_train = c.n_ctx_train;
    v.n_embd = c.d_model;
    v.n_layers = c.n_layers;
    v.n_heads = c.n_heads;
    v.n_kv_heads = c.n_kv_heads;
    v.n_params_bytes = static_cast<int64_t>(model->model->weight_bytes());
    v.has_chat_template = tok != nullptr && !tok->chat_template().empty();
    v.bos_token = tok != nullptr && tok->bos_id() ? *tok->bos_id() : -1;
    v.eos_token = tok != nullptr && tok->eos_id() ? *tok->eos_id() : -1;
    return WriteResult(v, info, "r1_model_info");
  });
}

void r1_gpu_device_info_default(r1_gpu_device_info* info) {
  if (info == nullptr) return;
  *info = r1_gpu_device_info{};
  info->struct_size = sizeof(*info);
}

r1_status r1_gpu_device_count(size_t* n_devices) {
  return Guard([&] {
    if (n_devices == nullptr) return Null("n_devices");
    const absl::StatusOr<std::vector<r1::GpuDevice>> gpus = r1::ListGpuDevices();
    if (!gpus.ok()) return FromStatus(gpus.status());
    *n_devices = gpus->size();
    return R1_OK;
  });
}

r1_status r1_gpu_device_get_info(size_t index, r1_gpu_device_info* info) {
  return Guard([&] {
    if (info == nullptr) return Null("info");
    const absl::StatusOr<std::vector<r1::GpuDevice>> gpus = r1::ListGpuDevices();
    if (!gpus.ok()) return FromStatus(gpus.status());
    if (index >= gpus->size()) {
      return Fail(R1_ERR_INVALID_ARGUMENT,
                  "no GPU " + std::to_string(index) + " (there are " + std::to_string(gpus->size()) + ")");
    }
    const r1::GpuDevice& gpu = (*gpus)[index];
    r1_gpu_device_info v;
    r1_gpu_device_info_default(&v);
    // Truncated to the fixed fields, always NUL-terminated.
    gpu.name.copy(v.name, sizeof(v.name) - 1);
    gpu.kind.copy(v.kind, sizeof(v.kind) - 1);
    v.memory_bytes = gpu.memory_bytes;
    return WriteResult(v, info, "r1_gpu_device_info");
  });
}

r1_status r1_tokenize(const r1_model* model, const char* text, size_t text_len, int32_t add_bos, int32_t parse_special,
                      int32_t* tokens, size_t capacity, size_t* n_tokens) {
  return Guard([&] {
    if (model == nullptr) return Null("model");
    if (text == nullptr && text_len > 0) return Null("text");
    if (n_tokens == nullptr) return Null("n_tokens");
    if (tokens == nullptr && capacity > 0) return Null("tokens");
    const r1::Tokenizer* tok = model->model->tokenizer();
    if (tok == nullptr) return Fail(R1_ERR_FAILED_PRECONDITION, "the model has no tokenizer");
    r1::EncodeOptions eo;
    if (add_bos >= 0) eo.add_bos = add_bos != 0;
    eo.parse_special = parse_special != 0;
    auto ids = tok->Encode(std::string_view(text == nullptr ? "" : text, text_len), eo);
    if (!ids.ok()) return FromStatus(ids.status());
    *n_tokens = ids->size();
    if (ids->size() > capacity) return Fail(R1_ERR_BUFFER_TOO_SMALL, "the token buffer is too small");
    std::copy(ids->begin(), ids->end(), tokens);
    return R1_OK;
  });
}

r1_status r1_detokenize(const r1_model* model, const int32_t* tokens, size_t n_tokens, char* text, size_t capacity,
                        size_t* text_len) {
  return Guard([&] {
    if (model == nullptr) return Null("model");
    if (tokens == nullptr && n_tokens > 0) return Null("tokens");
    if (text_len == nullptr) return Null("text_len");
    if (text == nullptr && capacity > 0) return Null("text");
    const r1::Tokenizer* tok = model->model->tokenizer();
    if (tok == nullptr) return Fail(R1_ERR_FAILED_PRECONDITION, "the model has no tokenizer");
    auto s = tok->Decode(absl::Span<const int32_t>(tokens, n_tokens));
    if (!s.ok()) return FromStatus(s.status());
    *text_len = s->size();
    if (s->size() > capacity) return Fail(R1_ERR_BUFFER_TOO_SMALL, "the text buffer is too small");
    std::memcpy(text, s->data(), s->size());
    if (s->size() < capacity) text[s->size()] = '\0';
    return R1_OK;
  });
}

void r1_session_options_default(r1_session_options* o) {
  if (o == nullptr) return;
  *o = r1_session_options{};
  o->struct_size = sizeof(*o);
  o->cache_type = R1_CACHE_F16;
  o->gpu_device = -1;
}

r1_status r1_session_create(r1_model* model, const r1_session_options* options, r1_session** out_session) {
  return Guard([&] {
    if (out_session == nullptr) return Null("out_session");
    *out_session = nullptr;
    if (model == nullptr) return Null("model");
    r1_session_options o;
    r1_session_options_default(&o);
    if (r1_status st = ReadOptions(options, &o, "r1_session_options"); st != R1_OK) return st;
    r1::SessionOptions so;
    so.n_ctx = o.n_ctx;
    so.n_threads = o.n_threads;
    so.n_batch = o.n_batch == 0 ? 512 : o.n_batch;
    if (o.cache_type < R1_CACHE_F16 || o.cache_type > R1_CACHE_F32) {
      return Fail(R1_ERR_INVALID_ARGUMENT, "r1_session_options.cache_type: unknown cache type " +
                                               std::to_string(o.cache_type));
    }
    so.cache_type = static_cast<r1::CacheType>(o.cache_type);
    so.batch_invariant = o.batch_invariant != 0;
    so.gpu_layers = o.gpu_layers;
    so.gpu_device = o.gpu_device;
    auto session = r1::Session::Create(model->model, so);
    if (!session.ok()) return FromStatus(session.status());
    *out_session = new r1_session{model->model, *std::move(session), {}};
    return R1_OK;
  });
}

void r1_session_free(r1_session* session) { delete session; }

void r1_generate_options_default(r1_generate_options* o) {
  if (o == nullptr) return;
  const r1::GenerateOptions d;
  *o = r1_generate_options{};
  o->struct_size = sizeof(*o);
  o->max_new_tokens = static_cast<int32_t>(d.max_new_tokens);
  o->temperature = d.sampler.temperature;
  o->top_k = d.sampler.top_k;
  o->top_p = d.sampler.top_p;
  o->min_p = d.sampler.min_p;
  o->repeat_penalty = d.sampler.repeat_penalty;
  o->presence_penalty = d.sampler.presence_penalty;
  o->frequency_penalty = d.sampler.frequency_penalty;
  o->penalty_window = d.sampler.penalty_window;
  o->seed = d.sampler.seed;
  o->reasoning_budget = static_cast<int32_t>(d.reasoning_budget);
}

void r1_result_default(r1_result* r) {
  if (r == nullptr) return;
  *r = r1_result{};
  r->struct_size = sizeof(*r);
}

r1_status r1_session_chat(r1_session* session, const r1_message* messages, size_t n_messages,
                          const r1_generate_options* options, r1_stream_fn on_piece, void* user_data, r1_result* result) {
  return Guard([&] {
    r1::GenerateOptions o;
    if (r1_status st = ReadGenerateOptions(session, options, &o); st != R1_OK) return st;
    if (messages == nullptr && n_messages > 0) return Null("messages");
    std::vector<r1::ChatMessage> chat;
    for (size_t i = 0; i < n_messages; ++i) {
      if (messages[i].role == nullptr || messages[i].content == nullptr) return Null("a message's role or content");
      chat.push_back({messages[i].role, messages[i].content});
    }
    return Finish(session, session->session->Chat(chat, o, Stream(on_piece, user_data)), result);
  });
}

r1_status r1_session_generate(r1_session* session, const char* prompt, size_t prompt_len,
                              const r1_generate_options* options, r1_stream_fn on_piece, void* user_data,
                              r1_result* result) {
  return Guard([&] {
    r1::GenerateOptions o;
    if (r1_status st = ReadGenerateOptions(session, options, &o); st != R1_OK) return st;
    if (prompt == nullptr) return Null("prompt");
    return Finish(session,
                  session->session->Generate(std::string_view(prompt, prompt_len), o, Stream(on_piece, user_data)),
                  result);
  });
}

r1_status r1_session_chat_json(r1_session* session, const char* messages_json, size_t messages_json_len,
                               const r1_generate_options* options, r1_stream_fn on_piece, void* user_data,
                               r1_result* result) {
  return Guard([&] {
    r1::GenerateOptions o;
    if (r1_status st = ReadGenerateOptions(session, options, &o); st != R1_OK) return st;
    if (messages_json == nullptr) return Null("messages_json");
    const std::optional<r1::chat_json::Json> parsed =
        r1::ParseOrderedJson(std::string_view(messages_json, messages_json_len));
    if (!parsed) return Fail(R1_ERR_INVALID_ARGUMENT, "messages_json is not JSON");
    absl::StatusOr<std::vector<r1::ChatMessage>> chat = r1::chat_json::ReadMessages(*parsed);
    if (!chat.ok()) return FromStatus(chat.status());
    return Finish(session, session->session->Chat(*chat, o, Stream(on_piece, user_data)), result);
  });
}

r1_status r1_session_cancel(r1_session* session) {
  return Guard([&] {
    if (session == nullptr) return Null("session");
    session->session->Cancel();
    return R1_OK;
  });
}

r1_status r1_session_set_draft(r1_session* session, r1_model* draft, int32_t max_draft_tokens) {
  return Guard([&] {
    if (session == nullptr) return Null("session");
    if (draft == nullptr) {
      session->session->ClearDraft();
      return R1_OK;
    }
    r1::DraftOptions options;
    if (max_draft_tokens != 0) options.max_draft_tokens = max_draft_tokens;
    return FromStatus(session->session->SetDraft(draft->model, options));
  });
}

r1_status r1_session_set_nextn_draft(r1_session* session, int32_t max_draft_tokens) {
  return Guard([&] {
    if (session == nullptr) return Null("session");
    r1::DraftOptions options;
    if (max_draft_tokens != 0) options.max_draft_tokens = max_draft_tokens;
    return FromStatus(session->session->SetNextnDraft(options));
  });
}

r1_status r1_session_reset(r1_session* session) {
  return Guard([&] {
    if (session == nullptr) return Null("session");
    session->session->Reset();
    return R1_OK;
  });
}

r1_status r1_session_eval(r1_session* session, const int32_t* tokens, size_t n_tokens) {
  return Guard([&] {
    if (session == nullptr) return Null("session");
    if (tokens == nullptr) return Null("tokens");
    return FromStatus(session->session->Evaluate(absl::Span<const int32_t>(tokens, n_tokens)));
  });
}

r1_status r1_session_eval_batch(r1_session* const* sessions, const int32_t* tokens, size_t n) {
  return Guard([&] {
    if (sessions == nullptr) return Null("sessions");
    if (tokens == nullptr) return Null("tokens");
    if (n > (size_t{1} << 20)) return Fail(R1_ERR_INVALID_ARGUMENT, "more sessions than any batch holds");
    std::vector<r1::Session*> batch(n);
    for (size_t i = 0; i < n; ++i) {
      if (sessions[i] == nullptr) return Null("sessions[i]");
      batch[i] = sessions[i]->session.get();
    }
    return FromStatus(r1::Session::EvaluateBatch(batch, absl::Span<const int32_t>(tokens, n)));
  });
}

r1_status r1_session_logits(const r1_session* session, const float** logits, size_t* n_vocab) {
  return Guard([&] {
    if (session == nullptr) return Null("session");
    if (logits == nullptr || n_vocab == nullptr) return Null("logits or n_vocab");
    const auto row = session->session->Logits();
    if (row.empty()) return Fail(R1_ERR_FAILED_PRECONDITION, "no logits have been computed yet");
    *logits = row.data();
    *n_vocab = row.size();
    return R1_OK;
  });
}

r1_status r1_session_n_past(const r1_session* session, int64_t* n_past) {
  return Guard([&] {
    if (session == nullptr) return Null("session");
    if (n_past == nullptr) return Null("n_past");
    *n_past = session->session->n_past();
    return R1_OK;
  });
}

r1_status r1_session_save(const r1_session* session, const char* path) {
  return Guard([&] {
    if (session == nullptr) return Null("session");
    if (path == nullptr) return Null("path");
    return FromStatus(session->session->SaveState(path));
  });
}

r1_status r1_session_load(r1_session* session, const char* path) {
  return Guard([&] {
    if (session == nullptr) return Null("session");
    if (path == nullptr) return Null("path");
    return FromStatus(session->session->LoadState(path));
  });
}

}  // extern "C"
