// Helpers for tests of the broker layer: scratch directories under
// $TEST_TMPDIR laid out as Swift lays out a device, raw SQLite access, and
// a 2013-schema container database.
#ifndef DBREPL_COMMON_DB_TESTING_DB_TEST_UTIL_H_
#define DBREPL_COMMON_DB_TESTING_DB_TEST_UTIL_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/db/records.h"
#include "common/db/sqlite_connection.h"
#include "common/db_type.h"
#include "gmock/gmock.h"

namespace dbrepl::testing {

// A new, empty directory under $TEST_TMPDIR (or /tmp).
std::string NewTestDir();

// "<root>/srv/node/<device>/<accounts|containers>/7/<suffix>/<hash>/<hash>.db"
// for a fresh random hash under a fresh root.
std::string NewDbPath(DbType type, const std::string& device = "sda");

// The device directory of a path made by NewDbPath ("<root>/srv/node/sda").
std::string DeviceDirOf(const std::string& db_file);

// A plain connection to an existing file (chexor registered).
std::unique_ptr<SqliteConnection> RawConnection(const std::string& db_file);

// The rows of `sql`, each as its columns' text ("NULL" for NULL).
std::vector<std::vector<std::string>> Query(SqliteConnection* conn, const std::string& sql);

// The hash Swift's triggers should have computed for `rows`: chexor over
// (name, created_at) for objects, (name, "put-delete-objects-bytes") for
// containers.
std::string ExpectedHash(const ItemBatch& rows);

// Writes a pre-storage-policy (2013) container database, with the DDL of
// Swift's test suite (prespi_create_*), and inserts `objects` directly.
absl::Status CreateLegacyContainerDb(const std::string& db_file, const std::string& account,
                                     const std::string& container, const std::string& put_timestamp,
                                     const std::vector<ObjectRecord>& objects);

// Matches an OK absl::StatusOr whose value equals `expected`.
MATCHER_P(IsOkAndHolds, expected, "is OK and holds " + ::testing::PrintToString(expected)) {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  *result_listener << "value is " << ::testing::PrintToString(*arg);
  return *arg == expected;
}

// Returns once the coarse clock file times come from has passed the last
// modification (mtime and ctime) of `db_file` and of its .pending, if any:
// a state read from then on may be cached (common/db/state_cache.h's rule).
void WaitPastLastWrite(const std::string& db_file);

// An object row `name`, created at 1700000000 + `i`.
ObjectRecord TestObject(const std::string& name, int i);

// True if `path` exists.
bool PathExists(const std::string& path);

}  // namespace dbrepl::testing

#endif  // DBREPL_COMMON_DB_TESTING_DB_TEST_UTIL_H_
