// r1/status.h — error handling for r1's C++ API.
//
// r1 never throws and never aborts on bad input: anything that can fail returns absl::Status or
// absl::StatusOr<T>. The macros below keep call sites short.
#pragma once

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace r1 {

using Status = absl::Status;
template <typename T>
using StatusOr = absl::StatusOr<T>;

}  // namespace r1

#define R1_STATUS_CONCAT_INNER_(a, b) a##b
#define R1_STATUS_CONCAT_(a, b) R1_STATUS_CONCAT_INNER_(a, b)

// Returns from the current function if `expr` (an absl::Status) is not OK.
#define R1_RETURN_IF_ERROR(expr)                       \
  do {                                                 \
    ::absl::Status r1_status_ = (expr);                \
    if (!r1_status_.ok()) return r1_status_;           \
  } while (0)

// `R1_ASSIGN_OR_RETURN(T x, StatusOrExpr)` declares/assigns x from the value or returns the error.
#define R1_ASSIGN_OR_RETURN(lhs, expr) \
  R1_ASSIGN_OR_RETURN_IMPL_(R1_STATUS_CONCAT_(r1_statusor_, __LINE__), lhs, expr)
#define R1_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return std::move(tmp).status();  \
  lhs = std::move(tmp).value()
