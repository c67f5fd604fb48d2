// Status propagation macros. Debian's Abseil (20220623) ships neither
// ABSL_RETURN_IF_ERROR nor ASSIGN_OR_RETURN, so dbrepl defines its own two,
// once, here.
//
//   RETURN_IF_ERROR(broker.MergeSyncs(rows));
//   ASSIGN_OR_RETURN(ReplicationInfo info, broker.GetReplicationInfo());
#ifndef DBREPL_COMMON_STATUS_MACROS_H_
#define DBREPL_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define DBREPL_CONCAT_INNER_(a, b) a##b
#define DBREPL_CONCAT_(a, b) DBREPL_CONCAT_INNER_(a, b)

// Evaluates `expr` (an absl::Status) and returns it from the enclosing
// function if it is not OK.
#define RETURN_IF_ERROR(expr)                      \
  do {                                             \
    ::absl::Status dbrepl_status_ = (expr);        \
    if (!dbrepl_status_.ok()) return dbrepl_status_; \
  } while (0)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status,
// otherwise moves the value into `lhs` (a declaration or an lvalue).
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  DBREPL_ASSIGN_OR_RETURN_IMPL_(DBREPL_CONCAT_(dbrepl_statusor_, __LINE__), lhs, rexpr)

#define DBREPL_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                  \
  if (!statusor.ok()) return statusor.status();             \
  lhs = std::move(statusor).value()

#endif  // DBREPL_COMMON_STATUS_MACROS_H_
