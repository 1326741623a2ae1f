#include "serve/api_error.h"

#include <utility>

#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"

namespace r1::serve {
namespace {

ApiError Make(int status, std::string type, std::string code, std::string message, std::string param = {}) {
  return {status, std::move(type), std::move(code), std::move(message), std::move(param)};
}

nlohmann::json NullIfEmpty(const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); }

}  // namespace

ApiError InvalidRequest(std::string message, std::string param) {
  return Make(400, "invalid_request_error", "", std::move(message), std::move(param));
}

ApiError ContextLengthExceeded(std::string message) {
  return Make(400, "invalid_request_error", "context_length_exceeded", std::move(message), "messages");
}

ApiError Unauthorized() {
  return Make(401, "authentication_error", "invalid_api_key", "Incorrect or missing API key.");
}

ApiError NotFound(std::string_view path) {
  return Make(404, "invalid_request_error", "not_found", absl::StrFormat("Unknown path: %s", path));
}

ApiError PayloadTooLarge(size_t limit_bytes) {
  return Make(413, "invalid_request_error", "payload_too_large",
              absl::StrFormat("The request body is larger than %d bytes.", limit_bytes));
}

ApiError QueueFull() {
  return Make(429, "rate_limit_error", "queue_full", "Every slot is busy and the queue is full; retry later.");
}

ApiError Loading() { return Make(503, "server_error", "model_loading", "The model is still loading."); }

ApiError ServerError(std::string message) { return Make(500, "server_error", "", std::move(message)); }

ApiError FromStatus(const Status& status) {
  const std::string message(status.message());
  switch (status.code()) {
    case absl::StatusCode::kOutOfRange: return ContextLengthExceeded(message);
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound: return InvalidRequest(message);
    default: return ServerError(message);
  }
}

std::string ErrorBody(const ApiError& e) {
  const nlohmann::json body = {{"error",
                                {{"message", e.message},
                                 {"type", e.type},
                                 {"param", NullIfEmpty(e.param)},
                                 {"code", NullIfEmpty(e.code)}}}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace r1::serve
