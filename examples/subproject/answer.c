/* answer — continues a prompt with r1 and prints the text: the smallest program using r1. */
#include <stdio.h>
#include <string.h>

#include "r1.h"

static int print_piece(r1_channel channel, const char *text, size_t len, int32_t token, void *user_data) {
  (void)channel;
  (void)token;
  (void)user_data;
  fwrite(text, 1, len, stdout);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2 || argv[1][0] == '\0') {
    printf("r1 %s (no model given)\n", r1_version_string());
    return 0;
  }
  const char *prompt = argc > 2 ? argv[2] : "Once upon a time";
  r1_model *model = NULL;
  r1_session *session = NULL;
  r1_status st = r1_model_load(argv[1], NULL, &model);
  if (st == R1_OK) st = r1_session_create(model, NULL, &session);
  r1_model_free(model);
  if (st == R1_OK) {
    r1_generate_options options;
    r1_generate_options_default(&options);
    options.max_new_tokens = 16;
    options.temperature = 0;
    st = r1_session_generate(session, prompt, strlen(prompt), &options, print_piece, NULL, NULL);
    putchar('\n');
  }
  r1_session_free(session);
  if (st != R1_OK) {
    fprintf(stderr, "answer: %s\n", r1_last_error());
    return 1;
  }
  return 0;
}
