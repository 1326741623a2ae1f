/* hub — the firmware profile: answer one question and exit, over the C ABI.
 *
 *   hub MODEL.gguf "question" [--template NAME] [--max-tokens N] [--threads N]
 *
 * Made for a static, stripped build without oneDNN, Vulkan or Python (doc/getting-started-
 * firmware.md): one process per question, the model mapped rather than read, a small context,
 * and nothing but C crossing into the library, which turns every failure into a status code.
 * Prints the answer on stdout; exit status 0, or 1 with r1's message on stderr. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "r1.h"

static int print_piece(r1_channel channel, const char *text, size_t len, int32_t token, void *user_data) {
  (void)token;
  (void)user_data;
  /* The chain of thought is not part of the answer a device shows. */
  if (channel == R1_CHANNEL_CONTENT) fwrite(text, 1, len, stdout);
  return 0;
}

static void usage(const char *program) {
  fprintf(stderr, "usage: %s MODEL.gguf QUESTION [--template NAME] [--max-tokens N] [--threads N]\n", program);
}

/* A whole number in [lo, hi], the whole text; 0 when it is anything else. */
static int parse_count(const char *text, long lo, long hi, int *out) {
  char *end = NULL;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi) return 0;
  *out = (int)v;
  return 1;
}

static int fail(const char *what, r1_status status) {
  fprintf(stderr, "hub: %s: %s (%s)\n", what, r1_last_error(), r1_status_name(status));
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 3 || argv[1][0] == '-') {
    usage(argv[0]);
    return 2;
  }
  const char *template_name = NULL;
  int max_tokens = 128, threads = 1;
  for (int i = 3; i < argc; i += 2) {
    const int is_template = strcmp(argv[i], "--template") == 0;
    const int is_max_tokens = strcmp(argv[i], "--max-tokens") == 0;
    const int is_threads = strcmp(argv[i], "--threads") == 0;
    if (!is_template && !is_max_tokens && !is_threads) {
      fprintf(stderr, "hub: unknown option '%s'\n", argv[i]);
      usage(argv[0]);
      return 2;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "hub: %s needs a value\n", argv[i]);
      usage(argv[0]);
      return 2;
    }
    const char *value = argv[i + 1];
    if (is_template) {
      template_name = value;
    } else if (!parse_count(value, 1, is_threads ? 1024 : 1 << 20, is_threads ? &threads : &max_tokens)) {
      fprintf(stderr, "hub: %s: expected a whole number from 1 to %d, got '%s'\n", argv[i],
              is_threads ? 1024 : 1 << 20, value);
      return 2;
    }
  }

  r1_model_options model_options;
  r1_model_options_default(&model_options);
  model_options.n_threads = threads;
  r1_model *model = NULL;
  r1_status st = r1_model_load(argv[1], &model_options, &model);
  if (st != R1_OK) return fail("loading the model", st);

  r1_model_info info;
  r1_model_info_default(&info);
  st = r1_model_get_info(model, &info);
  if (st != R1_OK) return fail("reading the model", st);

  r1_session_options session_options;
  r1_session_options_default(&session_options);
  session_options.n_ctx = 512; /* a short exchange; the KV cache is most of the memory */
  session_options.n_batch = 64;
  r1_session *session = NULL;
  st = r1_session_create(model, &session_options, &session);
  r1_model_free(model);
  if (st != R1_OK) return fail("creating a session", st);

  r1_generate_options gen;
  r1_generate_options_default(&gen);
  gen.max_new_tokens = max_tokens;
  gen.temperature = 0; /* the same question gets the same answer */
  gen.chat_template = template_name;

  if (info.has_chat_template || template_name != NULL) {
    r1_message question = {"user", argv[2]};
    st = r1_session_chat(session, &question, 1, &gen, print_piece, NULL, NULL);
  } else {
    st = r1_session_generate(session, argv[2], strlen(argv[2]), &gen, print_piece, NULL, NULL);
  }
  fputc('\n', stdout);
  r1_session_free(session);
  if (st != R1_OK) return fail("answering", st);
  return 0;
}
