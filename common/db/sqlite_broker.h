// SqliteBroker: what Swift's DatabaseBroker base class does for both types
// (connection, quarantine, .pending, sync tables, metadata, timestamps,
// newid, reclaim, lock). ContainerBroker and AccountBroker fill in the rows.
// Internal to common/db: callers use DatabaseBroker (broker.h).
//
// Every public method runs through Guard(): a DATA_LOSS from SQLite (or a
// missing stat row) quarantines the hash directory, if the options say so,
// and becomes a DbCorruptError naming the new place. Afterwards every call
// fails with DbCorruptError.
//
// Thread-safety: none (one broker per thread), as DatabaseBroker.
#ifndef DBREPL_COMMON_DB_SQLITE_BROKER_H_
#define DBREPL_COMMON_DB_SQLITE_BROKER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/types/optional.h"
#include "common/db/broker.h"
#include "common/db/db_files.h"
#include "common/db/lock_file.h"
#include "common/db/schema_info.h"
#include "common/db/sqlite_connection.h"
#include "common/timestamp.h"

namespace dbrepl {

class SqliteBroker : public DatabaseBroker {
 public:
  // Connects and checks the schema. Called once, by Open().
  absl::Status Init();

  // One read transaction: every field describes the same committed state.
  absl::StatusOr<ReplicationInfo> GetReplicationInfo() override;
  absl::StatusOr<ReplicationState> GetReplicationState() override;
  absl::StatusOr<int64_t> GetMaxRow() override;
  absl::StatusOr<ItemBatch> GetItemsSince(int64_t point, int count) override;
  absl::StatusOr<MergeResult> MergeItems(const ItemBatch& items, const std::string& source) override;
  absl::StatusOr<MergeResult> MergeItemsAndSyncs(const ItemBatch& items, const std::string& source,
                                                 const std::vector<SyncRecord>& incoming_syncs) override;
  absl::StatusOr<int64_t> GetSync(const std::string& remote_id, bool incoming) override;
  absl::StatusOr<std::vector<SyncRecord>> GetSyncs(bool incoming) override;
  absl::Status MergeSyncs(const std::vector<SyncRecord>& syncs, bool incoming) override;
  absl::StatusOr<std::string> GetRawMetadata() override;
  absl::Status UpdateMetadata(const std::string& metadata_json) override;
  absl::Status MergeTimestamps(const std::string& created_at, const std::string& put_timestamp,
                               const std::string& delete_timestamp) override;
  absl::StatusOr<std::string> NewId(const std::string& remote_id) override;
  absl::Status SetStoragePolicyIndex(int64_t policy_index, const std::string& timestamp) override;
  absl::Status Reclaim(double age_timestamp, double sync_timestamp) override;
  absl::Status Lock() override;
  absl::Status Unlock() override;
  bool HasMoved() override;
  absl::Status PutObject(const ObjectRecord& object, bool use_pending) override;
  absl::Status PutContainer(const ContainerRecord& container, bool use_pending) override;
  absl::Status MarkDeleted(const std::string& timestamp) override;

 protected:
  SqliteBroker(DbType type, std::string db_file, const BrokerOptions& options);

  // Table names: "<type>_stat", the row table, the column reclaim compares.
  const char* stat_table() const { return type() == DbType::kAccount ? "account_stat" : "container_stat"; }
  const char* rows_table() const { return type() == DbType::kAccount ? "container" : "object"; }

  // --- For the subclasses ---------------------------------------------------
  // The row merge proper (one transaction; migrates a legacy schema first).
  // `rows` holds the broker's type only; `source` may be empty.
  virtual absl::Status MergeRows(const ItemBatch& rows, const std::string& source,
                                 const std::vector<SyncRecord>& also_syncs, int64_t* applied) = 0;
  // The stat row (and the type's extra max rows), inside the caller's
  // transaction; metadata and max_row are filled in by the caller.
  virtual absl::StatusOr<ReplicationInfo> ReadInfoLocked() = 0;
  // The reclaim column's oldest value among tombstones (objects' created_at,
  // containers' delete_timestamp) as Unix seconds, inside the caller's
  // transaction; nullopt when there is no tombstone.
  absl::StatusOr<absl::optional<double>> OldestTombstoneLocked();
  // One listing of this database's hash dir (empty if it cannot be read).
  HashDirFiles HashDir() const;
  // Swift's _is_deleted(conn), inside the caller's transaction.
  virtual absl::StatusOr<bool> IsDeletedLocked() = 0;
  // Swift's _newid(conn), inside the caller's transaction.
  virtual absl::Status OnNewIdLocked() { return absl::OkStatus(); }
  // SetStoragePolicyIndex proper (its own transaction); the default refuses.
  virtual absl::Status SetStoragePolicyIndexUnguarded(int64_t policy_index, const std::string& timestamp) {
    return absl::FailedPreconditionError("only a container has a storage policy index");
  }
  // Swift's _reclaim_other_stuff extras, inside the caller's transaction.
  virtual absl::Status ReclaimOtherLocked(double sync_timestamp) { return absl::OkStatus(); }
  // Metadata keys delete_db keeps (lower case).
  virtual std::vector<std::string> DeleteMetaWhitelist() const { return {}; }
  // Raises the sync points of `syncs` in the incoming or outgoing table to
  // at least their values (a missing remote is inserted), inside the
  // caller's write transaction: Swift's merge_syncs, and what a row merge
  // from a source records. Never lowers a point.
  absl::Status RaiseSyncPointsLocked(const std::vector<SyncRecord>& syncs, bool incoming);
  // "deleted IN (0, 1) AND " when the deleted/name index exists (Swift's
  // get_db_version() >= 1), else "".
  std::string DeletedQueryMod() const;

  // Merges <db>.pending (under the directory lock) unless disabled or locked.
  absl::Status FlushPending();
  // The hash directory's lock (none for an exclusive file), after checking
  // that the open file is still the one at the path: DB_REPLACED if not.
  absl::StatusOr<absl::optional<DirectoryLock>> LockForRowWrite();
  // Swift's put_record().
  absl::Status PutRecord(const ItemBatch& row, const std::string& entry, bool use_pending);
  // The connection, or DbCorruptError after quarantine.
  absl::StatusOr<SqliteConnection*> Conn();
  // BEGIN IMMEDIATE on the connection.
  absl::StatusOr<Transaction> BeginWrite();
  // Re-reads the schema (after a migration).
  // Reads the schema again (after a migration); `set_journal_mode`: first
  // set Swift's journal mode in the same read transaction (at open).
  absl::Status RefreshSchema(bool set_journal_mode = false);
  // Swift's get_raw_metadata() inside or outside a transaction. DATA_LOSS
  // "missing row in <type>_stat table" when the stat row is gone.
  absl::StatusOr<std::string> ReadMetadataColumn();
  // get_max_row(table).
  absl::StatusOr<int64_t> MaxRowOf(absl::string_view table);
  // A DATA_LOSS status quarantines (once) and becomes DbCorruptError.
  absl::Status Guard(absl::Status status);
  template <typename T>
  absl::StatusOr<T> Guard(absl::StatusOr<T> result) {
    if (result.ok()) return result;
    return Guard(result.status());
  }

  const BrokerOptions options_;
  SchemaInfo schema_;

 private:
  absl::Status DoUpdateMetadata(const std::string& metadata_json);
  absl::Status DoMergeTimestamps(const std::string& created_at, const std::string& put_timestamp,
                                 const std::string& delete_timestamp);
  absl::StatusOr<std::string> DoNewId(const std::string& remote_id);
  absl::StatusOr<std::vector<SyncRecord>> ReadSyncs(bool incoming);
  absl::Status DoReclaim(double age_timestamp, double sync_timestamp);
  absl::Status DoMergeSyncs(const std::vector<SyncRecord>& syncs, bool incoming);

  std::unique_ptr<SqliteConnection> conn_;
  absl::optional<Transaction> lock_;  // Held between Lock() and Unlock().
  std::string quarantined_to_;        // Set once quarantined.
};

// Reads an object row whose columns are, from `first`: name, created_at,
// size, content_type, etag, deleted, storage_policy_index. rowid is not read.
ObjectRecord ReadObjectColumns(const SqliteStatement& st, int first);

// Reads the rows of `table` after `point` (GetItemsSince) for either type.
absl::StatusOr<ItemBatch> ReadItemsSince(SqliteConnection* conn, DbType type, bool has_policy_index,
                                         int64_t point, int count);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_DB_SQLITE_BROKER_H_
