/* r1.h — the stable C ABI of r1: run DeepSeek-R1-family models from GGUF files.
 *
 * C99; nothing C++ crosses this interface. Conventions:
 * - Objects are opaque handles (r1_model, r1_session) made by r1_*_create/load and released
 *   by r1_*_free; freeing NULL is a no-op.
 * - Every call that can fail returns an r1_status: R1_OK (0) or a negative error code. The
 *   message of the last error on the calling thread is r1_last_error().
 * - Option and result structs begin with `struct_size`; fill them with r1_*_default() (which
 *   sets it) before changing fields. A library reads only the fields the caller's struct_size
 *   covers, so structs can grow in later versions without breaking old callers.
 * - Callbacks take a `void *user_data` and return 0 to continue, non-zero to stop. They run on
 *   the thread that made the call.
 * - Enumerations only gain values; existing values never change meaning.
 *
 * Thread safety: an r1_model is immutable and may be used from any number of threads at once
 * (r1_session_create, r1_tokenize, r1_detokenize, r1_model_info). An r1_session is used by one
 * thread at a time, except r1_session_cancel, which may be called from any thread.
 */
#ifndef R1_H_
#define R1_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#if defined(R1_BUILDING)
#define R1_CAPI __declspec(dllexport)
#else
#define R1_CAPI __declspec(dllimport)
#endif
#else
#define R1_CAPI __attribute__((visibility("default")))
#endif

#define R1_VERSION_MAJOR 0
#define R1_VERSION_MINOR 1
#define R1_VERSION_PATCH 0
/* MAJOR * 10000 + MINOR * 100 + PATCH; compare with r1_version() to check that the header and
 * the library agree. */
#define R1_VERSION_NUMBER (R1_VERSION_MAJOR * 10000 + R1_VERSION_MINOR * 100 + R1_VERSION_PATCH)

typedef enum r1_status {
  R1_OK = 0,
  R1_ERR_INVALID_ARGUMENT = -1,   /* a null pointer, a bad option, an unknown token id, … */
  R1_ERR_NOT_FOUND = -2,          /* a file that does not exist */
  R1_ERR_OUT_OF_RANGE = -3,       /* e.g. a prompt longer than the context */
  R1_ERR_UNSUPPORTED = -4,        /* a valid file r1 cannot run (architecture, type) */
  R1_ERR_IO = -5,                 /* reading or writing failed */
  R1_ERR_CANCELLED = -6,          /* a progress callback asked to stop */
  R1_ERR_OUT_OF_MEMORY = -7,
  R1_ERR_BUFFER_TOO_SMALL = -8,   /* the required size was stored; call again with more room */
  R1_ERR_FAILED_PRECONDITION = -9, /* e.g. a state file saved with another model */
  R1_ERR_INTERNAL = -10,
  R1_STATUS_MAX_ENUM = 0x7FFFFFFF
} r1_status;

typedef enum r1_channel {
  R1_CHANNEL_REASONING = 0, /* inside <think>…</think> */
  R1_CHANNEL_CONTENT = 1,   /* the answer */
  R1_CHANNEL_MAX_ENUM = 0x7FFFFFFF
} r1_channel;

typedef enum r1_stop_reason {
  R1_STOP_END_OF_GENERATION = 0,
  R1_STOP_MAX_TOKENS = 1,
  R1_STOP_STOP_STRING = 2,
  R1_STOP_CANCELLED = 3,
  R1_STOP_CONTEXT_FULL = 4,
  R1_STOP_GRAMMAR_DEAD_END = 5, /* the grammar allows no token of the vocabulary here */
  R1_STOP_MAX_ENUM = 0x7FFFFFFF
} r1_stop_reason;

typedef struct r1_model r1_model;
typedef struct r1_session r1_session;

/* ---- version and errors ------------------------------------------------------------- */

/* R1_VERSION_NUMBER of the library that is running. Thread-safe. */
R1_CAPI int32_t r1_version(void);
/* "MAJOR.MINOR.PATCH". Thread-safe; a static string. */
R1_CAPI const char *r1_version_string(void);
/* The message of the last failed call on this thread ("" if none). Valid until the next r1
 * call on this thread. */
R1_CAPI const char *r1_last_error(void);
/* A short constant name for a status ("R1_ERR_NOT_FOUND"). Thread-safe. */
R1_CAPI const char *r1_status_name(r1_status status);

/* ---- models ------------------------------------------------------------------------- */

/* Load progress in [0, 1]; return non-zero to cancel the load (r1_model_load then returns
 * R1_ERR_CANCELLED). */
typedef int (*r1_progress_fn)(float progress, void *user_data);

typedef struct r1_model_options {
  uint32_t struct_size;
  int32_t use_mmap;          /* 1 (default): map the file; 0: read it into memory */
  int32_t n_threads;         /* default threads of sessions on this model; 0 = all cores */
  r1_progress_fn progress;   /* may be NULL */
  void *progress_user_data;
  /* 1: also keep the quantized matrices repacked for the prompt GEMM, once at load (faster
   * prompts, most for short batches; an owned copy of ~1.25-1.5 bytes per weight beside the
   * mapped file). 0 (default): repacked per prompt batch, no extra memory. Only CPUs with
   * AVX-512 VNNI use it; elsewhere it is ignored. */
  int32_t repack_weights;
  /* 1: also keep the Q4_K and Q6_K matrices interleaved 16 rows at a time, once at load, for
   * the decode kernels: a decode step of several sessions at once (r1_session_eval_batch)
   * runs much faster, one session somewhat, short prompts too. A copy about as large as those
   * tensors; with use_mmap the file's pages of them are released after the copy, so resident
   * memory holds the copy instead of both. 0 (default): the weights are read where they lie in
   * the file. Only CPUs with AVX-512 VNNI use it; elsewhere it is ignored. */
  int32_t interleave_rows;
} r1_model_options;

R1_CAPI void r1_model_options_default(r1_model_options *options);

/* Loads a GGUF model. options may be NULL (defaults). On success *out_model is a new model;
 * on failure it is set to NULL. A malformed file is an error, never a crash. */
R1_CAPI r1_status r1_model_load(const char *path, const r1_model_options *options, r1_model **out_model);
/* Releases the model. Sessions keep the model alive: it is freed when the last of them is. */
R1_CAPI void r1_model_free(r1_model *model);

typedef struct r1_model_info {
  uint32_t struct_size;
  const char *architecture; /* "llama", "qwen2"; valid while the model lives */
  const char *name;         /* general.name or "" */
  int64_t n_vocab;
  int64_t n_ctx_train;
  int64_t n_embd;
  int64_t n_layers;
  int64_t n_heads;
  int64_t n_kv_heads;
  int64_t n_params_bytes;   /* bytes of all weights */
  int32_t has_chat_template;
  int32_t bos_token;        /* -1 when the vocabulary has none */
  int32_t eos_token;
} r1_model_info;

R1_CAPI void r1_model_info_default(r1_model_info *info);
R1_CAPI r1_status r1_model_get_info(const r1_model *model, r1_model_info *info);

/* Text to token ids. add_bos: -1 as the model's metadata says, 0 no, 1 yes. parse_special:
 * non-zero recognises control tokens written in the text. Writes at most capacity ids; if
 * more are needed returns R1_ERR_BUFFER_TOO_SMALL with *n_tokens set to the count needed. */
R1_CAPI r1_status r1_tokenize(const r1_model *model, const char *text, size_t text_len, int32_t add_bos,
                              int32_t parse_special, int32_t *tokens, size_t capacity, size_t *n_tokens);
/* Token ids to UTF-8 text (not NUL-terminated unless room remains, then one NUL is added).
 * R1_ERR_BUFFER_TOO_SMALL with *text_len = bytes needed when capacity is too small. */
R1_CAPI r1_status r1_detokenize(const r1_model *model, const int32_t *tokens, size_t n_tokens, char *text,
                                size_t capacity, size_t *text_len);

/* ---- GPUs --------------------------------------------------------------------------- */

/* A GPU a session's layers may run on (r1_session_options.gpu_device is its index). */
typedef struct r1_gpu_device_info {
  uint32_t struct_size;
  char name[256];        /* NUL-terminated, as the driver names it */
  char kind[16];         /* "discrete", "integrated", "virtual", "cpu" (a software device), "other" */
  uint64_t memory_bytes; /* its largest device-local memory heap */
} r1_gpu_device_info;

R1_CAPI void r1_gpu_device_info_default(r1_gpu_device_info *info);
/* How many GPUs r1_session_options.gpu_device may name: 0 for a library built without Vulkan or
 * a machine without a Vulkan driver. */
R1_CAPI r1_status r1_gpu_device_count(size_t *n_devices);
/* GPU `index` (0 … count - 1, the Vulkan driver's order); R1_ERR_INVALID_ARGUMENT past the end. */
R1_CAPI r1_status r1_gpu_device_get_info(size_t index, r1_gpu_device_info *info);

/* ---- sessions ----------------------------------------------------------------------- */

/* How a session's KV cache stores keys and values (r1_session_options.cache_type). */
typedef enum r1_cache_type {
  R1_CACHE_F16 = 0,  /* half of F32's memory and bandwidth, no measurable loss */
  R1_CACHE_Q8_0 = 1, /* half of F16's again; needs head sizes that are multiples of 32 */
  R1_CACHE_F32 = 2,  /* the exactness reference */
  R1_CACHE_MAX_ENUM = 0x7FFFFFFF
} r1_cache_type;

typedef struct r1_session_options {
  uint32_t struct_size;
  /* context length; 0 = the model's training context, capped at 32,768 for a model with a
   * chat template and at 4,096 for one without (the cache is reserved, not touched: memory
   * grows with the positions used) */
  int32_t n_ctx;
  int32_t n_threads;  /* 0 = the model's default */
  int32_t n_batch;    /* prompt tokens per forward pass; 0 = 512 */
  int32_t cache_type; /* an r1_cache_type; default R1_CACHE_F16 */
  /* nonzero: prompt batches compute every product as a decode step does, so a position's
   * logits are the same bits however its tokens were batched; costs prompt speed. Default 0:
   * faster engines whose last-bit differences now and then decide a near-tie the other way. */
  int32_t batch_invariant;
  /* layers run on a GPU (Vulkan; a library built with it): 0 (default) none, -1 all, n the first
   * n. Every architecture and weight type but the i-quants; session creation fails with the
   * reason where the library, the machine or the model cannot. */
  int32_t gpu_layers;
  int32_t gpu_device; /* which GPU, an index of r1_gpu_device_get_info; -1 (default) the best one */
} r1_session_options;

R1_CAPI void r1_session_options_default(r1_session_options *options);
R1_CAPI r1_status r1_session_create(r1_model *model, const r1_session_options *options, r1_session **out_session);
R1_CAPI void r1_session_free(r1_session *session);

typedef struct r1_message {
  const char *role;    /* "system", "user" or "assistant" */
  const char *content; /* UTF-8, NUL-terminated */
} r1_message;

typedef struct r1_generate_options {
  uint32_t struct_size;
  int32_t max_new_tokens;   /* < 0 (default -1): until the context is full */
  float temperature;        /* default 0.6; 0 = greedy */
  int32_t top_k;            /* default 0 (off) */
  float top_p;              /* default 0.95 */
  float min_p;              /* default 0 (off) */
  float repeat_penalty;     /* default 1 (off) */
  float presence_penalty;   /* default 0 */
  float frequency_penalty;  /* default 0 */
  int32_t penalty_window;   /* default 64 */
  uint64_t seed;            /* default 0 */
  const char *const *stop;  /* n_stop stop strings (NUL-terminated), or NULL */
  size_t n_stop;
  int32_t reasoning_budget; /* at most this many thinking tokens; < 0 (default) no limit */
  int32_t ignore_eos;       /* non-zero: continue past end-of-generation tokens */
  int32_t drop_oldest_turns; /* chat: drop old turns instead of failing when the context is full */
  /* chat: a built-in template to use instead of the model's: "deepseek-r1",
   * "deepseek-r1-distill", "llama3", "chatml", "qwen2"; NULL (default) = the model's */
  const char *chat_template;
  /* Structured output (doc/structured-output.md): the answer must match this GBNF grammar, or
   * validate against this JSON Schema (JSON text); NULL (default) = free text; not both. With a
   * reasoning model the thought stays free: the grammar applies after "</think>". */
  const char *grammar;
  const char *json_schema;
  int32_t grammar_from_first_token; /* non-zero: the grammar governs all output, thought included */
  /* Chat: functions the model may call, as OpenAI's `tools` JSON array
   * ([{"type": "function", "function": {"name", "description", "parameters"}}]); NULL = none.
   * Calls in the answer come back in r1_result.tool_calls_json. */
  const char *tools_json;
  /* "auto" (NULL, default): the model chooses; "none"; "required": it must call one; any other
   * text: the name of the function it must call. */
  const char *tool_choice;
} r1_generate_options;

R1_CAPI void r1_generate_options_default(r1_generate_options *options);

/* One streamed piece of complete UTF-8 text (not NUL-terminated) of one channel. Return
 * non-zero to stop the generation (its stop reason is then R1_STOP_CANCELLED). */
typedef int (*r1_stream_fn)(r1_channel channel, const char *text, size_t text_len, int32_t token, void *user_data);

typedef struct r1_result {
  uint32_t struct_size;
  r1_stop_reason stop_reason;
  int64_t n_prompt_tokens;
  int64_t n_prefilled_tokens;  /* prompt tokens computed (the rest came from the cache) */
  int64_t n_generated_tokens;
  int64_t n_reasoning_tokens;
  double prefill_seconds;
  double decode_seconds;
  const char *reasoning;       /* NUL-terminated; valid until the next call on the session */
  size_t reasoning_len;
  const char *content;
  size_t content_len;
  /* The functions the answer called, as OpenAI's tool_calls JSON array
   * ([{"id", "type": "function", "function": {"name", "arguments": "JSON text"}}]); "[]" when
   * none. Valid until the next call on the session. */
  const char *tool_calls_json;
  size_t tool_calls_json_len;
  int32_t n_tool_calls;
  /* Speculative decoding (r1_session_set_draft): the draft's guesses, and how many the model
   * kept. */
  int64_t n_drafted_tokens;
  int64_t n_accepted_tokens;
} r1_result;

R1_CAPI void r1_result_default(r1_result *result);

/* Formats the conversation with the model's chat template and generates the assistant's
 * answer, reusing the cached prefix of earlier turns. on_piece and result may be NULL. */
R1_CAPI r1_status r1_session_chat(r1_session *session, const r1_message *messages, size_t n_messages,
                                  const r1_generate_options *options, r1_stream_fn on_piece, void *user_data,
                                  r1_result *result);
/* Continues a raw prompt (special tokens in it are recognised; BOS per the metadata). */
R1_CAPI r1_status r1_session_generate(r1_session *session, const char *prompt, size_t prompt_len,
                                      const r1_generate_options *options, r1_stream_fn on_piece, void *user_data,
                                      r1_result *result);
/* As r1_session_chat, with the conversation as OpenAI's `messages` JSON array (UTF-8, not
 * necessarily NUL-terminated): [{"role", "content", "tool_calls"?, "tool_call_id"?}], so that
 * assistant turns can carry their tool calls and "tool" turns the results. */
R1_CAPI r1_status r1_session_chat_json(r1_session *session, const char *messages_json, size_t messages_json_len,
                                       const r1_generate_options *options, r1_stream_fn on_piece, void *user_data,
                                       r1_result *result);
/* Speculative decoding for this session's generations: `draft`, a smaller model with the same
 * tokenizer (R1_ERR_INVALID_ARGUMENT otherwise), guesses up to max_draft_tokens (1 to 16; 0:
 * 8) tokens ahead, adapting to how many are kept; the model checks them in one pass. The output
 * is unchanged, token for token, for any sampler and seed. The session keeps its own reference to
 * the draft model. draft NULL removes the draft. */
R1_CAPI r1_status r1_session_set_draft(r1_session *session, r1_model *draft, int32_t max_draft_tokens);
/* The same with the model's own multi-token-prediction (nextn) block as the draft, for files
 * that carry one (DeepSeek-V3/R1): no second model, guesses from the session's own hidden
 * states. R1_ERR_FAILED_PRECONDITION when the file carries none or one r1 cannot use
 * (r1_last_error says which). r1_session_set_draft(session, NULL, 0) removes it. */
R1_CAPI r1_status r1_session_set_nextn_draft(r1_session *session, int32_t max_draft_tokens);
/* Asks a running generation on this session to stop at the next token. Any thread. */
R1_CAPI r1_status r1_session_cancel(r1_session *session);
/* Clears the context. */
R1_CAPI r1_status r1_session_reset(r1_session *session);
/* Appends tokens to the context and computes the last one's logits. */
R1_CAPI r1_status r1_session_eval(r1_session *session, const int32_t *tokens, size_t n_tokens);
/* One decode step of n sessions on one model in one forward pass: sessions[i] appends tokens[i]
 * and its logits are then, bit for bit, those it computes stepping alone; the weights are read
 * once for all. Runs on the first session's threads (at most its batch size of sessions). The
 * sessions must share the model, cache type and batch invariance; on error nothing changes. */
R1_CAPI r1_status r1_session_eval_batch(r1_session *const *sessions, const int32_t *tokens, size_t n);
/* The last computed logits ([n_vocab] floats, valid until the next call on the session). */
R1_CAPI r1_status r1_session_logits(const r1_session *session, const float **logits, size_t *n_vocab);
/* Tokens in the context. */
R1_CAPI r1_status r1_session_n_past(const r1_session *session, int64_t *n_past);
/* Saves the context (tokens and KV cache) to a file, and restores it into a session on the
 * same model; generation then continues as it would have in the original. */
R1_CAPI r1_status r1_session_save(const r1_session *session, const char *path);
R1_CAPI r1_status r1_session_load(r1_session *session, const char *path);

#ifdef __cplusplus
}
#endif

#endif /* R1_H_ */
