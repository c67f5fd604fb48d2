// DatabaseBroker: one Swift account or container database (a SQLite file), as
// Swift's swift.common.db.DatabaseBroker and its Account/Container
// subclasses. The files are byte-compatible with Swift's: Swift reads what we
// write and we replicate what Swift wrote.
//
//   ASSIGN_OR_RETURN(auto broker, DatabaseBroker::Open(DbType::kContainer, path));
//   ASSIGN_OR_RETURN(ReplicationInfo info, broker->GetReplicationInfo());
//   ASSIGN_OR_RETURN(ItemBatch rows, broker->GetItemsSince(point, 1000));
//
// Thread-safety: a broker owns one SQLite connection and is NOT thread-safe;
// use one broker per thread. Any number of brokers (in any number of
// processes) may open the same file: SQLite's locks serialise writers, and a
// busy database is retried with backoff until `busy_timeout` passes (Swift's
// 25 s), then UNAVAILABLE.
//
// Errors:
//   NOT_FOUND           the file does not exist (Open without create).
//   DATA_LOSS           the database is corrupt ("malformed", "not a
//                       database", "no such table", disk I/O error, missing
//                       stat row). If options.quarantine_on_corruption, the
//                       hash directory has been moved to
//                       <device>/quarantined/<type>s/<hash>[-<uuid>] and the
//                       status says where; the broker is unusable afterwards.
//   ALREADY_EXISTS      Create over an existing database.
//   UNAVAILABLE         locked past the busy timeout.
//   INVALID_ARGUMENT    bad arguments (e.g. rows of the other type).
//   INTERNAL            anything else SQLite or the filesystem says.
#ifndef DBREPL_COMMON_DB_BROKER_H_
#define DBREPL_COMMON_DB_BROKER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/db/records.h"
#include "common/db_type.h"

namespace dbrepl {

struct BrokerOptions {
  // How long to keep retrying a locked database (Swift's BROKER_TIMEOUT).
  absl::Duration busy_timeout = absl::Seconds(25);
  // How long to wait for the hash directory's .lock (pending file, create,
  // delete). Swift: 10 s (the replicator uses 30 s for pending).
  absl::Duration lock_timeout = absl::Seconds(10);
  // Move a corrupt database to quarantine when an operation discovers it.
  bool quarantine_on_corruption = true;
  // Flush <db>.pending into the database before reads (Swift always does).
  // Reads made while the broker is Lock()ed never flush.
  bool flush_pending = true;
  // The device named in new ids (NewId); empty: the path component four
  // levels above the hash directory, as Swift derives it. An upload in
  // <device>/tmp/ must say, since its path does not have that shape.
  std::string device_name;
  // The file is private to its opener (an rsynced upload being installed):
  // row merges skip the hash directory's lock, which exists to order them
  // against replacement of a file that others can see, and transactions
  // run unsynced with the journal in memory (Swift's initialize() pragmas):
  // the opener fsyncs the file before anyone else can see it, and a crash
  // before that leaves a private file nobody will use.
  bool exclusive_file = false;
  // A file from elsewhere (an rsynced upload): before anything of it runs,
  // check that its schema is one Swift creates and that SQLite's quick_check
  // finds it whole (VerifySwiftDatabaseOn, common/db/schema_verify.h), on
  // this broker's own connection. Open then fails with DATA_LOSS saying what
  // is wrong (INVALID_ARGUMENT for the other type) and quarantines nothing.
  bool verify_swift_database = false;
  // The connection's page cache limit in KiB; 0: SQLite's default (2000).
  int cache_kib = 0;
  // Tombstones deleted per transaction by Reclaim (Swift's
  // RECLAIM_PAGE_SIZE). Only tests change it.
  int reclaim_page_size = 10000;
  // Row merges into a container whose triggers are Swift's do the
  // triggers' arithmetic once per batch (common/db/object_trigger_effects.h),
  // with the same result; false: the triggers run per row (tests compare).
  bool batch_object_triggers = true;
};

class DatabaseBroker {
 public:
  // Opens an existing database (never creates one). NOT_FOUND (reason
  // DB_NOT_FOUND) if `db_file` does not exist; INVALID_ARGUMENT if it is a
  // database of the other type (not quarantined); DATA_LOSS if it is not a
  // usable Swift database. Older schemas (the 2013 container schema,
  // pre-policy accounts) open and read as they are; the first row merge
  // migrates them, as Swift does.
  static absl::StatusOr<std::unique_ptr<DatabaseBroker>> Open(DbType type, const std::string& db_file,
                                                              const BrokerOptions& options = {});

  // Creates a new database exactly as Swift's initialize(): schema in a
  // mkstemp'd "*.tmp" in the hash directory (created if needed), then renamed
  // into place under the directory lock. `container` must be empty for an
  // account. `put_timestamp` defaults to "0000000000.00000". The id is
  // "<uuid4>-<device>" where device is the path component four levels above
  // the hash directory. ALREADY_EXISTS if the file exists (the tmp file is
  // then removed, where Swift leaves it for ReclaimTmpFiles).
  // INVALID_ARGUMENT if `account` is empty, or `container` is empty for a
  // container database.
  static absl::StatusOr<std::unique_ptr<DatabaseBroker>> Create(
      DbType type, const std::string& db_file, const std::string& account, const std::string& container,
      const std::string& put_timestamp = "", int64_t storage_policy_index = 0,
      const BrokerOptions& options = {});

  virtual ~DatabaseBroker() = default;

  DbType type() const { return type_; }
  const std::string& db_file() const { return db_file_; }

  // Swift's get_replication_info(), after flushing .pending.
  virtual absl::StatusOr<ReplicationInfo> GetReplicationInfo() = 0;
  // GetReplicationInfo, both sync tables and when reclaiming is next due,
  // in one snapshot, after flushing .pending.
  virtual absl::StatusOr<ReplicationState> GetReplicationState() = 0;
  // Highest ROWID ever allocated in the row table (sqlite_sequence), or -1.
  virtual absl::StatusOr<int64_t> GetMaxRow() = 0;

  // Up to `count` rows with ROWID > `point`, ascending, tombstones included.
  virtual absl::StatusOr<ItemBatch> GetItemsSince(int64_t point, int count) = 0;

  // Merges rows with the type's conflict rules in one transaction (Swift's
  // merge_items: newest timestamp wins per name and policy). If `source` is
  // not empty, raises incoming_sync[source] to the batch's last ROWID
  // (containers) or its largest ROWID (accounts). Rows of the other type, or
  // timestamps that do not parse, are INVALID_ARGUMENT (nothing is written).
  // An empty batch changes nothing, not even the sync point (Swift would fail
  // on it). Does not flush .pending.
  //
  // The merge runs under the hash directory's lock, after checking that the
  // file this broker has open is still the one at db_file(): everything that
  // replaces or removes a database takes that lock too, so a merge that
  // returns OK is in the file at the path. UNAVAILABLE/DB_REPLACED (nothing
  // written) if the file was replaced since Open.
  virtual absl::StatusOr<MergeResult> MergeItems(const ItemBatch& items, const std::string& source) = 0;
  // MergeItems, then MergeSyncs(`incoming_syncs`, incoming=true), in the one
  // transaction: both are committed or neither is (a usync's last batch and
  // the sender's sync table). With no rows, only the syncs are merged.
  virtual absl::StatusOr<MergeResult> MergeItemsAndSyncs(const ItemBatch& items, const std::string& source,
                                                         const std::vector<SyncRecord>& incoming_syncs) = 0;

  // Sync tables. GetSync returns -1 when absent.
  virtual absl::StatusOr<int64_t> GetSync(const std::string& remote_id, bool incoming = true) = 0;
  virtual absl::StatusOr<std::vector<SyncRecord>> GetSyncs(bool incoming = true) = 0;
  // Inserts or raises each point (never lowers one), in one transaction.
  virtual absl::Status MergeSyncs(const std::vector<SyncRecord>& syncs, bool incoming = true) = 0;

  // True when the file this broker has open is no longer the one at
  // db_file() (an rsynced copy was installed over it, it was deleted or
  // quarantined). Reads still see the old file; writes fail.
  virtual bool HasMoved() = 0;

  // Raw metadata JSON ("" for none).
  virtual absl::StatusOr<std::string> GetRawMetadata() = 0;
  // Merges `metadata_json` ({"key": ["value", "timestamp"], ...}) key by key,
  // newest timestamp wins. INVALID_ARGUMENT for malformed JSON.
  virtual absl::Status UpdateMetadata(const std::string& metadata_json) = 0;

  // Container only (Swift's set_storage_policy_index): takes
  // `policy_index` (adding its policy_stat row) and raises status_changed_at
  // to `timestamp`, unless the index is already that. Migrates a 2013
  // schema first. FAILED_PRECONDITION for an account database.
  virtual absl::Status SetStoragePolicyIndex(int64_t policy_index, const std::string& timestamp) = 0;

  // --- Container only: what Swift's replicator feeds its container-
  // reconciler from. An account database answers FAILED_PRECONDITION. ---
  // container_stat.reconciler_sync_point: rows up to it were looked at for
  // misplaced objects (-1 in the 2013 schema, which has no such column).
  virtual absl::StatusOr<int64_t> GetReconcilerSync();
  // Sets it (migrating the 2013 schema first, as Swift does).
  virtual absl::Status UpdateReconcilerSync(int64_t point);
  // policy_stat has more than one row: objects of another policy than the
  // container's may be here.
  virtual absl::StatusOr<bool> HasMultiplePolicies();
  // Swift's get_misplaced_since: object rows after ROWID `start` whose
  // storage policy is not the container's, by ROWID, at most `count` (rowid
  // set). Flushes .pending first.
  virtual absl::StatusOr<std::vector<ObjectRecord>> GetMisplacedSince(int64_t start, int count);

  // created_at = min, put/delete = max (text comparison, as Swift).
  virtual absl::Status MergeTimestamps(const std::string& created_at, const std::string& put_timestamp,
                                       const std::string& delete_timestamp) = 0;

  // Gives the database a new id and records `remote_id` as synced up to the
  // current max ROWID (Swift's newid). Returns the new id.
  virtual absl::StatusOr<std::string> NewId(const std::string& remote_id) = 0;

  // Swift's reclaim(age_timestamp, sync_timestamp): tombstones older than
  // `age_timestamp`, sync rows not updated since `sync_timestamp`, deleted
  // metadata keys older than `age_timestamp`. Timestamps are epoch seconds.
  virtual absl::Status Reclaim(double age_timestamp, double sync_timestamp) = 0;

  // Whether the whole database may be deleted: deleted longer than
  // `reclaim_age` ago and empty (Swift's is_reclaimable).
  virtual absl::StatusOr<bool> IsReclaimable(double now, double reclaim_age) = 0;
  // Containers: reported_* equal the current values. Accounts: always true.
  virtual absl::StatusOr<bool> ReportUpToDate(const ReplicationInfo& info) = 0;

  // BEGIN IMMEDIATE / ROLLBACK: holds SQLite's RESERVED lock, so no other
  // writer changes the file (used around the second rsync pass). While
  // locked, this broker may read (without flushing .pending) but its writes
  // fail with FAILED_PRECONDITION; Lock twice or Unlock unlocked is
  // FAILED_PRECONDITION too.
  virtual absl::Status Lock() = 0;
  virtual absl::Status Unlock() = 0;

  // Writes as the account/container servers do (for tests, the demo, load
  // generation): through the .pending file when `use_pending` (merging it
  // all at once when it is over Swift's PENDING_CAP), else directly.
  // PutObject honours ctype_timestamp/meta_timestamp. PutContainer ignores
  // `deleted` and decides it as put_container() does: delete > put and no
  // objects. INVALID_ARGUMENT on a database of the other type.
  virtual absl::Status PutObject(const ObjectRecord& object, bool use_pending = false) = 0;
  virtual absl::Status PutContainer(const ContainerRecord& container, bool use_pending = false) = 0;
  // Marks the database deleted at `timestamp` (Swift's broker.delete_db).
  virtual absl::Status MarkDeleted(const std::string& timestamp) = 0;

 protected:
  DatabaseBroker(DbType type, std::string db_file) : type_(type), db_file_(std::move(db_file)) {}

 private:
  const DbType type_;
  const std::string db_file_;
};

// The type of the database in `db_file`, from its schema (account_stat or
// container_stat). Reads only; never quarantines. NOT_FOUND if the file is
// missing; DATA_LOSS if it is not a Swift database.
absl::StatusOr<DbType> DetectDbType(const std::string& db_file);

// Moves the database's hash directory to
// <device>/quarantined/<type>s/<hash>[-<uuid4hex>] (Swift's quarantine_db).
// Returns the new path. Safe to call for a directory already gone (NOT_FOUND).
absl::StatusOr<std::string> QuarantineDb(const std::string& db_file, DbType type);

// Removes the database's hash directory under its .lock, then prunes the
// suffix and partition directories if empty (Swift's delete_db).
absl::Status DeleteDbFiles(const std::string& db_file);

// Removes the database only if no row arrived since its max_row was read as
// `expected_max_row`: under the hash directory's lock (which .pending writers
// and row merges take), checks that <db>.pending is empty and max_row is
// unchanged, then removes the directory as DeleteDbFiles does. Swift checks
// max_row before taking the lock and never looks at .pending, so rows written
// meanwhile could go with the handoff. FAILED_PRECONDITION (nothing deleted)
// saying what arrived.
absl::Status DeleteDbFilesIfUnchanged(DbType type, const std::string& db_file, int64_t expected_max_row);

// What identifies the contents of a SQLite file cheaply, to tell whether a
// copy made between two reads may be torn: the file's identity and size, its
// mtime, SQLite's file change counter (header bytes 24-27, bumped by every
// commit in rollback-journal mode), and whether a journal exists (a commit
// may be in progress). Two equal stamps without a journal bracket a time in
// which nothing was written to the file.
//
// ReadFileStamp opens and closes its own descriptor: call it only while no
// broker in this process holds a SQLite lock on the file (closing any
// descriptor of a file drops the process's POSIX locks on it).
struct FileStamp {
  uint64_t dev = 0, ino = 0;
  int64_t size = 0, mtime_ns = 0;
  uint32_t change_counter = 0;
  bool journal = false;
  bool operator==(const FileStamp& o) const {
    return dev == o.dev && ino == o.ino && size == o.size && mtime_ns == o.mtime_ns &&
           change_counter == o.change_counter && journal == o.journal;
  }
  bool operator!=(const FileStamp& o) const { return !(*this == o); }
};
absl::StatusOr<FileStamp> ReadFileStamp(const std::string& db_file);

// Removes "*.tmp" files in `db_dir` (a hash directory) last modified before
// `cutoff`: leftovers of interrupted Create()s (Swift's _reclaim_tmp_dbs,
// called with now - reclaim_age). Returns how many were removed; NOT_FOUND
// if `db_dir` does not exist.
absl::StatusOr<int> ReclaimTmpFiles(const std::string& db_dir, absl::Time cutoff);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_DB_BROKER_H_
