// Every entry point of the C ABI (capi/r1.h) given null pointers, unset or absurd struct
// sizes, out-of-range ids and too-long prompts: each must answer with an error status and a
// message, never crash, and leave the objects usable.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "r1.h"
#include "support/test_util.h"

R1_TEST_NEEDS_SHARED_DIR();

namespace {

std::string ModelPath() { return *r1::test::SharedDir() + "/models/stories260K-q8dequant.gguf"; }

// Checks the status and that the failed call left a message for r1_last_error.
#define CHECK_FAILS_WITH(call, expected)                         \
  do {                                                           \
    const r1_status st_ = (call);                                \
    CHECK_MESSAGE(st_ == (expected), #call, " gave ", r1_status_name(st_), ": ", r1_last_error()); \
    CHECK(std::strlen(r1_last_error()) > 0);                    \
  } while (0)

constexpr uint32_t kBadSizes[] = {0, 1, 3, 0x10001, 0xFFFFFFFFu};

struct Fixture {
  r1_model* model = nullptr;
  r1_session* session = nullptr;
  Fixture() {
    REQUIRE(r1_model_load(ModelPath().c_str(), nullptr, &model) == R1_OK);
    r1_session_options so;
    r1_session_options_default(&so);
    so.n_ctx = 32;
    so.n_threads = 1;
    REQUIRE(r1_session_create(model, &so, &session) == R1_OK);
  }
  ~Fixture() {
    r1_session_free(session);
    r1_model_free(model);
  }
  // The session still works after whatever was tried.
  void CheckUsable() const {
    REQUIRE(r1_session_reset(session) == R1_OK);
    const int32_t ids[] = {1, 2};
    CHECK(r1_session_eval(session, ids, 2) == R1_OK);
    int64_t n_past = -1;
    CHECK(r1_session_n_past(session, &n_past) == R1_OK);
    CHECK(n_past == 2);
    REQUIRE(r1_session_reset(session) == R1_OK);
  }
};

TEST_CASE("version, error and status functions take anything") {
  CHECK(r1_version() == R1_VERSION_NUMBER);
  CHECK(r1_version_string() != nullptr);
  CHECK(r1_last_error() != nullptr);
  for (int v : {0, -1, -10, -11, 1, 12345, -0x7FFFFFFF}) CHECK(r1_status_name(static_cast<r1_status>(v)) != nullptr);
  // The _default functions and frees accept NULL.
  r1_model_options_default(nullptr);
  r1_model_info_default(nullptr);
  r1_session_options_default(nullptr);
  r1_generate_options_default(nullptr);
  r1_result_default(nullptr);
  r1_model_free(nullptr);
  r1_session_free(nullptr);
}

TEST_CASE("r1_model_load refuses nulls, bad struct sizes and bad files") {
  r1_model* m = reinterpret_cast<r1_model*>(0x1);
  CHECK_FAILS_WITH(r1_model_load(nullptr, nullptr, &m), R1_ERR_INVALID_ARGUMENT);
  CHECK(m == nullptr);
  CHECK_FAILS_WITH(r1_model_load(ModelPath().c_str(), nullptr, nullptr), R1_ERR_INVALID_ARGUMENT);
  for (uint32_t size : kBadSizes) {
    r1_model_options o;
    r1_model_options_default(&o);
    o.struct_size = size;
    m = reinterpret_cast<r1_model*>(0x1);
    CHECK_FAILS_WITH(r1_model_load(ModelPath().c_str(), &o, &m), R1_ERR_INVALID_ARGUMENT);
    CHECK(m == nullptr);
  }
  CHECK_FAILS_WITH(r1_model_load("/nonexistent/model.gguf", nullptr, &m), R1_ERR_NOT_FOUND);
  CHECK(m == nullptr);
  CHECK(r1_model_load("", nullptr, &m) != R1_OK);
  // A file that is not a GGUF model.
  const std::string junk = *r1::test::SharedDir() + "/models/README.md";
  CHECK(r1_model_load(junk.c_str(), nullptr, &m) != R1_OK);
  CHECK(m == nullptr);
}

TEST_CASE("model queries refuse nulls and bad struct sizes") {
  Fixture f;
  r1_model_info info;
  r1_model_info_default(&info);
  CHECK_FAILS_WITH(r1_model_get_info(nullptr, &info), R1_ERR_INVALID_ARGUMENT);
  CHECK_FAILS_WITH(r1_model_get_info(f.model, nullptr), R1_ERR_INVALID_ARGUMENT);
  for (uint32_t size : kBadSizes) {
    r1_model_info bad;
    r1_model_info_default(&bad);
    bad.struct_size = size;
    CHECK_FAILS_WITH(r1_model_get_info(f.model, &bad), R1_ERR_INVALID_ARGUMENT);
  }
  REQUIRE(r1_model_get_info(f.model, &info) == R1_OK);
  const int64_t n_vocab = info.n_vocab;

  int32_t ids[64];
  size_t n = 0;
  const char* text = "Once upon a time";
  CHECK_FAILS_WITH(r1_tokenize(nullptr, text, 4, 0, 0, ids, 64, &n), R1_ERR_INVALID_ARGUMENT);
  CHECK_FAILS_WITH(r1_tokenize(f.model, nullptr, 4, 0, 0, ids, 64, &n), R1_ERR_INVALID_ARGUMENT);
  CHECK_FAILS_WITH(r1_tokenize(f.model, text, 4, 0, 0, nullptr, 64, &n), R1_ERR_INVALID_ARGUMENT);
  CHECK_FAILS_WITH(r1_tokenize(f.model, text, 4, 0, 0, ids, 64, nullptr), R1_ERR_INVALID_ARGUMENT);
  CHECK_FAILS_WITH(r1_tokenize(f.model, text, std::strlen(text), 1, 0, ids, 1, &n), R1_ERR_BUFFER_TOO_SMALL);
  CHECK(n > 1);
  CHECK(r1_tokenize(f.model, nullptr, 0, 0, 0, nullptr, 0, &n) == R1_OK);  // empty text, nothing to store
  CHECK(n == 0);
  REQUIRE(r1_tokenize(f.model, text, std::strlen(text), 0, 0, ids, 64, &n) == R1_OK);

  char out[256];
  size_t len = 0;
  CHECK_FAILS_WITH(r1_detokenize(nullptr, ids, n, out, sizeof(out), &len), R1_ERR_INVALID_ARGUMENT);
  CHECK_FAILS_WITH(r1_detokenize(f.model, nullptr, n, out, sizeof(out), &len), R1_ERR_INVALID_ARGUMENT);
  CHECK_FAILS_WITH(r1_detokenize(f.model, ids, n, nullptr, sizeof(out), &len), R1_ERR_INVALID_ARGUMENT);
  CHECK_FAILS_WITH(r1_detokenize(f.model, ids, n, out, sizeof(out), nullptr), R1_ERR_INVALID_ARGUMENT);
  CHECK_FAILS_WITH(r1_detokenize(f.model, ids, n, out, 2, &len), R1_ERR_BUFFER_TOO_SMALL);
  CHECK(len >= std::strlen(text) - 1);
  for (int32_t bad : {-1, static_cast<int32_t>(n_vocab), INT32_MIN, INT32_MAX}) {
    const int32_t one[] = {ids[0], bad};
    CHECK_FAILS_WITH(r1_detokenize(f.model, one, 2, out, sizeof(out), &len), R1_ERR_INVALID_ARGUMENT);
  }
}

TEST_CASE("session creation refuses nulls and bad struct sizes") {
  Fixture f;
  r1_session* s = reinterpret_cast<r1_session*>(0x1);
  CHECK_FAILS_WITH(r1_session_create(nullptr, nullptr, &s), R1_ERR_INVALID_ARGUMENT);
  CHECK(s == nullptr);
  CHECK_FAILS_WITH(r1_session_create(f.model, nullptr, nullptr), R1_ERR_INVALID_ARGUMENT);
  for (uint32_t size : kBadSizes) {
    r1_session_options o;
    r1_session_options_default(&o);
    o.struct_size = size;
    s = reinterpret_cast<r1_session*>(0x1);
    CHECK_FAILS_WITH(r1_session_create(f.model, &o, &s), R1_ERR_INVALID_ARGUMENT);
    CHECK(s == nullptr);
  }
  r1_session_options o;
  r1_session_options_default(&o);
  o.n_ctx = -5;
  CHECK(r1_session_create(f.model, &o, &s) != R1_OK);
  CHECK(s == nullptr);
}

TEST_CASE("session calls refuse nulls, bad ids and too-long input") {
  Fixture f;
  const int32_t ids[] = {1, 2, 3};
  CHECK_FAILS_WITH(r1_session_cancel(nullptr), R1_ERR_INVALID_ARGUMENT);
  CHECK_FAILS_WITH(r1_session_reset(nullptr), R1_ERR_INVALID_ARGUMENT);
  CHECK_FAILS_WITH(r1_session_set_nextn_draft(nullptr, 4), R1_ERR_INVALID_ARGUMENT);
  CHECK_FAILS_WITH(r1_session_set_nextn_draft(f.session, -3), R1_ERR_INVALID_ARGUMENT);
  CHECK_FAILS_WITH(r1_session_set_nextn_draft(f.session, 4), R1_ERR_FAILED_PRECONDITION);  // no block
  CHECK_FAILS_WITH(r1_session_eval(nullptr, ids, 3), R1_ERR_INVALID_ARGUMENT);
  CHECK_FAILS_WITH(r1_session_eval(f.session, nullptr, 3), R1_ERR_INVALID_ARGUMENT);
  CHECK(r1_session_eval(f.session, ids, 0) != R1_OK);  // nothing to evaluate
  for (int32_t bad : {-1, 512, 100000, INT32_MIN, INT32_MAX}) {
    const int32_t one[] = {1, bad};
    CHECK_FAILS_WITH(r1_session_eval(f.session, one, 2), R1_ERR_INVALID_ARGUMENT);
  }
  std::vector<int32_t> too_many(33, 1);  // the context holds 32
  CHECK(r1_session_eval(f.session, too_many.data(), too_many.size()) != R1_OK);
  f.CheckUsable();

  const float* logits = nullptr;
  size_t n_vocab = 0;
  int64_t n_past = 0;
  CHECK_FAILS_WITH(r1_session_logits(nullptr, &logits, &n_vocab), R1_ERR_INVALID_ARGUMENT);
  CHECK_FAILS_WITH(r1_session_logits(f.session, nullptr, &n_vocab), R1_ERR_INVALID_ARGUMENT);
  CHECK_FAILS_WITH(r1_session_logits(f.session, &logits, nullptr), R1_ERR_INVALID_ARGUMENT);
  CHECK_FAILS_WITH(r1_session_n_past(nullptr, &n_past), R1_ERR_INVALID_ARGUMENT);
  CHECK_FAILS_WITH(r1_session_n_past(f.session, nullptr), R1_ERR_INVALID_ARGUMENT);

  const std::string state = *r1::test::SharedDir() + "/models/README.md";
  CHECK_FAILS_WITH(r1_session_save(nullptr, "/tmp/x"), R1_ERR_INVALID_ARGUMENT);
  CHECK_FAILS_WITH(r1_session_save(f.session, nullptr), R1_ERR_INVALID_ARGUMENT);
  CHECK(r1_session_save(f.session, "/nonexistent/dir/state.bin") != R1_OK);
  CHECK_FAILS_WITH(r1_session_load(nullptr, state.c_str()), R1_ERR_INVALID_ARGUMENT);
  CHECK_FAILS_WITH(r1_session_load(f.session, nullptr), R1_ERR_INVALID_ARGUMENT);
  CHECK_FAILS_WITH(r1_session_load(f.session, "/nonexistent/state.bin"), R1_ERR_NOT_FOUND);
  CHECK(r1_session_load(f.session, state.c_str()) != R1_OK);  // not a state file
  f.CheckUsable();
}

TEST_CASE("generation refuses nulls, bad struct sizes, bad options and prompts longer than the context") {
  Fixture f;
  r1_generate_options go;
  r1_generate_options_default(&go);
  go.max_new_tokens = 2;
  r1_result res;
  r1_result_default(&res);
  const r1_message msgs[] = {{"user", "Hi"}};
  const char* prompt = "Once upon a time";
  const size_t plen = std::strlen(prompt);

  CHECK_FAILS_WITH(r1_session_generate(nullptr, prompt, plen, &go, nullptr, nullptr, &res), R1_ERR_INVALID_ARGUMENT);
  CHECK_FAILS_WITH(r1_session_generate(f.session, nullptr, plen, &go, nullptr, nullptr, &res), R1_ERR_INVALID_ARGUMENT);
  CHECK_FAILS_WITH(r1_session_chat(nullptr, msgs, 1, &go, nullptr, nullptr, &res), R1_ERR_INVALID_ARGUMENT);
  CHECK_FAILS_WITH(r1_session_chat(f.session, nullptr, 1, &go, nullptr, nullptr, &res), R1_ERR_INVALID_ARGUMENT);
  const r1_message null_role[] = {{nullptr, "Hi"}};
  const r1_message null_content[] = {{"user", nullptr}};
  CHECK_FAILS_WITH(r1_session_chat(f.session, null_role, 1, &go, nullptr, nullptr, &res), R1_ERR_INVALID_ARGUMENT);
  CHECK_FAILS_WITH(r1_session_chat(f.session, null_content, 1, &go, nullptr, nullptr, &res), R1_ERR_INVALID_ARGUMENT);

  for (uint32_t size : kBadSizes) {
    r1_generate_options bad = go;
    bad.struct_size = size;
    CHECK_FAILS_WITH(r1_session_generate(f.session, prompt, plen, &bad, nullptr, nullptr, &res), R1_ERR_INVALID_ARGUMENT);
    CHECK_FAILS_WITH(r1_session_chat(f.session, msgs, 1, &bad, nullptr, nullptr, &res), R1_ERR_INVALID_ARGUMENT);
    r1_result bad_res;
    r1_result_default(&bad_res);
    bad_res.struct_size = size;
    CHECK_FAILS_WITH(r1_session_generate(f.session, prompt, plen, &go, nullptr, nullptr, &bad_res),
                     R1_ERR_INVALID_ARGUMENT);
  }

  r1_generate_options bad = go;
  bad.n_stop = 2;
  bad.stop = nullptr;
  CHECK_FAILS_WITH(r1_session_generate(f.session, prompt, plen, &bad, nullptr, nullptr, &res), R1_ERR_INVALID_ARGUMENT);
  const char* stops[] = {"x", nullptr};
  bad.stop = stops;
  CHECK_FAILS_WITH(r1_session_generate(f.session, prompt, plen, &bad, nullptr, nullptr, &res), R1_ERR_INVALID_ARGUMENT);
  bad = go;
  bad.chat_template = "no-such-template";
  CHECK_FAILS_WITH(r1_session_chat(f.session, msgs, 1, &bad, nullptr, nullptr, &res), R1_ERR_INVALID_ARGUMENT);
  bad = go;
  bad.temperature = -1.0f;
  CHECK(r1_session_generate(f.session, prompt, plen, &bad, nullptr, nullptr, &res) != R1_OK);
  bad = go;
  bad.top_p = 2.0f;
  CHECK(r1_session_generate(f.session, prompt, plen, &bad, nullptr, nullptr, &res) != R1_OK);

  // A prompt longer than the 32-token context is an error, not a truncation.
  std::string long_prompt;
  for (int i = 0; i < 40; ++i) long_prompt += " once upon a time";
  CHECK(r1_session_generate(f.session, long_prompt.data(), long_prompt.size(), &go, nullptr, nullptr, &res) != R1_OK);
  CHECK(std::strlen(r1_last_error()) > 0);

  // Options and result of the default size work; NULL options and result mean defaults.
  CHECK(r1_session_generate(f.session, prompt, plen, &go, nullptr, nullptr, &res) == R1_OK);
  CHECK(r1_session_generate(f.session, prompt, plen, nullptr, nullptr, nullptr, nullptr) == R1_OK);
  f.CheckUsable();
}

}  // namespace
