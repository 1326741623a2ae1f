/* capi_test.c — drives the whole C ABI, compiled as C99: load with progress, chat, streaming
 * with channels, cancellation, save and restore, KV cache types, and error paths with null and
 * bad arguments.
 * Usage: capi_test MODEL_GGUF STATE_FILE_PATH. Prints "N passed, M failed". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "r1.h"

static int g_passed, g_failed;

#define CHECK(cond)                                                              \
  do {                                                                           \
    if (cond) {                                                                  \
      ++g_passed;                                                                \
    } else {                                                                     \
      ++g_failed;                                                                \
      fprintf(stderr, "%s:%d: CHECK(%s) failed; last error: %s\n", __FILE__, __LINE__, #cond, r1_last_error()); \
    }                                                                            \
  } while (0)

struct progress_log {
  int calls;
  float last;
  int monotonic;
  int cancel_at_call; /* 0 = never */
};

static int on_progress(float progress, void *user_data) {
  struct progress_log *log = (struct progress_log *)user_data;
  if (progress < log->last) log->monotonic = 0;
  log->last = progress;
  ++log->calls;
  return log->cancel_at_call != 0 && log->calls >= log->cancel_at_call;
}

struct stream_log {
  int pieces;
  int reasoning_pieces;
  int content_after_reasoning;
  int saw_content;
  int order_ok;
  size_t content_bytes;
  int stop_after; /* 0 = never */
};

static int on_piece(r1_channel channel, const char *text, size_t len, int32_t token, void *user_data) {
  struct stream_log *log = (struct stream_log *)user_data;
  (void)text;
  (void)token;
  ++log->pieces;
  if (channel == R1_CHANNEL_REASONING) {
    ++log->reasoning_pieces;
    if (log->saw_content) log->order_ok = 0;
  } else {
    log->saw_content = 1;
    log->content_bytes += len;
  }
  return log->stop_after != 0 && log->pieces >= log->stop_after;
}

static void test_errors(const char *model_path) {
  r1_model *model = (r1_model *)1;
  r1_session *session = (r1_session *)1;
  r1_model_options mo;
  r1_generate_options go;
  size_t n = 0;
  int32_t ids[4];

  CHECK(r1_version() == R1_VERSION_NUMBER);
  CHECK(strlen(r1_version_string()) >= 5);
  CHECK(r1_model_load(NULL, NULL, &model) == R1_ERR_INVALID_ARGUMENT);
  CHECK(model == NULL);
  CHECK(strlen(r1_last_error()) > 0);
  CHECK(r1_model_load(model_path, NULL, NULL) == R1_ERR_INVALID_ARGUMENT);
  CHECK(r1_model_load("/nonexistent/model.gguf", NULL, &model) == R1_ERR_NOT_FOUND);
  CHECK(r1_model_load("/etc/hostname", NULL, &model) != R1_OK);
  CHECK(model == NULL);
  memset(&mo, 0, sizeof mo); /* struct_size not set */
  CHECK(r1_model_load(model_path, &mo, &model) == R1_ERR_INVALID_ARGUMENT);
  CHECK(r1_session_create(NULL, NULL, &session) == R1_ERR_INVALID_ARGUMENT);
  CHECK(session == NULL);
  CHECK(r1_tokenize(NULL, "x", 1, -1, 0, ids, 4, &n) == R1_ERR_INVALID_ARGUMENT);
  CHECK(r1_detokenize(NULL, ids, 1, NULL, 0, &n) == R1_ERR_INVALID_ARGUMENT);
  r1_generate_options_default(&go);
  CHECK(r1_session_chat(NULL, NULL, 0, &go, NULL, NULL, NULL) == R1_ERR_INVALID_ARGUMENT);
  CHECK(r1_session_generate(NULL, "x", 1, NULL, NULL, NULL, NULL) == R1_ERR_INVALID_ARGUMENT);
  CHECK(r1_session_cancel(NULL) == R1_ERR_INVALID_ARGUMENT);
  CHECK(r1_session_reset(NULL) == R1_ERR_INVALID_ARGUMENT);
  CHECK(r1_session_save(NULL, "x") == R1_ERR_INVALID_ARGUMENT);
  CHECK(r1_session_load(NULL, "x") == R1_ERR_INVALID_ARGUMENT);
  CHECK(r1_session_eval(NULL, ids, 1) == R1_ERR_INVALID_ARGUMENT);
  CHECK(r1_model_get_info(NULL, NULL) == R1_ERR_INVALID_ARGUMENT);
  CHECK(strcmp(r1_status_name(R1_ERR_NOT_FOUND), "R1_ERR_NOT_FOUND") == 0);
  r1_model_free(NULL);   /* no-ops */
  r1_session_free(NULL);
}

/* The GPUs: as many as the count says, each named and NUL-terminated; past the end, a NULL and an
 * unset struct_size are errors. A build without Vulkan has none. */
static void test_gpu_devices(void) {
  size_t n = 99, i;
  r1_gpu_device_info gpu;
  CHECK(r1_gpu_device_count(NULL) == R1_ERR_INVALID_ARGUMENT);
  CHECK(r1_gpu_device_count(&n) == R1_OK);
  CHECK(n < 99);
  for (i = 0; i < n; ++i) {
    r1_gpu_device_info_default(&gpu);
    CHECK(r1_gpu_device_get_info(i, &gpu) == R1_OK);
    CHECK(gpu.name[0] != '\0' && memchr(gpu.name, '\0', sizeof(gpu.name)) != NULL);
    CHECK(memchr(gpu.kind, '\0', sizeof(gpu.kind)) != NULL && strstr("discrete integrated virtual cpu other", gpu.kind) != NULL);
    printf("gpu %u: %s (%s)\n", (unsigned)i, gpu.name, gpu.kind);
  }
  r1_gpu_device_info_default(&gpu);
  CHECK(r1_gpu_device_get_info(n, &gpu) == R1_ERR_INVALID_ARGUMENT);
  CHECK(strstr(r1_last_error(), "no GPU") != NULL);
  CHECK(r1_gpu_device_get_info(0, NULL) == R1_ERR_INVALID_ARGUMENT);
  if (n > 0) {
    gpu.struct_size = 0;
    CHECK(r1_gpu_device_get_info(0, &gpu) == R1_ERR_INVALID_ARGUMENT);
  }
}

/* Each cache type generates; an unknown one is refused; a struct from before the field
 * existed (smaller struct_size) gets the default, whatever lies beyond it. */
static void test_cache_types(const char *model_path) {
  static const int32_t types[] = {R1_CACHE_F16, R1_CACHE_Q8_0, R1_CACHE_F32};
  r1_model *model = NULL;
  r1_session *session = NULL;
  r1_session_options so;
  r1_generate_options go;
  r1_result result;
  size_t i;

  CHECK(r1_model_load(model_path, NULL, &model) == R1_OK);
  if (model == NULL) return;
  r1_session_options_default(&so);
  CHECK(so.cache_type == R1_CACHE_F16);
  r1_generate_options_default(&go);
  CHECK(go.max_new_tokens < 0); /* until the context is full */
  go.max_new_tokens = 6;
  go.temperature = 0.0f;
  go.ignore_eos = 1;
  so.n_ctx = 64;
  for (i = 0; i < sizeof types / sizeof types[0]; ++i) {
    so.cache_type = types[i];
    CHECK(r1_session_create(model, &so, &session) == R1_OK);
    if (session == NULL) continue;
    r1_result_default(&result);
    CHECK(r1_session_generate(session, "The cat", 7, &go, NULL, NULL, &result) == R1_OK);
    CHECK(result.n_generated_tokens == 6);
    r1_session_free(session);
    session = NULL;
  }

  so.cache_type = R1_CACHE_F32 + 1;
  CHECK(r1_session_create(model, &so, &session) == R1_ERR_INVALID_ARGUMENT);
  CHECK(session == NULL && strstr(r1_last_error(), "cache_type") != NULL);
  so.cache_type = -1;
  CHECK(r1_session_create(model, &so, &session) == R1_ERR_INVALID_ARGUMENT);

  so.cache_type = R1_CACHE_F16;
  so.batch_invariant = 1;
  CHECK(r1_session_create(model, &so, &session) == R1_OK);
  if (session != NULL) {
    r1_result_default(&result);
    CHECK(r1_session_generate(session, "The cat", 7, &go, NULL, NULL, &result) == R1_OK);
    CHECK(result.n_generated_tokens == 6);
  }
  r1_session_free(session);
  session = NULL;

  so.struct_size = (uint32_t)offsetof(r1_session_options, cache_type);
  so.cache_type = 12345; /* beyond the caller's struct: never read */
  CHECK(r1_session_create(model, &so, &session) == R1_OK);
  if (session != NULL) {
    CHECK(r1_session_generate(session, "The cat", 7, &go, NULL, NULL, &result) == R1_OK);
  }
  r1_session_free(session);
  r1_model_free(model);
}

/* Weights repacked at load (a prompt of 40 tokens takes the prompt GEMM) give the zero-copy
 * load's logits; off by default. */
static void test_repack_weights(const char *model_path) {
  r1_model_options mo;
  r1_session_options so;
  int32_t tokens[40];
  float first[8];
  size_t i, n_vocab = 0;
  int repack;

  r1_model_options_default(&mo);
  CHECK(mo.repack_weights == 0);
  r1_session_options_default(&so);
  so.n_ctx = 64;
  for (i = 0; i < 40; ++i) tokens[i] = (int32_t)(i * 7 + 3);
  for (repack = 0; repack <= 1; ++repack) {
    r1_model *model = NULL;
    r1_session *session = NULL;
    const float *logits = NULL;
    mo.repack_weights = repack;
    CHECK(r1_model_load(model_path, &mo, &model) == R1_OK);
    if (model == NULL) return;
    CHECK(r1_session_create(model, &so, &session) == R1_OK);
    if (session != NULL) {
      CHECK(r1_session_eval(session, tokens, 40) == R1_OK);
      CHECK(r1_session_logits(session, &logits, &n_vocab) == R1_OK);
      if (logits != NULL && n_vocab >= 8) {
        if (repack == 0) memcpy(first, logits, sizeof first);
        else CHECK(memcmp(first, logits, sizeof first) == 0);
      }
    }
    r1_session_free(session);
    r1_model_free(model);
  }
}

/* Rows interleaved at load (off by default) give the plain load's logits to f32 rounding. */
static void test_interleave_rows(const char *model_path) {
  r1_model_options mo;
  r1_session_options so;
  const int32_t tokens[4] = {5, 9, 2, 7};
  float first[8] = {0};
  size_t i, n_vocab = 0;
  int interleave;

  r1_model_options_default(&mo);
  CHECK(mo.interleave_rows == 0);
  r1_session_options_default(&so);
  so.n_ctx = 32;
  for (interleave = 0; interleave <= 1; ++interleave) {
    r1_model *model = NULL;
    r1_session *session = NULL;
    const float *logits = NULL;
    mo.interleave_rows = interleave;
    CHECK(r1_model_load(model_path, &mo, &model) == R1_OK);
    if (model == NULL) return;
    CHECK(r1_session_create(model, &so, &session) == R1_OK);
    if (session != NULL) {
      CHECK(r1_session_eval(session, tokens, 4) == R1_OK);
      CHECK(r1_session_logits(session, &logits, &n_vocab) == R1_OK);
      if (logits != NULL && n_vocab >= 8) {
        for (i = 0; i < 8; ++i) {
          if (interleave == 0) {
            first[i] = logits[i];
          } else {
            const float diff = first[i] > logits[i] ? first[i] - logits[i] : logits[i] - first[i];
            CHECK(diff <= 1e-2f);
          }
        }
      }
    }
    r1_session_free(session);
    r1_model_free(model);
  }
}

/* A decode step of two sessions in one pass gives each the logits it gets alone; bad batches
 * are refused. */
static void test_eval_batch(const char *model_path) {
  r1_model *model = NULL;
  r1_session *alone[2] = {NULL, NULL}, *together[2] = {NULL, NULL};
  r1_session_options so;
  const int32_t prompt[2][3] = {{5, 9, 2}, {7, 1, 4}}, next[2] = {11, 13}, bad[2] = {11, -1};
  const float *a = NULL, *b = NULL;
  size_t n_a = 0, n_b = 0;
  int i;
  CHECK(r1_model_load(model_path, NULL, &model) == R1_OK);
  if (model == NULL) return;
  r1_session_options_default(&so);
  so.n_ctx = 32;
  for (i = 0; i < 2; ++i) {
    CHECK(r1_session_create(model, &so, &alone[i]) == R1_OK);
    CHECK(r1_session_create(model, &so, &together[i]) == R1_OK);
    if (alone[i] == NULL || together[i] == NULL) goto out;
    CHECK(r1_session_eval(alone[i], prompt[i], (size_t)(i + 2)) == R1_OK);
    CHECK(r1_session_eval(together[i], prompt[i], (size_t)(i + 2)) == R1_OK);
    CHECK(r1_session_eval(alone[i], &next[i], 1) == R1_OK);
  }
  CHECK(r1_session_eval_batch(NULL, next, 2) == R1_ERR_INVALID_ARGUMENT);
  CHECK(r1_session_eval_batch(together, NULL, 2) == R1_ERR_INVALID_ARGUMENT);
  CHECK(r1_session_eval_batch(together, bad, 2) == R1_ERR_INVALID_ARGUMENT);
  CHECK(r1_session_eval_batch(together, next, 0) == R1_ERR_INVALID_ARGUMENT);
  CHECK(r1_session_eval_batch(together, next, 2) == R1_OK);
  for (i = 0; i < 2; ++i) {
    CHECK(r1_session_logits(alone[i], &a, &n_a) == R1_OK);
    CHECK(r1_session_logits(together[i], &b, &n_b) == R1_OK);
    CHECK(a != NULL && b != NULL && n_a == n_b && memcmp(a, b, n_a * sizeof(float)) == 0);
  }
out:
  for (i = 0; i < 2; ++i) {
    r1_session_free(alone[i]);
    r1_session_free(together[i]);
  }
  r1_model_free(model);
}

/* A draft model (here the model itself) changes the speed, not the output; the result counts its
 * guesses. */
static void test_draft(const char *model_path) {
  r1_model *model = NULL;
  r1_session *alone = NULL, *drafted = NULL;
  r1_generate_options go;
  r1_result a, b;
  char first[1024];
  CHECK(r1_model_load(model_path, NULL, &model) == R1_OK);
  if (model == NULL) return;
  CHECK(r1_session_create(model, NULL, &alone) == R1_OK);
  CHECK(r1_session_create(model, NULL, &drafted) == R1_OK);
  if (alone == NULL || drafted == NULL) goto out;
  CHECK(r1_session_set_draft(NULL, model, 4) == R1_ERR_INVALID_ARGUMENT);
  CHECK(r1_session_set_draft(drafted, model, 17) == R1_ERR_INVALID_ARGUMENT);
  CHECK(r1_session_set_draft(drafted, model, -1) == R1_ERR_INVALID_ARGUMENT);
  /* This model's file carries no multi-token-prediction block: refused, the draft kept. */
  CHECK(r1_session_set_nextn_draft(NULL, 4) == R1_ERR_INVALID_ARGUMENT);
  CHECK(r1_session_set_nextn_draft(drafted, 0) == R1_ERR_FAILED_PRECONDITION);
  CHECK(strstr(r1_last_error(), "nextn") != NULL);
  CHECK(r1_session_set_draft(drafted, model, 4) == R1_OK);
  r1_generate_options_default(&go);
  go.max_new_tokens = 48;
  go.temperature = 0.7f;
  go.seed = 9;
  r1_result_default(&a);
  r1_result_default(&b);
  CHECK(r1_session_generate(alone, "The cat sat", 11, &go, NULL, NULL, &a) == R1_OK);
  snprintf(first, sizeof first, "%s", a.content != NULL ? a.content : "");
  CHECK(a.n_drafted_tokens == 0);
  CHECK(r1_session_generate(drafted, "The cat sat", 11, &go, NULL, NULL, &b) == R1_OK);
  CHECK(b.content != NULL && strcmp(first, b.content) == 0);
  CHECK(b.n_drafted_tokens > 0 && b.n_accepted_tokens <= b.n_drafted_tokens);
  CHECK(r1_session_set_draft(drafted, NULL, 0) == R1_OK);
  CHECK(r1_session_generate(drafted, "The cat sat", 11, &go, NULL, NULL, &b) == R1_OK);
  CHECK(b.n_drafted_tokens == 0);
out:
  r1_session_free(alone);
  r1_session_free(drafted);
  r1_model_free(model);
}

/* A required call comes back as OpenAI's tool_calls JSON; the call and its result then go back
 * into the conversation, and the model answers. */
static void test_tool_round_trip(r1_session *session) {
  static const char tools[] =
      "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"The weather of a city\","
      "\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\",\"maxLength\":12}},"
      "\"required\":[\"city\"]}}}]";
  static const char ask[] = "[{\"role\":\"user\",\"content\":\"Weather in Paris?\"}]";
  char conversation[2048];
  r1_generate_options go;
  r1_result first, second;
  int n;
  r1_generate_options_default(&go);
  go.chat_template = "deepseek-r1-distill";
  go.reasoning_budget = 4;
  go.max_new_tokens = 200;
  go.temperature = 1.0f;
  go.seed = 11;
  go.tools_json = tools;
  go.tool_choice = "required";
  r1_result_default(&first);
  CHECK(r1_session_chat_json(session, ask, sizeof ask - 1, &go, NULL, NULL, &first) == R1_OK);
  CHECK(first.n_tool_calls == 1);
  CHECK(first.tool_calls_json != NULL && strstr(first.tool_calls_json, "\"name\":\"get_weather\"") != NULL);
  CHECK(strstr(first.tool_calls_json, "\"arguments\":\"{\\\"city\\\":\\\"") != NULL);
  CHECK(first.content_len == 2); /* the blank line after the thought; the call is not content */
  if (first.tool_calls_json == NULL) return;
  n = snprintf(conversation, sizeof conversation,
               "[{\"role\":\"user\",\"content\":\"Weather in Paris?\"},"
               "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":%s},"
               "{\"role\":\"tool\",\"tool_call_id\":\"x\",\"content\":\"{\\\"celsius\\\":21}\"}]",
               first.tool_calls_json);
  CHECK(n > 0 && (size_t)n < sizeof conversation);
  go.tool_choice = "auto";
  go.max_new_tokens = 8;
  r1_result_default(&second);
  CHECK(r1_session_chat_json(session, conversation, (size_t)n, &go, NULL, NULL, &second) == R1_OK);
  CHECK(second.n_prompt_tokens > first.n_prompt_tokens);
  CHECK(r1_session_chat_json(session, "[{\"role\":1}]", 13, &go, NULL, NULL, &second) == R1_ERR_INVALID_ARGUMENT);
  go.tool_choice = "no_such_function";
  CHECK(r1_session_chat_json(session, ask, sizeof ask - 1, &go, NULL, NULL, &second) == R1_ERR_INVALID_ARGUMENT);
}

/* Structured output: a JSON Schema shapes the answer after the thought; a GBNF grammar a raw
 * completion; a bad grammar is an error that says where. */
static void test_structured_output(const char *model_path) {
  r1_model *model = NULL;
  r1_session *session = NULL;
  r1_session_options so;
  r1_generate_options go;
  r1_result result;
  r1_message chat[1];
  const char *answer;
  CHECK(r1_model_load(model_path, NULL, &model) == R1_OK);
  if (model == NULL) return;
  r1_session_options_default(&so);
  so.n_ctx = 2048; /* the tools section takes room, in a vocabulary of a few hundred tokens */
  CHECK(r1_session_create(model, &so, &session) == R1_OK);
  if (session == NULL) goto out;
  chat[0].role = "user";
  chat[0].content = "How many moons? Answer in JSON.";
  r1_generate_options_default(&go);
  go.chat_template = "deepseek-r1-distill";
  go.reasoning_budget = 4;
  go.max_new_tokens = 300;
  go.temperature = 1.0f;
  go.seed = 3;
  go.json_schema = "{\"type\":\"object\",\"properties\":{\"moons\":{\"type\":\"integer\"}},\"required\":[\"moons\"]}";
  r1_result_default(&result);
  CHECK(r1_session_chat(session, chat, 1, &go, NULL, NULL, &result) == R1_OK);
  CHECK(result.stop_reason == R1_STOP_END_OF_GENERATION);
  CHECK(result.n_reasoning_tokens == 4);
  CHECK(result.content_len > 2 && strncmp(result.content, "\n\n{", 3) == 0);
  answer = result.content;
  CHECK(strstr(answer, "\"moons\"") != NULL && answer[result.content_len - 1] == '}');

  r1_generate_options_default(&go);
  go.max_new_tokens = 10;
  go.grammar = "root ::= \"yes\" | \"no\"";
  CHECK(r1_session_generate(session, "Well?", 5, &go, NULL, NULL, &result) == R1_OK);
  CHECK(strcmp(result.content, "yes") == 0 || strcmp(result.content, "no") == 0);
  CHECK(result.stop_reason == R1_STOP_END_OF_GENERATION);

  go.grammar = "root ::= \"yes\" |\n  (";
  CHECK(r1_session_generate(session, "Well?", 5, &go, NULL, NULL, &result) == R1_ERR_INVALID_ARGUMENT);
  CHECK(strstr(r1_last_error(), "line 2") != NULL);
  go.grammar = "root ::= \"1\"";
  go.json_schema = "{\"type\":\"integer\"}";
  CHECK(r1_session_generate(session, "Well?", 5, &go, NULL, NULL, &result) == R1_ERR_INVALID_ARGUMENT);
  test_tool_round_trip(session);
out:
  r1_session_free(session);
  r1_model_free(model);
}

int main(int argc, char **argv) {
  const char *model_path, *state_path;
  r1_model_options mo;
  r1_model_info info;
  r1_model *model = NULL;
  r1_session *session = NULL, *restored = NULL;
  r1_session_options so;
  r1_generate_options go;
  r1_result result, again;
  struct progress_log progress = {0, 0.0f, 1, 0};
  struct stream_log log;
  r1_message chat[3];
  int32_t ids[64];
  size_t n_ids = 0, text_len = 0;
  char text[256];
  const char *stops[1];
  int64_t n_past = 0;
  const float *logits = NULL;
  size_t n_vocab = 0;

  if (argc != 3) {
    fprintf(stderr, "usage: capi_test MODEL_GGUF STATE_FILE_PATH\n");
    return 2;
  }
  model_path = argv[1];
  state_path = argv[2];
  test_errors(model_path);
  test_gpu_devices();
  test_cache_types(model_path);
  test_repack_weights(model_path);
  test_interleave_rows(model_path);
  test_eval_batch(model_path);
  test_draft(model_path);
  test_structured_output(model_path);

  /* Load with progress; a progress callback can cancel. */
  r1_model_options_default(&mo);
  mo.progress = on_progress;
  mo.progress_user_data = &progress;
  mo.n_threads = 2;
  CHECK(r1_model_load(model_path, &mo, &model) == R1_OK);
  CHECK(progress.calls >= 2 && progress.monotonic && progress.last == 1.0f);
  {
    struct progress_log cancel = {0, 0.0f, 1, 2};
    r1_model *cancelled = NULL;
    mo.progress_user_data = &cancel;
    CHECK(r1_model_load(model_path, &mo, &cancelled) == R1_ERR_CANCELLED);
    CHECK(cancelled == NULL);
  }
  if (model == NULL) goto done;

  r1_model_info_default(&info);
  CHECK(r1_model_get_info(model, &info) == R1_OK);
  CHECK(strcmp(info.architecture, "qwen2") == 0);
  CHECK(info.n_vocab > 0 && info.n_layers > 0);

  /* Tokenize: the two-call pattern for the buffer size, then a round trip. */
  CHECK(r1_tokenize(model, "hello world", 11, 0, 0, ids, 1, &n_ids) == R1_ERR_BUFFER_TOO_SMALL);
  CHECK(n_ids > 1);
  CHECK(r1_tokenize(model, "hello world", 11, 0, 0, ids, 64, &n_ids) == R1_OK);
  CHECK(r1_detokenize(model, ids, n_ids, text, 2, &text_len) == R1_ERR_BUFFER_TOO_SMALL);
  CHECK(r1_detokenize(model, ids, n_ids, text, sizeof text, &text_len) == R1_OK);
  CHECK(text_len == 11 && strcmp(text, "hello world") == 0);
  ids[0] = (int32_t)info.n_vocab; /* out of range */
  CHECK(r1_detokenize(model, ids, 1, text, sizeof text, &text_len) == R1_ERR_INVALID_ARGUMENT);

  r1_session_options_default(&so);
  so.n_ctx = 256;
  CHECK(r1_session_create(model, &so, &session) == R1_OK);
  if (session == NULL) goto done;
  r1_model_free(model); /* the session keeps the model alive */
  model = NULL;

  /* Chat with the R1 template: its generation prompt opens <think>, so the stream starts in
   * the reasoning channel; the budget closes the thought and the answer follows. */
  chat[0].role = "user";
  chat[0].content = "What is two plus two?";
  r1_generate_options_default(&go);
  go.chat_template = "deepseek-r1-distill";
  go.max_new_tokens = 12;
  go.reasoning_budget = 4;
  go.seed = 7;
  memset(&log, 0, sizeof log);
  log.order_ok = 1;
  r1_result_default(&result);
  CHECK(r1_session_chat(session, chat, 1, &go, on_piece, &log, &result) == R1_OK);
  CHECK(result.n_reasoning_tokens == 4);
  CHECK(result.n_generated_tokens == 12);
  CHECK(log.reasoning_pieces > 0 && log.saw_content && log.order_ok);
  CHECK(result.content_len == log.content_bytes && strlen(result.content) == result.content_len);
  CHECK(result.n_prefilled_tokens == result.n_prompt_tokens);
  CHECK(result.stop_reason == R1_STOP_MAX_TOKENS);

  /* Second turn: only what is new is computed. */
  chat[1].role = "assistant";
  chat[1].content = result.content;
  chat[2].role = "user";
  chat[2].content = "And three plus three?";
  r1_result_default(&again);
  CHECK(r1_session_chat(session, chat, 3, &go, NULL, NULL, &again) == R1_OK);
  CHECK(again.n_prefilled_tokens < again.n_prompt_tokens);

  /* Cancel mid-stream from the callback. */
  memset(&log, 0, sizeof log);
  log.stop_after = 3;
  go.reasoning_budget = -1;
  go.max_new_tokens = 50;
  go.ignore_eos = 1;
  CHECK(r1_session_generate(session, "hello", 5, &go, on_piece, &log, &result) == R1_OK);
  CHECK(result.stop_reason == R1_STOP_CANCELLED);
  CHECK(log.pieces == 3);

  /* A stop string, and bad options. */
  stops[0] = "";
  go.stop = stops;
  go.n_stop = 1;
  go.max_new_tokens = 5;
  CHECK(r1_session_generate(session, "hello", 5, &go, NULL, NULL, &result) == R1_OK);
  go.stop = NULL; /* n_stop without strings */
  CHECK(r1_session_generate(session, "hello", 5, &go, NULL, NULL, &result) == R1_ERR_INVALID_ARGUMENT);
  go.n_stop = 0;
  go.chat_template = "no-such-template";
  CHECK(r1_session_chat(session, chat, 1, &go, NULL, NULL, &result) == R1_ERR_INVALID_ARGUMENT);
  go.chat_template = NULL;
  go.temperature = -1.0f;
  CHECK(r1_session_generate(session, "hello", 5, &go, NULL, NULL, &result) == R1_ERR_INVALID_ARGUMENT);
  go.temperature = 0.6f;
  chat[0].content = NULL;
  CHECK(r1_session_chat(session, chat, 1, &go, NULL, NULL, &result) == R1_ERR_INVALID_ARGUMENT);
  chat[0].content = "What is two plus two?";
  ids[0] = -5;
  CHECK(r1_session_eval(session, ids, 1) == R1_ERR_INVALID_ARGUMENT);

  /* Save, restore into a new session, and continue identically. */
  go.max_new_tokens = 10;
  go.ignore_eos = 1;
  CHECK(r1_session_generate(session, "The cat", 7, &go, NULL, NULL, &result) == R1_OK);
  CHECK(r1_session_save(session, state_path) == R1_OK);
  CHECK(r1_session_generate(session, "The cat sat", 11, &go, NULL, NULL, &result) == R1_OK);
  {
    r1_model *again_model = NULL;
    CHECK(r1_model_load(model_path, NULL, &again_model) == R1_OK);
    CHECK(r1_session_create(again_model, &so, &restored) == R1_OK);
    r1_model_free(again_model);
  }
  if (restored != NULL) {
    char first[512];
    snprintf(first, sizeof first, "%s", result.content);
    CHECK(r1_session_load(restored, state_path) == R1_OK);
    CHECK(r1_session_n_past(restored, &n_past) == R1_OK && n_past > 0);
    CHECK(r1_session_logits(restored, &logits, &n_vocab) == R1_OK && n_vocab == (size_t)info.n_vocab);
    r1_result_default(&again);
    CHECK(r1_session_generate(restored, "The cat sat", 11, &go, NULL, NULL, &again) == R1_OK);
    CHECK(strcmp(first, again.content) == 0);
    CHECK(r1_session_load(restored, "/nonexistent/state") == R1_ERR_NOT_FOUND);
  }
  CHECK(r1_session_reset(session) == R1_OK);
  CHECK(r1_session_n_past(session, &n_past) == R1_OK && n_past == 0);
  CHECK(r1_session_logits(session, &logits, &n_vocab) == R1_ERR_FAILED_PRECONDITION);

done:
  r1_session_free(restored);
  r1_session_free(session);
  r1_model_free(model);
  remove(state_path);
  printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
