#include "peer/replicator_rpc.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/fs_util.h"
#include "common/paths.h"
#include "common/status_macros.h"
#include "glog/logging.h"

namespace dbrepl::peer {
namespace {

constexpr int kFoldBatch = 1000;

// Corruption found while opening or reading: the broker has quarantined the
// database; the sender should treat it as missing and ship a fresh copy.
absl::Status AsMissingIfCorrupt(absl::Status s, const LocatedDb& db) {
  if (s.code() == absl::StatusCode::kDataLoss) {
    LOG(WARNING) << db.LogName() << ": quarantined corrupt database: " << s.message();
    return DbQuarantinedError(absl::StrCat("database ", db.LogName(), " was corrupt and has been quarantined"));
  }
  return s;
}

// "<hash>.db" or "<hash>_<epoch>.db" (Swift's sharding epoch names).
absl::Status ValidateDbBasename(const std::string& basename, const std::string& hash) {
  if (basename == hash + ".db") return absl::OkStatus();
  if (absl::StartsWith(basename, hash + "_") && absl::EndsWith(basename, ".db") &&
      ValidateFileName(basename).ok()) {
    return absl::OkStatus();
  }
  return InvalidRequestError(absl::StrCat("db_basename '", basename, "' must be ", hash, ".db or ", hash,
                                          "_<epoch>.db"));
}

}  // namespace

BrokerOptions ReplicatorRpc::OptionsFor(absl::Time deadline) const {
  BrokerOptions o;
  o.busy_timeout = std::max(absl::ZeroDuration(), std::min(busy_timeout_, deadline - absl::Now()));
  return o;
}

absl::StatusOr<std::unique_ptr<DatabaseBroker>> ReplicatorRpc::OpenExisting(const LocatedDb& db,
                                                                             const std::string& file,
                                                                             absl::Time deadline) {
  auto broker = DatabaseBroker::Open(db.type, file, OptionsFor(deadline));
  if (!broker.ok()) {
    if (broker.status().code() == absl::StatusCode::kNotFound) {
      return DbNotFoundError(absl::StrCat("no database ", db.LogName()));
    }
    return AsMissingIfCorrupt(broker.status(), db);
  }
  return broker;
}

absl::StatusOr<SyncResult> ReplicatorRpc::Sync(const LocatedDb& db, const RemoteInfo& remote, absl::Time deadline) {
  // Someone may be about to rsync into tmp/ after our NOT_FOUND.
  RETURN_IF_ERROR(MakeDirs(db.tmp_dir));
  if (!PathExists(db.db_file)) return DbNotFoundError(absl::StrCat("no database ", db.LogName()));
  ASSIGN_OR_RETURN(std::unique_ptr<DatabaseBroker> broker, OpenExisting(db, db.db_file, deadline));

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
    // record that we hold everything the sender has.
    RETURN_IF_ERROR(broker->MergeSyncs({SyncRecord{remote.id, remote.max_row, 0}}, /*incoming=*/true));
    result.point = remote.max_row;
  }
  return result;
}

absl::StatusOr<std::unique_ptr<DatabaseBroker>> ReplicatorRpc::OpenForMerge(const LocatedDb& db,
                                                                            absl::Time deadline) {
  RETURN_IF_ERROR(MakeDirs(db.tmp_dir));
  if (!PathExists(db.db_file)) return DbNotFoundError(absl::StrCat("no database ", db.LogName()));
  return OpenExisting(db, db.db_file, deadline);
}

absl::Status ReplicatorRpc::MergeSyncs(const LocatedDb& db, const std::vector<SyncRecord>& syncs,
                                       absl::Time deadline) {
  for (const SyncRecord& s : syncs) {
    if (s.remote_id.empty()) return InvalidRequestError("sync point with an empty remote_id");
  }
  RETURN_IF_ERROR(MakeDirs(db.tmp_dir));
  if (!PathExists(db.db_file)) return DbNotFoundError(absl::StrCat("no database ", db.LogName()));
  ASSIGN_OR_RETURN(std::unique_ptr<DatabaseBroker> broker, OpenExisting(db, db.db_file, deadline));
  return AsMissingIfCorrupt(broker->MergeSyncs(syncs, /*incoming=*/true), db);
}

absl::StatusOr<std::string> ReplicatorRpc::CompleteRsync(const LocatedDb& db, const std::string& tmp_name,
                                                         const std::string& db_basename, absl::Time deadline) {
  if (absl::Status s = ValidateFileName(tmp_name); !s.ok()) return InvalidRequestError(s.message());
  std::string target = db.db_file;
  if (!db_basename.empty()) {
    RETURN_IF_ERROR(ValidateDbBasename(db_basename, db.hash));
    target = JoinPath(Dirname(db.db_file), db_basename);
  }
  std::string tmp = JoinPath(db.tmp_dir, tmp_name);
  if (PathExists(target)) {
    return RsyncPreconditionError(absl::StrCat("database ", db.LogName(), " already exists"));
  }
  if (!PathExists(tmp)) return RsyncPreconditionError(absl::StrCat("no rsynced file tmp/", tmp_name));
  std::string new_id;
  {
    absl::StatusOr<std::unique_ptr<DatabaseBroker>> broker = DatabaseBroker::Open(db.type, tmp, OptionsFor(deadline));
    if (!broker.ok()) {
      // A corrupt upload is the sender's problem; it is not installed.
      return absl::Status(broker.status().code() == absl::StatusCode::kDataLoss ? absl::StatusCode::kDataLoss
                                                                                 : broker.status().code(),
                          absl::StrCat("rsynced file tmp/", tmp_name, ": ", broker.status().message()));
    }
    ASSIGN_OR_RETURN(new_id, (*broker)->NewId(tmp_name));
  }  // Close the connection before the rename: no journal may follow the file.
  Step("before_rename");
  // A concurrent CompleteRsync may have won the race meanwhile.
  if (PathExists(target)) {
    return RsyncPreconditionError(absl::StrCat("database ", db.LogName(), " already exists"));
  }
  RETURN_IF_ERROR(RenameDurably(tmp, target));
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

absl::StatusOr<RsyncThenMergeResult> ReplicatorRpc::RsyncThenMerge(const LocatedDb& db, const std::string& tmp_name,
                                                                   absl::Time deadline) {
  if (absl::Status s = ValidateFileName(tmp_name); !s.ok()) return InvalidRequestError(s.message());
  std::string tmp = JoinPath(db.tmp_dir, tmp_name);
  if (!PathExists(tmp) || !PathExists(db.db_file)) {
    return RsyncPreconditionError(absl::StrCat("rsync_then_merge needs both tmp/", tmp_name, " and ", db.LogName()));
  }
  RsyncThenMergeResult result;
  {
    absl::StatusOr<std::unique_ptr<DatabaseBroker>> fresh = DatabaseBroker::Open(db.type, tmp, OptionsFor(deadline));
    if (!fresh.ok()) {
      return absl::Status(fresh.status().code(),
                          absl::StrCat("rsynced file tmp/", tmp_name, ": ", fresh.status().message()));
    }
    ASSIGN_OR_RETURN(std::unique_ptr<DatabaseBroker> existing, OpenExisting(db, db.db_file, deadline));
    DatabaseBroker& fresh_db = **fresh;

    // Fold the existing rows, incoming syncs and metadata into the fresh copy.
    ASSIGN_OR_RETURN(int64_t point, FoldRows(*existing, fresh_db, -1, &result.rows_folded));
    Step("after_fold");
    ASSIGN_OR_RETURN(std::vector<SyncRecord> syncs, existing->GetSyncs(/*incoming=*/true));
    RETURN_IF_ERROR(fresh_db.MergeSyncs(syncs, /*incoming=*/true));
    ASSIGN_OR_RETURN(result.new_id, fresh_db.NewId(tmp_name));

    // Lock the existing database against writers, catch up with rows written
    // while we folded, then swap. Swift skips the catch-up and can lose rows
    // written during the fold.
    RETURN_IF_ERROR(existing->Lock());
    absl::Status swap = [&]() -> absl::Status {
      ASSIGN_OR_RETURN(point, FoldRows(*existing, fresh_db, point, &result.rows_folded));
      ASSIGN_OR_RETURN(std::string metadata, existing->GetRawMetadata());
      if (!metadata.empty()) RETURN_IF_ERROR(fresh_db.UpdateMetadata(metadata));
      fresh->reset();  // Close the fresh copy: committed, no journal.
      if (!PathExists(tmp) || !PathExists(db.db_file)) {
        return RsyncPreconditionError(absl::StrCat("tmp/", tmp_name, " or ", db.LogName(), " vanished"));
      }
      Step("before_rename");
      return RenameDurably(tmp, db.db_file);
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
