// The two kinds of Swift database dbrepl replicates, and the names Swift uses
// for each on disk and in configuration.
#ifndef DBREPL_COMMON_DB_TYPE_H_
#define DBREPL_COMMON_DB_TYPE_H_

#include "absl/types/optional.h"
#include "absl/strings/string_view.h"

namespace dbrepl {

enum class DbType { kAccount, kContainer };

// "account" / "container": Swift's server_type, ring name and section prefix.
constexpr absl::string_view ServerType(DbType t) {
  return t == DbType::kAccount ? "account" : "container";
}

// "accounts" / "containers": the data directory under each device.
constexpr absl::string_view Datadir(DbType t) {
  return t == DbType::kAccount ? "accounts" : "containers";
}

// Swift's default server port for the type (6202 account, 6201 container).
constexpr int DefaultPort(DbType t) { return t == DbType::kAccount ? 6202 : 6201; }

// Parses "account" or "container"; nullopt otherwise.
inline absl::optional<DbType> ParseDbType(absl::string_view s) {
  if (s == "account") return DbType::kAccount;
  if (s == "container") return DbType::kContainer;
  return absl::nullopt;
}

}  // namespace dbrepl

#endif  // DBREPL_COMMON_DB_TYPE_H_
