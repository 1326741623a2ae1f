/* c_chat — a minimal terminal chat over the C ABI (capi/r1.h).
 *
 *   c_chat MODEL.gguf [--template NAME] [--max-tokens N]
 *
 * Reads one user message per line from stdin, streams the model's answer to stdout (its
 * reasoning, if any, to stderr) and keeps the whole conversation, so every turn reuses the
 * cached prefix of the earlier ones. An empty line or end of input quits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "r1.h"

struct conversation {
  r1_message *messages;
  char **owned; /* the strings messages[i] points to */
  size_t n, capacity;
};

static char *copy_string(const char *s, size_t n) {
  char *out = (char *)malloc(n + 1);
  if (out != NULL) {
    memcpy(out, s, n);
    out[n] = '\0';
  }
  return out;
}

static int add_message(struct conversation *c, const char *role, const char *content, size_t len) {
  if (c->n == c->capacity) {
    size_t capacity = c->capacity ? 2 * c->capacity : 8;
    r1_message *m = (r1_message *)realloc(c->messages, capacity * sizeof *m);
    if (m == NULL) return 0;
    c->messages = m;
    char **o = (char **)realloc(c->owned, capacity * sizeof *o);
    if (o == NULL) return 0;
    c->owned = o;
    c->capacity = capacity;
  }
  char *text = copy_string(content, len);
  if (text == NULL) return 0;
  c->owned[c->n] = text;
  c->messages[c->n].role = role;
  c->messages[c->n].content = text;
  c->n++;
  return 1;
}

static void free_conversation(struct conversation *c) {
  for (size_t i = 0; i < c->n; ++i) free(c->owned[i]);
  free(c->owned);
  free(c->messages);
}

/* Streams each piece as it comes: the answer to stdout, the reasoning to stderr. */
static int on_piece(r1_channel channel, const char *text, size_t len, int32_t token, void *user_data) {
  (void)token;
  (void)user_data;
  FILE *out = channel == R1_CHANNEL_REASONING ? stderr : stdout;
  fwrite(text, 1, len, out);
  fflush(out);
  return 0;
}

static void usage(const char *program) {
  fprintf(stderr, "usage: %s MODEL.gguf [--template NAME] [--max-tokens N]\n", program);
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
  fprintf(stderr, "c_chat: %s: %s (%s)\n", what, r1_last_error(), r1_status_name(status));
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 2 || argv[1][0] == '-') {
    usage(argv[0]);
    return 2;
  }
  if (r1_version() / 100 != R1_VERSION_NUMBER / 100) {
    fprintf(stderr, "c_chat: built for r1 %d.%d, running with %s\n", R1_VERSION_MAJOR, R1_VERSION_MINOR,
            r1_version_string());
    return 1;
  }
  r1_generate_options gen;
  r1_generate_options_default(&gen);
  gen.max_new_tokens = 256;
  for (int i = 2; i < argc; i += 2) {
    const int known = strcmp(argv[i], "--template") == 0 || strcmp(argv[i], "--max-tokens") == 0;
    if (!known) {
      fprintf(stderr, "c_chat: unknown option '%s'\n", argv[i]);
      usage(argv[0]);
      return 2;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "c_chat: %s needs a value\n", argv[i]);
      usage(argv[0]);
      return 2;
    }
    if (strcmp(argv[i], "--template") == 0) {
      gen.chat_template = argv[i + 1];
    } else {
      int n = 0;
      if (!parse_count(argv[i + 1], 1, 1 << 20, &n)) {
        fprintf(stderr, "c_chat: --max-tokens: expected a whole number from 1 to %d, got '%s'\n", 1 << 20, argv[i + 1]);
        return 2;
      }
      gen.max_new_tokens = n;
    }
  }

  r1_model *model = NULL;
  r1_status st = r1_model_load(argv[1], NULL, &model);
  if (st != R1_OK) return fail("loading the model", st);
  r1_session *session = NULL;
  st = r1_session_create(model, NULL, &session);
  r1_model_free(model); /* the session keeps it alive */
  if (st != R1_OK) return fail("creating a session", st);

  struct conversation chat = {NULL, NULL, 0, 0};
  char line[4096];
  int rc = 0;
  while (fputs("> ", stderr), fgets(line, sizeof line, stdin) != NULL) {
    size_t len = strcspn(line, "\r\n");
    if (len == 0) break;
    if (!add_message(&chat, "user", line, len)) {
      fprintf(stderr, "c_chat: out of memory\n");
      rc = 1;
      break;
    }
    r1_result result;
    r1_result_default(&result);
    st = r1_session_chat(session, chat.messages, chat.n, &gen, on_piece, NULL, &result);
    if (st != R1_OK) {
      rc = fail("generating", st);
      break;
    }
    fputc('\n', stdout);
    fflush(stdout);
    /* The answer (without its reasoning) becomes part of the conversation. */
    if (!add_message(&chat, "assistant", result.content, result.content_len)) {
      fprintf(stderr, "c_chat: out of memory\n");
      rc = 1;
      break;
    }
  }
  free_conversation(&chat);
  r1_session_free(session);
  return rc;
}
