#include "common/db/sqlite_broker.h"

#include <sys/stat.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/db/db_files.h"
#include "common/db/lock_file.h"
#include "common/db/metadata.h"
#include "common/db/pending.h"
#include "common/db/schema_verify.h"
#include "common/errors.h"
#include "common/python_float.h"
#include "common/status_macros.h"
#include "glog/logging.h"

namespace dbrepl {
namespace {

// Reclaim compares a tombstone's text with the age; its leading float
// (before an encoded "+delta" or an "_offset") is when that turns true.
double TimestampSeconds(const std::string& text) {
  double seconds = 0;
  if (!absl::SimpleAtod(text.substr(0, text.find_first_of("+_")), &seconds)) seconds = 0;
  return seconds;
}

// Swift's possibly_quarantine() hint for a corruption message.
std::string QuarantineReason(absl::string_view message) {
  if (absl::StrContains(message, "database disk image is malformed") ||
      absl::StrContains(message, "malformed database schema")) {
    return "malformed database";
  }
  if (absl::StrContains(message, " is not a database")) return "corrupted database";
  if (absl::StrContains(message, "disk I/O error")) return "disk error while accessing database";
  if (absl::StrContains(message, "missing row in")) {
    return std::string(message.substr(message.find("missing row in")));
  }
  if (absl::StrContains(message, "no such table")) return "no such table";
  return "corrupted database";
}

const char* SyncTable(bool incoming) { return incoming ? "incoming_sync" : "outgoing_sync"; }

}  // namespace

SqliteBroker::SqliteBroker(DbType type, std::string db_file, const BrokerOptions& options)
    : DatabaseBroker(type, std::move(db_file)), options_(options) {}

absl::Status SqliteBroker::Init() {
  SqliteOpenOptions open_options;
  open_options.busy_timeout = options_.busy_timeout;
  // A private file is made durable by whoever publishes it (an upload is
  // fsynced before its rename): no journal file to create and delete, no
  // fsync per transaction.
  open_options.creating_schema = options_.exclusive_file;
  open_options.cache_kib = options_.cache_kib;
  open_options.journal_mode_later = !options_.exclusive_file;
  absl::StatusOr<std::unique_ptr<SqliteConnection>> conn = SqliteConnection::Open(db_file(), open_options);
  if (!conn.ok()) {
    if (absl::IsNotFound(conn.status())) return DbNotFoundError(conn.status().message());
    return Guard(conn.status());
  }
  conn_ = *std::move(conn);
  if (options_.verify_swift_database) {
    // Not through Guard: a file that is not Swift's is the caller's to judge.
    absl::Status verified = VerifySwiftDatabaseOn(conn_.get(), type());
    if (!verified.ok()) {
      if (absl::IsNotFound(verified) || absl::IsInvalidArgument(verified)) return verified;
      return absl::DataLossError(absl::StrCat(db_file(), ": ", verified.message()));
    }
  }
  RETURN_IF_ERROR(Guard(RefreshSchema(/*set_journal_mode=*/!options_.exclusive_file)));
  absl::Status s = CheckSchema(schema_, type());
  if (absl::IsDataLoss(s)) return Guard(absl::DataLossError(absl::StrCat(db_file(), ": ", s.message())));
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(db_file(), ": ", s.message()));
  return absl::OkStatus();
}

absl::Status SqliteBroker::RefreshSchema(bool set_journal_mode) {
  ASSIGN_OR_RETURN(SqliteConnection * conn, Conn());
  // One read transaction for the few statements: one lock cycle (and one
  // hot-journal check) instead of one per statement.
  ASSIGN_OR_RETURN(Transaction snapshot, Transaction::BeginRead(conn));
  bool journal_mode_set = true;
  if (set_journal_mode) {
    // A fresh connection loads the schema when it first prepares a
    // statement, under a shared lock of its own unless the transaction
    // already holds one: this statement needs no schema and takes the
    // transaction's lock first, so the load and everything below share it.
    RETURN_IF_ERROR(conn->Execute("PRAGMA schema_version"));
    ASSIGN_OR_RETURN(journal_mode_set, conn->SetJournalModeDelete());
  }
  ASSIGN_OR_RETURN(schema_, InspectSchema(conn));
  RETURN_IF_ERROR(snapshot.Commit());
  if (!journal_mode_set) {
    // A WAL database: out of WAL mode only outside a transaction.
    ASSIGN_OR_RETURN(journal_mode_set, conn->SetJournalModeDelete());
    if (!journal_mode_set) return absl::InternalError(absl::StrCat(db_file(), ": could not leave WAL mode"));
  }
  return absl::OkStatus();
}

absl::StatusOr<SqliteConnection*> SqliteBroker::Conn() {
  if (conn_ == nullptr) {
    return DbCorruptError(absl::StrCat(db_file(), " was quarantined to ", quarantined_to_));
  }
  return conn_.get();
}

absl::StatusOr<Transaction> SqliteBroker::BeginWrite() {
  ASSIGN_OR_RETURN(SqliteConnection * conn, Conn());
  if (lock_.has_value()) {
    return absl::FailedPreconditionError(absl::StrCat(db_file(), " is locked by this broker; Unlock() first"));
  }
  return Transaction::Begin(conn);
}

absl::Status SqliteBroker::Guard(absl::Status status) {
  if (status.ok() || !absl::IsDataLoss(status) || GetReason(status) == ErrorReason::kDbCorrupt) return status;
  if (conn_ != nullptr && conn_->HasMoved()) {
    // The trouble is with a file that is no longer at the path: quarantining
    // the path would move the database that replaced it.
    return DbReplacedError(absl::StrCat(db_file(), " was replaced or removed while in use (", status.message(), ")"));
  }
  lock_.reset();
  conn_.reset();  // Close before moving the directory away.
  std::string hash_dir = PythonDirname(db_file());
  std::string reason = QuarantineReason(status.message());
  if (!options_.quarantine_on_corruption) {
    quarantined_to_ = "(not quarantined: disabled)";
    return DbCorruptError(absl::StrCat(db_file(), " is corrupt (", reason, "): ", status.message()));
  }
  absl::StatusOr<std::string> target = QuarantineHashDir(hash_dir, type());
  if (!target.ok()) {
    quarantined_to_ = "(quarantine failed)";
    LOG(ERROR) << "Failed to quarantine " << hash_dir << " (" << reason << "): " << target.status();
    return DbCorruptError(absl::StrCat(db_file(), " is corrupt (", status.message(),
                                       ") and could not be quarantined: ", target.status().message()));
  }
  quarantined_to_ = *target;
  std::string detail = absl::StrCat("Quarantined ", hash_dir, " to ", *target, " due to ", reason);
  LOG(ERROR) << detail << " (" << status.message() << ")";
  return DbCorruptError(detail);
}

std::string SqliteBroker::DeletedQueryMod() const {
  return schema_.has_deleted_name_index ? " deleted IN (0, 1) AND " : "";
}

// ---------------------------------------------------------------------------
// Pending file

bool SqliteBroker::HasMoved() { return conn_ == nullptr || conn_->HasMoved(); }

absl::StatusOr<absl::optional<DirectoryLock>> SqliteBroker::LockForRowWrite() {
  absl::optional<DirectoryLock> lock;
  if (!options_.exclusive_file) {
    absl::StatusOr<DirectoryLock> l = LockExistingDirectory(PythonDirname(db_file()), options_.lock_timeout);
    if (absl::IsNotFound(l.status())) {
      return DbReplacedError(absl::StrCat(db_file(), " was removed since it was opened; nothing written"));
    }
    if (!l.ok()) return l.status();
    lock.emplace(*std::move(l));
  }
  if (HasMoved()) {
    return DbReplacedError(absl::StrCat(db_file(), " was replaced or removed since it was opened; nothing written"));
  }
  return lock;
}

absl::Status SqliteBroker::FlushPending() {
  if (!options_.flush_pending || lock_.has_value()) return absl::OkStatus();
  std::string pending_file = absl::StrCat(db_file(), ".pending");
  ASSIGN_OR_RETURN(int64_t size, PendingFileSize(pending_file));
  if (size == 0) return absl::OkStatus();
  // The pending rows go into the file at the path, or stay pending: merged
  // into a file that was replaced meanwhile and then truncated, they would
  // be lost.
  ASSIGN_OR_RETURN(absl::optional<DirectoryLock> dir_lock, LockForRowWrite());
  absl::StatusOr<std::string> contents = ReadPendingFile(pending_file);
  if (absl::IsNotFound(contents.status())) return absl::OkStatus();
  if (!contents.ok()) return contents.status();
  PendingRows rows = DecodePending(type(), *contents, pending_file);
  ItemBatch batch;
  batch.objects = std::move(rows.objects);
  batch.containers = std::move(rows.containers);
  int64_t applied = 0;
  if (!batch.empty()) RETURN_IF_ERROR(MergeRows(batch, "", {}, &applied));
  return TruncatePendingFile(pending_file);
}

absl::Status SqliteBroker::PutRecord(const ItemBatch& row, const std::string& entry, bool use_pending) {
  int64_t applied = 0;
  if (!use_pending) {
    ASSIGN_OR_RETURN(absl::optional<DirectoryLock> dir_lock, LockForRowWrite());
    return Guard(MergeRows(row, "", {}, &applied));
  }
  RETURN_IF_ERROR(Conn().status());
  // As Swift: never write a pending file next to a database that is gone
  // (locking would even recreate its directory).
  struct stat st;
  if (stat(db_file().c_str(), &st) != 0) return DbNotFoundError(absl::StrCat("DB ", db_file(), " doesn't exist"));
  std::string pending_file = absl::StrCat(db_file(), ".pending");
  ASSIGN_OR_RETURN(DirectoryLock dir_lock, LockParentDirectory(pending_file, options_.lock_timeout));
  ASSIGN_OR_RETURN(int64_t size, PendingFileSize(pending_file));
  if (size <= kPendingCap) return AppendPendingFile(pending_file, entry);
  // Full: merge this record, then the pending entries, now (_commit_puts),
  // into the file at the path only (see FlushPending).
  if (HasMoved()) {
    return DbReplacedError(absl::StrCat(db_file(), " was replaced or removed since it was opened; nothing written"));
  }
  ASSIGN_OR_RETURN(std::string contents, ReadPendingFile(pending_file));
  PendingRows rows = DecodePending(type(), contents, pending_file);
  ItemBatch batch = row;
  batch.objects.insert(batch.objects.end(), rows.objects.begin(), rows.objects.end());
  batch.containers.insert(batch.containers.end(), rows.containers.begin(), rows.containers.end());
  RETURN_IF_ERROR(Guard(MergeRows(batch, "", {}, &applied)));
  return TruncatePendingFile(pending_file);
}

absl::Status SqliteBroker::PutObject(const ObjectRecord& object, bool use_pending) {
  if (type() != DbType::kContainer) return absl::InvalidArgumentError("PutObject on an account database");
  ItemBatch row;
  row.objects.push_back(object);
  return PutRecord(row, EncodePendingObject(object), use_pending);
}

absl::Status SqliteBroker::PutContainer(const ContainerRecord& container, bool use_pending) {
  if (type() != DbType::kAccount) return absl::InvalidArgumentError("PutContainer on a container database");
  // put_container() decides `deleted` from the timestamps.
  ContainerRecord record = container;
  ASSIGN_OR_RETURN(Timestamp put, Timestamp::Parse(record.put_timestamp));
  ASSIGN_OR_RETURN(Timestamp del, Timestamp::Parse(record.delete_timestamp));
  record.deleted = del > put && record.object_count == 0;
  ItemBatch row;
  row.containers.push_back(record);
  return PutRecord(row, EncodePendingContainer(record), use_pending);
}

// ---------------------------------------------------------------------------
// Rows

absl::StatusOr<int64_t> SqliteBroker::MaxRowOf(absl::string_view table) {
  ASSIGN_OR_RETURN(SqliteConnection * conn, Conn());
  ASSIGN_OR_RETURN(SqliteStatement st,
                   conn->Prepare("SELECT SQLITE_SEQUENCE.seq FROM SQLITE_SEQUENCE "
                                 "WHERE SQLITE_SEQUENCE.name == ? LIMIT 1"));
  st.BindText(1, table);
  ASSIGN_OR_RETURN(bool row, st.Step());
  return row ? st.ColumnInt(0) : -1;
}

absl::StatusOr<ReplicationInfo> SqliteBroker::GetReplicationInfo() {
  RETURN_IF_ERROR(Guard(FlushPending()));
  auto read = [&]() -> absl::StatusOr<ReplicationInfo> {
    ASSIGN_OR_RETURN(SqliteConnection * conn, Conn());
    // hash and max_row must come from one state: were a row committed between
    // reading them, a peer with the old rows would match our hash and record
    // our newer max_row as delivered, and the row would never replicate.
    ASSIGN_OR_RETURN(Transaction snapshot, Transaction::BeginRead(conn));
    ASSIGN_OR_RETURN(ReplicationInfo info, ReadInfoLocked());  // Metadata included.
    ASSIGN_OR_RETURN(info.max_row, MaxRowOf(rows_table()));
    RETURN_IF_ERROR(snapshot.Commit());
    if (type() == DbType::kContainer) info.db_state = DbStateOf(db_file(), HashDir().db_files, info.shard_max_row);
    return info;
  };
  return Guard(read());
}

HashDirFiles SqliteBroker::HashDir() const {
  const std::string base = PythonBasename(db_file());
  const std::string hash = base.substr(0, std::min(base.find('_'), base.rfind('.')));
  absl::StatusOr<HashDirFiles> files = ListHashDir(PythonDirname(db_file()), hash);
  return files.ok() ? *std::move(files) : HashDirFiles();
}

absl::StatusOr<absl::optional<double>> SqliteBroker::OldestTombstoneLocked() {
  ASSIGN_OR_RETURN(SqliteConnection * conn, Conn());
  const char* column = type() == DbType::kAccount ? "delete_timestamp" : "created_at";
  ASSIGN_OR_RETURN(SqliteStatement st, conn->Prepare(absl::StrCat("SELECT MIN(", column, ") FROM ", rows_table(),
                                                                  " WHERE ", DeletedQueryMod(), " deleted = 1")));
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row || st.ColumnIsNull(0)) return absl::optional<double>();
  return absl::optional<double>(TimestampSeconds(st.ColumnText(0)));
}

absl::StatusOr<ReplicationState> SqliteBroker::GetReplicationState() {
  RETURN_IF_ERROR(Guard(FlushPending()));
  auto read = [&]() -> absl::StatusOr<ReplicationState> {
    ASSIGN_OR_RETURN(SqliteConnection * conn, Conn());
    ASSIGN_OR_RETURN(Transaction snapshot, Transaction::BeginRead(conn));
    ReplicationState state;
    // A cold read is mostly SQLite compiling statements (the schema parse,
    // then each statement): the scalars come in one statement, both sync
    // tables in another.
    ASSIGN_OR_RETURN(state.info, ReadInfoLocked());  // Metadata included.
    const char* tombstone_column = type() == DbType::kAccount ? "delete_timestamp" : "created_at";
    ASSIGN_OR_RETURN(
        SqliteStatement scalars,
        conn->Prepare(absl::StrCat(
            "SELECT (SELECT seq FROM sqlite_sequence WHERE name = ? LIMIT 1), (SELECT MIN(", tombstone_column,
            ") FROM ", rows_table(), " WHERE ", DeletedQueryMod(), " deleted = 1), ",
            schema_.has_shard_range ? "(SELECT 1 FROM shard_range WHERE deleted = 1 LIMIT 1)" : "NULL", ", ",
            schema_.has_policy_stat ? "(SELECT COUNT(*) FROM policy_stat)" : "0")));
    scalars.BindText(1, rows_table());
    ASSIGN_OR_RETURN(bool scalar_row, scalars.Step());
    if (!scalar_row) return absl::InternalError("no row from a scalar SELECT");
    state.info.max_row = scalars.ColumnIsNull(0) ? -1 : scalars.ColumnInt(0);
    absl::optional<double> tombstone;
    if (!scalars.ColumnIsNull(1)) tombstone = TimestampSeconds(scalars.ColumnText(1));
    const bool deleted_range = !scalars.ColumnIsNull(2);
    state.multiple_policies = scalars.ColumnInt(3) > 1;
    ASSIGN_OR_RETURN(SqliteStatement syncs,
                     conn->Prepare("SELECT 1, remote_id, sync_point, updated_at FROM incoming_sync UNION ALL "
                                   "SELECT 0, remote_id, sync_point, updated_at FROM outgoing_sync"));
    while (true) {
      ASSIGN_OR_RETURN(bool row, syncs.Step());
      if (!row) break;
      SyncRecord r;
      r.remote_id = syncs.ColumnText(1);
      r.sync_point = syncs.ColumnInt(2);
      if (!absl::SimpleAtoi(syncs.ColumnText(3), &r.updated_at)) r.updated_at = 0;
      (syncs.ColumnInt(0) == 1 ? state.incoming : state.outgoing).push_back(std::move(r));
    }
    // When reclaiming is next due (ReclaimClock): the oldest tombstone, a
    // sync row, a deleted database. Deleted metadata keys and shard ranges
    // are rare: their presence means "due now".
    ReclaimClock& clock = state.reclaim;
    if (tombstone.has_value()) clock.oldest = std::min(clock.oldest, *tombstone);
    for (const auto* table : {&state.incoming, &state.outgoing}) {
      for (const SyncRecord& r : *table) clock.oldest_sync = std::min(clock.oldest_sync, static_cast<double>(r.updated_at));
    }
    if (absl::StrContains(state.info.metadata, "[\"\",")) clock.now = true;  // A deleted key: ["", ts].
    if (deleted_range) clock.now = true;
    double put = 0, del = 0;
    if (absl::SimpleAtod(state.info.put_timestamp.substr(0, state.info.put_timestamp.find('_')), &put) &&
        absl::SimpleAtod(state.info.delete_timestamp.substr(0, state.info.delete_timestamp.find('_')), &del) &&
        del > put) {
      clock.oldest = std::min(clock.oldest, del);
    }
    // Leftovers of an interrupted Create() in the hash directory, removed
    // once reclaim_age old (ReclaimTmpFiles).
    // One listing of the hash dir for both: the .tmp files and db_state.
    const HashDirFiles dir = HashDir();
    if (dir.oldest_tmp.has_value()) {
      clock.oldest = std::min(clock.oldest, absl::ToDoubleSeconds(*dir.oldest_tmp - absl::UnixEpoch()));
    }
    if (type() == DbType::kContainer) {
      state.info.db_state = DbStateOf(db_file(), dir.db_files, state.info.shard_max_row);
    }
    RETURN_IF_ERROR(snapshot.Commit());
    return state;
  };
  return Guard(read());
}

absl::StatusOr<int64_t> SqliteBroker::GetMaxRow() { return Guard(MaxRowOf(rows_table())); }

absl::StatusOr<ItemBatch> SqliteBroker::GetItemsSince(int64_t point, int count) {
  RETURN_IF_ERROR(Guard(FlushPending()));
  absl::StatusOr<SqliteConnection*> conn = Conn();
  if (!conn.ok()) return conn.status();
  return Guard(ReadItemsSince(*conn, type(), schema_.rows_have_policy_index, point, count));
}

absl::StatusOr<MergeResult> SqliteBroker::MergeItems(const ItemBatch& items, const std::string& source) {
  return MergeItemsAndSyncs(items, source, {});
}

absl::StatusOr<MergeResult> SqliteBroker::MergeItemsAndSyncs(const ItemBatch& items, const std::string& source,
                                                           const std::vector<SyncRecord>& incoming_syncs) {
  bool account = type() == DbType::kAccount;
  if (account ? !items.objects.empty() : !items.containers.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(account ? "object" : "container", " rows given to a ", ServerType(type()), " database"));
  }
  MergeResult result;
  if (items.empty()) {
    if (!incoming_syncs.empty()) RETURN_IF_ERROR(MergeSyncs(incoming_syncs, /*incoming=*/true));
    if (!source.empty()) {
      ASSIGN_OR_RETURN(result.sync_point, GetSync(source, /*incoming=*/true));
    }
    return result;
  }
  ASSIGN_OR_RETURN(absl::optional<DirectoryLock> dir_lock, LockForRowWrite());
  RETURN_IF_ERROR(Guard(MergeRows(items, source, incoming_syncs, &result.rows_applied)));
  if (!source.empty()) {
    ASSIGN_OR_RETURN(result.sync_point, GetSync(source, /*incoming=*/true));
  }
  return result;
}

// ---------------------------------------------------------------------------
// newid, reclaim, lock

absl::StatusOr<std::string> SqliteBroker::NewId(const std::string& remote_id) { return Guard(DoNewId(remote_id)); }

absl::StatusOr<std::string> SqliteBroker::DoNewId(const std::string& remote_id) {
  ASSIGN_OR_RETURN(Transaction txn, BeginWrite());
  ASSIGN_OR_RETURN(SqliteConnection * conn, Conn());
  std::string id =
      options_.device_name.empty() ? NewDbId(db_file()) : absl::StrCat(NewUuid4(), "-", options_.device_name);
  ASSIGN_OR_RETURN(SqliteStatement update, conn->Prepare(absl::StrCat("UPDATE ", stat_table(), " SET id=?")));
  update.BindText(1, id);
  RETURN_IF_ERROR(update.Run());
  ASSIGN_OR_RETURN(SqliteStatement last,
                   conn->Prepare(absl::StrCat("SELECT ROWID FROM ", rows_table(), " ORDER BY ROWID DESC LIMIT 1")));
  ASSIGN_OR_RETURN(bool row, last.Step());
  int64_t sync_point = row ? last.ColumnInt(0) : -1;
  last.Reset();
  ASSIGN_OR_RETURN(SqliteStatement insert,
                   conn->Prepare("INSERT OR REPLACE INTO incoming_sync (sync_point, remote_id) VALUES (?, ?)"));
  insert.BindInt(1, sync_point);
  insert.BindText(2, remote_id);
  RETURN_IF_ERROR(insert.Run());
  RETURN_IF_ERROR(OnNewIdLocked());
  RETURN_IF_ERROR(txn.Commit());
  return id;
}

absl::Status SqliteBroker::Reclaim(double age_timestamp, double sync_timestamp) {
  return Guard(DoReclaim(age_timestamp, sync_timestamp));
}

absl::Status SqliteBroker::DoReclaim(double age_timestamp, double sync_timestamp) {
  ASSIGN_OR_RETURN(Timestamp age, Timestamp::FromSeconds(age_timestamp));
  RETURN_IF_ERROR(FlushPending());
  ASSIGN_OR_RETURN(SqliteConnection * conn, Conn());
  const char* reclaim_column = type() == DbType::kAccount ? "delete_timestamp" : "created_at";
  // Swift (HEAD) writes the age as the string literal '<repr(float)>'; the
  // TEXT column then compares as text, which fixed-width timestamps allow.
  const std::string age_text = PythonFloatRepr(age_timestamp);
  const std::string clean = absl::StrCat("DELETE FROM ", rows_table(), " WHERE deleted = 1 AND name >= ? AND ",
                                         reclaim_column, " < ?");
  std::string marker;
  while (true) {
    ASSIGN_OR_RETURN(Transaction txn, BeginWrite());
    ASSIGN_OR_RETURN(SqliteStatement page,
                     conn->Prepare(absl::StrCat("SELECT name FROM ", rows_table(),
                                                " WHERE deleted = 1 AND name >= ? ORDER BY NAME LIMIT 1 OFFSET ?")));
    page.BindText(1, marker);
    page.BindInt(2, options_.reclaim_page_size);
    ASSIGN_OR_RETURN(bool more, page.Step());
    std::string end_marker = more ? page.ColumnText(0) : "";
    page.Reset();
    ASSIGN_OR_RETURN(SqliteStatement del, conn->Prepare(end_marker.empty() ? clean : clean + " AND name < ?"));
    del.BindText(1, marker);
    del.BindText(2, age_text);
    if (!end_marker.empty()) del.BindText(3, end_marker);
    RETURN_IF_ERROR(del.Run());
    RETURN_IF_ERROR(txn.Commit());
    if (end_marker.empty()) break;
    marker = end_marker;
  }
  ASSIGN_OR_RETURN(Transaction txn, BeginWrite());
  for (bool incoming : {false, true}) {
    ASSIGN_OR_RETURN(SqliteStatement st,
                     conn->Prepare(absl::StrCat("DELETE FROM ", SyncTable(incoming), " WHERE updated_at < ?")));
    st.BindDouble(1, sync_timestamp);  // As Swift binds the float.
    RETURN_IF_ERROR(st.Run());
  }
  ASSIGN_OR_RETURN(std::string stored, ReadMetadataColumn());
  ASSIGN_OR_RETURN(absl::optional<std::string> kept, ReclaimMetadata(stored, age));
  if (kept.has_value()) {
    ASSIGN_OR_RETURN(SqliteStatement st, conn->Prepare(absl::StrCat("UPDATE ", stat_table(), " SET metadata = ?")));
    st.BindText(1, *kept);
    RETURN_IF_ERROR(st.Run());
  }
  RETURN_IF_ERROR(ReclaimOtherLocked(sync_timestamp));
  return txn.Commit();
}

absl::Status SqliteBroker::Lock() {
  if (lock_.has_value()) return absl::FailedPreconditionError(absl::StrCat(db_file(), " is already locked"));
  absl::StatusOr<SqliteConnection*> conn = Conn();
  if (!conn.ok()) return conn.status();
  absl::StatusOr<Transaction> txn = Transaction::Begin(*conn);
  if (!txn.ok()) return Guard(txn.status());
  lock_.emplace(*std::move(txn));
  return absl::OkStatus();
}

absl::Status SqliteBroker::Unlock() {
  if (!lock_.has_value()) return absl::FailedPreconditionError(absl::StrCat(db_file(), " is not locked"));
  lock_.reset();  // ROLLBACK.
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------

ObjectRecord ReadObjectColumns(const SqliteStatement& st, int first) {
  ObjectRecord r;
  r.name = st.ColumnText(first);
  r.created_at = st.ColumnText(first + 1);
  r.size = st.ColumnInt(first + 2);
  r.content_type = st.ColumnText(first + 3);
  r.etag = st.ColumnText(first + 4);
  r.deleted = st.ColumnInt(first + 5) != 0;
  r.storage_policy_index = st.ColumnInt(first + 6);
  return r;
}

absl::StatusOr<ItemBatch> ReadItemsSince(SqliteConnection* conn, DbType type, bool has_policy_index,
                                         int64_t point, int count) {
  const char* spi = has_policy_index ? "storage_policy_index" : "0";
  std::string sql =
      type == DbType::kContainer
          ? absl::StrCat("SELECT ROWID, name, created_at, size, content_type, etag, deleted, ", spi,
                         " FROM object WHERE ROWID > ? ORDER BY ROWID ASC LIMIT ?")
          : absl::StrCat("SELECT ROWID, name, put_timestamp, delete_timestamp, object_count, bytes_used, deleted, ",
                         spi, " FROM container WHERE ROWID > ? ORDER BY ROWID ASC LIMIT ?");
  ASSIGN_OR_RETURN(SqliteStatement st, conn->Prepare(sql));
  st.BindInt(1, point);
  st.BindInt(2, count);
  ItemBatch batch;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    if (type == DbType::kContainer) {
      ObjectRecord r = ReadObjectColumns(st, 1);
      r.rowid = st.ColumnInt(0);
      batch.objects.push_back(std::move(r));
    } else {
      ContainerRecord r;
      r.rowid = st.ColumnInt(0);
      r.name = st.ColumnText(1);
      r.put_timestamp = st.ColumnText(2);
      r.delete_timestamp = st.ColumnText(3);
      r.object_count = st.ColumnInt(4);
      r.bytes_used = st.ColumnInt(5);
      r.deleted = st.ColumnInt(6) != 0;
      r.storage_policy_index = st.ColumnInt(7);
      batch.containers.push_back(std::move(r));
    }
  }
  return batch;
}

}  // namespace dbrepl
