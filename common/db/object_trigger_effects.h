// What Swift's object triggers do to a container database, done once per
// batch instead of once per row.
//
// Swift's current container schema keeps policy_stat's counts and
// container_info.hash with triggers: every object row inserted adds
// (1 - deleted, size) to its policy's policy_stat row (creating the row if
// it is missing) and XORs md5("<name>-<created_at>") into the hash; every
// row deleted subtracts the same from an existing policy_stat row and XORs
// its term out again. Run per row, the triggers are three quarters of a
// merge's cost (a VDBE sub-program, a rewrite of container_info's row and a
// statement journal, per row). Their effect is a sum and an XOR, so for a
// batch it is the same when computed once:
//
//   ObjectTriggerEffects effects;
//   for (each row to delete) if (!effects.Deleted(row)) -> use the triggers;
//   for (each row to insert) if (!effects.Inserted(row)) -> use the triggers;
//   ASSIGN_OR_RETURN(bool exact, effects.Load(conn));   // in the write transaction
//   if (!exact) -> use the triggers;
//   TriggersOff off(conn);
//   ... DELETE the rows, then INSERT the rows ...
//   RETURN_IF_ERROR(effects.Apply(conn));
//   off.Restore();
//
// The result is the same file content as the triggers give, byte for byte
// in every table, whenever the batched arithmetic is exact, which is what
// Deleted/Inserted and Load check (false: use the triggers, before anything
// is written): rows have the column types Swift writes (name and
// created_at TEXT, size a non-negative INTEGER, deleted 0 or 1,
// storage_policy_index INTEGER); container_info has exactly one row, whose
// hash is TEXT that Swift's chexor parses; the policy_stat rows touched
// hold INTEGER counts; and no count passes a 64-bit bound on the way (with
// sizes non-negative, deletes only lower a count and inserts only raise
// it, so checking the ends checks every step the triggers would take).
// Order matters as it does for the triggers: every delete of the batch
// comes before every insert (a delete finds no policy_stat row to create).
//
// Only for a database whose schema says swift_object_triggers (the
// triggers' text is Swift's and nothing else fires on those tables).
//
// Thread-safety: a value type; Load and Apply use the caller's connection.
#ifndef DBREPL_COMMON_DB_OBJECT_TRIGGER_EFFECTS_H_
#define DBREPL_COMMON_DB_OBJECT_TRIGGER_EFFECTS_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/db/sqlite_connection.h"
#include "common/hash_path.h"

namespace dbrepl {

class ObjectTriggerEffects {
 public:
  // A row as SQLite holds it. The caller checks the storage classes of
  // name, created_at (TEXT) and size, deleted, storage_policy_index
  // (INTEGER); these refuse the values the arithmetic cannot take.
  struct Row {
    absl::string_view name;
    absl::string_view created_at;
    int64_t size = 0;
    int64_t deleted = 0;
    int64_t storage_policy_index = 0;
  };
  bool Deleted(const Row& row);
  bool Inserted(const Row& row);

  // Reads container_info's hash and the policy_stat rows the batch
  // touches; false when the batched result would not be exactly the
  // triggers' (see above). Call in the write transaction, before writing.
  absl::StatusOr<bool> Load(SqliteConnection* conn);

  // Writes what the triggers would have: policy_stat's rows and
  // container_info.hash. After a Load that returned true, in the same
  // transaction; nothing to write when no row was recorded.
  absl::Status Apply(SqliteConnection* conn) const;

 private:
  struct Sums {
    int64_t objects = 0;
    int64_t bytes = 0;
  };
  struct Stat {
    bool exists = false;
    int64_t objects = 0;
    int64_t bytes = 0;
  };
  bool Add(const Row& row, std::map<int64_t, Sums>* sums);

  std::map<int64_t, Sums> deleted_;   // By storage_policy_index.
  std::map<int64_t, Sums> inserted_;  // By storage_policy_index.
  Md5Digest mask_{};
  int64_t rows_ = 0;
  // From Load: the hash and the final policy_stat rows.
  std::string hash_;
  std::map<int64_t, Stat> final_;
};

}  // namespace dbrepl

#endif  // DBREPL_COMMON_DB_OBJECT_TRIGGER_EFFECTS_H_
