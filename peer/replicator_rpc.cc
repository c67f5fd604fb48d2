#include "peer/replicator_rpc.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/db/lock_file.h"
#include "common/env/file_ops.h"
#include "common/errors.h"
#include "common/fs_util.h"
#include "common/paths.h"
#include "common/status_macros.h"
#include "glog/logging.h"
#include "peer/upload.h"

namespace dbrepl::peer {
namespace {

constexpr int kFoldBatch = 1000;

// Corruption found while opening or reading: the broker has quarantined the
// database; the sender should treat it as missing and ship a fresh copy.
absl::Status AsMissingIfCorrupt(absl::Status s, const LocatedDb& db) {
  if (s.code() == absl::StatusCode::kDataLoss && GetReason(s) != ErrorReason::kUploadCorrupt) {
    LOG(WARNING) << db.LogName() << ": quarantined corrupt database: " << s.message();
    return DbQuarantinedError(absl::StrCat("database ", db.LogName(), " was corrupt and has been quarantined"));
  }
  return s;
}

// Swift's sharding epoch: Timestamp.normal, "%016.05f" (10 digits, '.', 5).
bool IsEpoch(absl::string_view s) {
  if (s.size() != 16 || s[10] != '.') return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i != 10 && !absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

// "<hash>.db" or "<hash>_<epoch>.db" (Swift's make_db_file_path).
absl::Status ValidateDbBasename(const std::string& basename, const std::string& hash) {
  if (basename == hash + ".db") return absl::OkStatus();
  if (absl::StartsWith(basename, hash + "_") && absl::EndsWith(basename, ".db") &&
      IsEpoch(absl::string_view(basename).substr(hash.size() + 1, basename.size() - hash.size() - 4))) {
    return absl::OkStatus();
  }
  return InvalidRequestError(absl::StrCat("db_basename '", basename, "' must be ", hash, ".db or ", hash,
                                          "_<epoch>.db with a Swift timestamp as epoch"));
}

bool Exists(Env* env, const std::string& path) { return env->Lstat(path).ok(); }

}  // namespace

BrokerOptions ReplicatorRpc::OptionsFor(absl::Time deadline) const {
  BrokerOptions o;
  o.busy_timeout = std::max(absl::ZeroDuration(), std::min(options_.busy_timeout, deadline - absl::Now()));
  o.lock_timeout = std::max(absl::ZeroDuration(), std::min(options_.lock_timeout, deadline - absl::Now()));
  return o;
}

absl::Status ReplicatorRpc::PrepareTmpDir(const LocatedDb& db) {
  // Someone may be about to rsync into tmp/ after our NOT_FOUND.
  absl::StatusOr<FileInfo> tmp = options_.env->Lstat(db.tmp_dir);
  if (tmp.ok()) {
    if (tmp->is_directory()) return absl::OkStatus();
    return DeviceUnavailableError(absl::StrCat(db.tmp_dir, " is not a plain directory; refusing to use ", db.device));
  }
  if (!absl::IsNotFound(tmp.status())) return tmp.status();
  return MakeDirsDurably(options_.env, db.tmp_dir);
}

absl::StatusOr<std::unique_ptr<DatabaseBroker>> ReplicatorRpc::OpenExisting(const LocatedDb& db,
                                                                             absl::Time deadline) {
  RETURN_IF_ERROR(CheckPlainPath(options_.env, db));
  auto broker = DatabaseBroker::Open(db.type, db.db_file, OptionsFor(deadline));
  if (!broker.ok()) {
    if (broker.status().code() == absl::StatusCode::kNotFound) {
      return DbNotFoundError(absl::StrCat("no database ", db.LogName()));
    }
    return AsMissingIfCorrupt(broker.status(), db);
  }
  return broker;
}

absl::StatusOr<SyncResult> ReplicatorRpc::Sync(const LocatedDb& db, const RemoteInfo& remote, absl::Time deadline) {
  RETURN_IF_ERROR(PrepareTmpDir(db));
  ASSIGN_OR_RETURN(std::unique_ptr<DatabaseBroker> broker, OpenExisting(db, deadline));

  SyncResult result;
  absl::StatusOr<ReplicationInfo> info = broker->GetReplicationInfo();
  if (!info.ok()) return AsMissingIfCorrupt(info.status(), db);
  result.info = *info;

  if (!remote.metadata.empty()) {
    absl::Status s = broker->UpdateMetadata(remote.metadata);
    if (s.code() == absl::StatusCode::kInvalidArgument) {
      // Swift logs "Unable to decode remote metadata" and carries on.
      LOG(WARNING) << db.LogName() << ": unable to decode remote metadata from " << remote.id << ": "
                   << s.message();
    } else if (!s.ok()) {
      return AsMissingIfCorrupt(s, db);
    }
  }
  if (remote.created_at != info->created_at || remote.put_timestamp != info->put_timestamp ||
      remote.delete_timestamp != info->delete_timestamp) {
    RETURN_IF_ERROR(AsMissingIfCorrupt(
        broker->MergeTimestamps(remote.created_at, remote.put_timestamp, remote.delete_timestamp), db));
  }
  ASSIGN_OR_RETURN(result.point, broker->GetSync(remote.id, /*incoming=*/true));
  if (remote.hash == info->hash && result.point < remote.max_row) {
    // Same rows on both sides (e.g. both took the same PUTs from the proxy):
    // record that we hold everything the sender has. Sound because both
    // hashes and max_rows were read in one snapshot each.
    RETURN_IF_ERROR(broker->MergeSyncs({SyncRecord{remote.id, remote.max_row, 0}}, /*incoming=*/true));
    result.point = remote.max_row;
  }
  return result;
}

absl::StatusOr<std::unique_ptr<DatabaseBroker>> ReplicatorRpc::OpenForMerge(const LocatedDb& db,
                                                                            absl::Time deadline) {
  RETURN_IF_ERROR(PrepareTmpDir(db));
  return OpenExisting(db, deadline);
}

absl::Status ReplicatorRpc::MergeSyncs(const LocatedDb& db, const std::vector<SyncRecord>& syncs,
                                       absl::Time deadline) {
  for (const SyncRecord& s : syncs) {
    if (s.remote_id.empty()) return InvalidRequestError("sync point with an empty remote_id");
  }
  RETURN_IF_ERROR(PrepareTmpDir(db));
  ASSIGN_OR_RETURN(std::unique_ptr<DatabaseBroker> broker, OpenExisting(db, deadline));
  return AsMissingIfCorrupt(broker->MergeSyncs(syncs, /*incoming=*/true), db);
}

absl::StatusOr<std::string> ReplicatorRpc::CompleteRsync(const LocatedDb& db, const std::string& tmp_name,
                                                         const std::string& db_basename, absl::Time deadline) {
  std::string target = db.db_file;
  if (!db_basename.empty()) {
    RETURN_IF_ERROR(ValidateDbBasename(db_basename, db.hash));
    target = JoinPath(Dirname(db.db_file), db_basename);
  }
  RETURN_IF_ERROR(CheckPlainPath(options_.env, db));
  if (Exists(options_.env, target)) {
    return RsyncPreconditionError(absl::StrCat("database ", db.LogName(), " already exists"));
  }
  ASSIGN_OR_RETURN(Upload upload, Upload::Claim(options_.env, db, tmp_name));
  std::string new_id;
  {
    ASSIGN_OR_RETURN(std::unique_ptr<DatabaseBroker> fresh, upload.OpenVerified(OptionsFor(deadline).busy_timeout));
    // The sender is recorded as synced up to the upload's own highest ROWID:
    // exactly the rows that arrived.
    ASSIGN_OR_RETURN(new_id, fresh->NewId(tmp_name));
  }  // Closed before the rename: no journal may follow the file.
  Step("before_rename");
  const std::string hash_dir = Dirname(target);
  RETURN_IF_ERROR(MakeDirsDurably(options_.env, hash_dir));
  {
    ASSIGN_OR_RETURN(DirectoryLock lock, LockExistingDirectory(hash_dir, OptionsFor(deadline).lock_timeout));
    // A concurrent install may have won the race meanwhile.
    if (Exists(options_.env, target)) {
      return RsyncPreconditionError(absl::StrCat("database ", db.LogName(), " already exists"));
    }
    RETURN_IF_ERROR(upload.Install(target));
  }
  Step("after_rename");
  LOG(INFO) << db.LogName() << ": installed rsynced database from " << tmp_name << " as id " << new_id;
  return new_id;
}

absl::StatusOr<int64_t> FoldRows(DatabaseBroker& from, DatabaseBroker& to, int64_t point, int64_t* rows) {
  while (true) {
    ASSIGN_OR_RETURN(ItemBatch batch, from.GetItemsSince(point, kFoldBatch));
    if (batch.empty()) return point;
    ASSIGN_OR_RETURN(MergeResult merged, to.MergeItems(batch, /*source=*/""));
    (void)merged;
    *rows += static_cast<int64_t>(batch.size());
    point = batch.last_rowid();
  }
}

namespace {

// The existing database's incoming syncs, metadata and timestamps, into the
// fresh copy (its rows are folded separately).
absl::Status FoldState(DatabaseBroker& existing, DatabaseBroker& fresh) {
  ASSIGN_OR_RETURN(std::vector<SyncRecord> syncs, existing.GetSyncs(/*incoming=*/true));
  if (!syncs.empty()) RETURN_IF_ERROR(fresh.MergeSyncs(syncs, /*incoming=*/true));
  ASSIGN_OR_RETURN(std::string metadata, existing.GetRawMetadata());
  if (!metadata.empty()) RETURN_IF_ERROR(fresh.UpdateMetadata(metadata));
  ASSIGN_OR_RETURN(ReplicationInfo info, existing.GetReplicationInfo());
  return fresh.MergeTimestamps(info.created_at, info.put_timestamp, info.delete_timestamp);
}

}  // namespace

absl::StatusOr<RsyncThenMergeResult> ReplicatorRpc::RsyncThenMerge(const LocatedDb& db, const std::string& tmp_name,
                                                                   absl::Time deadline) {
  RETURN_IF_ERROR(CheckPlainPath(options_.env, db));
  if (!Exists(options_.env, db.db_file)) {
    return RsyncPreconditionError(absl::StrCat("rsync_then_merge needs both tmp/", tmp_name, " and ", db.LogName()));
  }
  ASSIGN_OR_RETURN(Upload upload, Upload::Claim(options_.env, db, tmp_name));
  RsyncThenMergeResult result;
  {
    ASSIGN_OR_RETURN(std::unique_ptr<DatabaseBroker> fresh, upload.OpenVerified(OptionsFor(deadline).busy_timeout));
    // New id first, so the sender's sync point is the upload's own highest
    // ROWID. Swift calls newid after the fold and records the folded rows'
    // ROWIDs too, which can claim sender rows that never arrived.
    ASSIGN_OR_RETURN(result.new_id, fresh->NewId(tmp_name));
    ASSIGN_OR_RETURN(std::unique_ptr<DatabaseBroker> existing, OpenExisting(db, deadline));

    // The long fold runs without locks; writers keep writing.
    absl::StatusOr<int64_t> point = FoldRows(*existing, *fresh, -1, &result.rows_folded);
    if (!point.ok()) return AsMissingIfCorrupt(point.status(), db);
    Step("after_fold");
    RETURN_IF_ERROR(AsMissingIfCorrupt(FoldState(*existing, *fresh), db));

    // The swap: with the hash directory locked (no install, delete or
    // .pending flush can run) and the existing file locked against direct
    // writers, catch up with what was written during the fold, then rename.
    ASSIGN_OR_RETURN(DirectoryLock dir_lock,
                     LockExistingDirectory(Dirname(db.db_file), OptionsFor(deadline).lock_timeout));
    if (existing->HasMoved()) {
      return DbReplacedError(absl::StrCat(db.LogName(), " was replaced during rsync_then_merge; nothing installed"));
    }
    RETURN_IF_ERROR(AsMissingIfCorrupt(existing->Lock(), db));
    absl::Status swap = [&]() -> absl::Status {
      ASSIGN_OR_RETURN(point, FoldRows(*existing, *fresh, *point, &result.rows_folded));
      RETURN_IF_ERROR(FoldState(*existing, *fresh));
      fresh.reset();  // Committed and closed: no journal follows the file.
      Step("before_rename");
      return upload.Install(db.db_file);
    }();
    absl::Status unlock = existing->Unlock();
    if (!swap.ok()) return AsMissingIfCorrupt(swap, db);
    if (!unlock.ok()) LOG(WARNING) << db.LogName() << ": unlock after swap: " << unlock;
  }
  Step("after_rename");
  LOG(INFO) << db.LogName() << ": merged " << result.rows_folded << " local rows into rsynced copy " << tmp_name
            << ", new id " << result.new_id;
  return result;
}

}  // namespace dbrepl::peer
