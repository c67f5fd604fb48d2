// Where Swift keeps databases on disk, and validation of the names that become
// path components.
//
// Layout (Swift's storage_directory() in swift/common/utils; rsync uploads as
// in swift/common/db_replicator.py; quarantine as DatabaseBroker.quarantine
// in swift/common/db.py):
//   <devices>/<device>/<accounts|containers>/<part>/<hash[-3:]>/<hash>/<hash>.db
//   <devices>/<device>/tmp/                       rsync targets
//   <devices>/<device>/quarantined/<type>s/<hash>[-<uuid>]
//
// Device names, partitions and hashes arrive from the network and from the
// command line; every one is validated here before it is joined into a path,
// so that nothing outside `devices` is ever read or written.
//
// All functions are pure and thread-safe.
#ifndef DBREPL_COMMON_PATHS_H_
#define DBREPL_COMMON_PATHS_H_

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/db_type.h"

namespace dbrepl {

// OK if `device` is a plain directory name: not empty, at most 255 bytes, not
// "." or "..", no '/', no NUL, no control characters. Swift additionally
// requires quote_plus(device) == device; we accept the same set
// ([A-Za-z0-9_.-] and a few more are rejected by quote_plus), see paths.cc.
absl::Status ValidateDeviceName(absl::string_view device);

// OK if `hash` is exactly 32 lowercase hex digits.
absl::Status ValidateHash(absl::string_view hash);

// OK if `partition` is in [0, 2^32).
absl::Status ValidatePartition(int64_t partition);

// Parses a partition directory name: decimal digits only, no sign, no
// leading '+', fits in 32 bits. Non-numeric names (operator tooling dirs) are
// an error, which the walker treats as "not a partition".
absl::StatusOr<int64_t> ParsePartition(absl::string_view name);

// OK if `name` is a plain file name fit for <device>/tmp/ (same rules as a
// device name).
absl::Status ValidateFileName(absl::string_view name);

// "<datadir>/<part>/<suffix>/<hash>" (Swift's storage_directory).
std::string StorageDirectory(DbType type, int64_t partition, absl::string_view hash);

// "<devices>/<device>/<datadir>/<part>/<suffix>/<hash>/<hash>.db".
std::string DbFilePath(absl::string_view devices, absl::string_view device, DbType type,
                       int64_t partition, absl::string_view hash);

// "<devices>/<device>/tmp".
std::string DeviceTmpDir(absl::string_view devices, absl::string_view device);

// An agent stages a batch of hard links to its databases for one rsync in
// "<devices>/<device>/tmp/<kOutboxPrefix><random>/"; the peer's tmp sweeper
// removes one an agent abandoned (peer/tmp_sweeper.h).
inline constexpr char kOutboxPrefix[] = ".dbrepl-outbox-";

// Joins two path pieces with exactly one '/'.
std::string JoinPath(absl::string_view a, absl::string_view b);

// Removes trailing slashes (but keeps "/").
absl::string_view StripTrailingSlashes(absl::string_view path);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_PATHS_H_
