// serve/api_error.h — errors in the shape OpenAI's API returns them, so that its client
// libraries raise the matching exception (BadRequestError, AuthenticationError, …):
//   {"error": {"message": …, "type": …, "param": …, "code": …}} with the HTTP status.
#pragma once

#include <string>
#include <string_view>

#include "r1/status.h"

namespace r1::serve {

struct ApiError {
  int http_status = 400;
  std::string type;     // "invalid_request_error", "authentication_error", …
  std::string code;     // machine-readable detail ("context_length_exceeded"); empty: null
  std::string message;  // for people
  std::string param;    // the request field at fault; empty: null
};

ApiError InvalidRequest(std::string message, std::string param = {});
ApiError ContextLengthExceeded(std::string message);
ApiError Unauthorized();
ApiError NotFound(std::string_view path);
ApiError PayloadTooLarge(size_t limit_bytes);
ApiError QueueFull();
ApiError Loading();
ApiError ServerError(std::string message);

// The error a failed generation maps to: OutOfRange (the prompt does not fit) is
// context_length_exceeded, InvalidArgument a bad request, anything else a server error.
ApiError FromStatus(const Status& status);

// The JSON body: {"error": {...}}.
std::string ErrorBody(const ApiError& error);

}  // namespace r1::serve
