#include "peer/replicator_rpc.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/db/db_files.h"
#include "common/db/lock_file.h"
#include "common/db/policy_index.h"
#include "common/timestamp.h"
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
// The page cache of each broker the peer opens, in KiB (SQLite: 2000).
constexpr int kPeerCacheKib = 1024;

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

// Swift's container sharding in play for `db` (see ShardingInPlay): `info`
// says so if given (its db_state comes from the hash dir's files), else an
// epoch file in the hash dir does. dbrepl changes nothing of such a database
// and installs nothing beside it.
absl::Status RefuseSharding(const LocatedDb& db, const ReplicationInfo* info) {
  if (db.type != DbType::kContainer) return absl::OkStatus();
  if (info != nullptr) {
    if (!ShardingInPlay(*info)) return absl::OkStatus();
    return DbShardedError(absl::StrCat("container ", db.LogName(), " is ", info->db_state,
                                       info->shard_max_row >= 0 ? " with shard ranges" : "",
                                       "; dbrepl does not replicate sharded containers"));
  }
  if (HasEpochDbFile(Dirname(db.db_file), db.hash)) {
    return DbShardedError(absl::StrCat("container ", db.LogName(),
                                       " has a sharding epoch file; dbrepl does not replicate sharded containers"));
  }
  return absl::OkStatus();
}

}  // namespace

BrokerOptions ReplicatorRpc::OptionsFor(absl::Time deadline) const {
  BrokerOptions o;
  o.busy_timeout = std::max(absl::ZeroDuration(), std::min(options_.busy_timeout, deadline - absl::Now()));
  o.lock_timeout = std::max(absl::ZeroDuration(), std::min(options_.lock_timeout, deadline - absl::Now()));
  // A call touches a few pages, a merge batch a few hundred: SQLite's
  // default 2000 KiB per connection only adds up over concurrent calls.
  o.cache_kib = kPeerCacheKib;
  return o;
}

StateRefresher::TagFn ReplicatorRpc::TagFor(DbType type) const {
  if (!options_.hash_config.has_value()) return nullptr;
  const HashPathConfig* cfg = &*options_.hash_config;
  return [cfg, type](const ReplicationInfo& info) {
    return PartitionKey(*cfg, info.account, type == DbType::kContainer ? info.container : "");
  };
}

absl::StatusOr<StateCache::Result> ReplicatorRpc::ReadState(const LocatedDb& db, absl::Time deadline) {
  // A cold read opens SQLite (which may roll back a hot journal) and may
  // flush the .pending: never through a planted link. A cached state was
  // read through a checked path, and answering it takes two stats.
  ASSIGN_OR_RETURN(StateCache::Result cached, cache_.Lookup(db.db_file));
  if (cached.from_cache) return cached;
  RETURN_IF_ERROR(CheckPlainPath(options_.env, db));
  return cache_.Read(db.type, db.db_file, OptionsFor(deadline), nullptr, TagFor(db.type));
}

void ReplicatorRpc::AfterMerge(const LocatedDb& db, std::unique_ptr<DatabaseBroker> broker) {
  refresher_.Offer(db.db_file, std::move(broker), TagFor(db.type));  // Else closed here: a cold read later.
}

absl::StatusOr<std::vector<LocalState>> ReplicatorRpc::ReadStates(
    const LocatedDb& device, const std::vector<std::pair<int64_t, std::string>>& dbs, absl::Time deadline) {
  if (!options_.hash_config.has_value()) {
    return absl::FailedPreconditionError("this peer has no [swift-hash] config to compute partition keys with");
  }
  std::vector<LocalState> states(dbs.size());
  for (size_t i = 0; i < dbs.size(); ++i) {
    LocatedDb db = device;
    db.partition = dbs[i].first;
    db.hash = dbs[i].second;
    db.db_file = JoinPath(JoinPath(device.device_path, StorageDirectory(device.type, db.partition, db.hash)),
                          db.hash + ".db");
    LocalState& out = states[i];
    absl::StatusOr<StateCache::Result> read = ReadState(db, deadline);
    if (!read.ok()) {
      out.status = read.status();
    } else if (read->state.sharding) {
      out.status = absl::UnavailableError(absl::StrCat(db.LogName(), " is sharding: read it yourself"));
    } else if (!read->cacheable) {
      out.status = absl::UnavailableError(absl::StrCat(db.LogName(), " changed while it was read"));
    } else {
      out.state = std::move(read->state);
      out.identity = read->identity;
    }
  }
  return states;
}

absl::Status ReplicatorRpc::PrepareTmpDir(const LocatedDb& db) {
  // Someone may be about to rsync into tmp/ after our NOT_FOUND.
  absl::StatusOr<FileInfo> tmp = options_.env->Lstat(db.tmp_dir);
  if (tmp.ok()) {
    if (tmp->is_directory()) return absl::OkStatus();
    return DeviceUnavailableError(absl::StrCat(db.tmp_dir, " is not a plain directory; refusing to use ", db.device));
  }
  if (!absl::IsNotFound(tmp.status())) return tmp.status();
  absl::Status made = MakeDirsDurablyBelow(options_.env, db.device_path, db.tmp_dir);
  if (absl::IsNotFound(made)) return DeviceUnavailableError(absl::StrCat(db.device_path, " vanished"));
  return made;
}

absl::StatusOr<std::unique_ptr<DatabaseBroker>> ReplicatorRpc::OpenExisting(const LocatedDb& db,
                                                                             absl::Time deadline) {
  RETURN_IF_ERROR(CheckPlainPath(options_.env, db));
  auto broker = DatabaseBroker::Open(db.type, db.db_file, OptionsFor(deadline));
  if (!broker.ok()) {
    if (broker.status().code() == absl::StatusCode::kNotFound) {
      // Sharded: the epoch file alone. Not missing: never ship one beside it.
      RETURN_IF_ERROR(RefuseSharding(db, nullptr));
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
  RETURN_IF_ERROR(RefuseSharding(db, &*info));  // Before anything changes.
  if (remote.policy.has_value() && IncorrectPolicyIndex(PolicyFacts::Of(*info), *remote.policy)) {
    // Swift's _get_synced_replication_info: the sender's claim is the better.
    const std::string now = Timestamp::Now().Internal();
    RETURN_IF_ERROR(AsMissingIfCorrupt(broker->SetStoragePolicyIndex(remote.policy->storage_policy_index, now), db));
    LOG(INFO) << db.LogName() << ": storage policy index " << info->storage_policy_index << " -> "
              << remote.policy->storage_policy_index << " (the better claim of " << remote.id << ")";
    info = broker->GetReplicationInfo();
    if (!info.ok()) return AsMissingIfCorrupt(info.status(), db);
  }
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
  result.point = std::max(result.point, points_.Get(db.db_file, info->id, remote.id));
  if (remote.hash == info->hash && result.point < remote.max_row) {
    // Same rows on both sides (e.g. both took the same PUTs from the proxy):
    // record that we hold everything the sender has. Sound because both
    // hashes and max_rows were read in one snapshot each.
    VLOG(1) << db.LogName() << ": Sync hash match with " << remote.id << " at its row " << remote.max_row;
    RETURN_IF_ERROR(broker->MergeSyncs({SyncRecord{remote.id, remote.max_row, 0}}, /*incoming=*/true));
    result.point = remote.max_row;
  }
  return result;
}

absl::StatusOr<std::vector<PartitionAnswer>> ReplicatorRpc::SyncPartition(const LocatedDb& partition,
                                                                           const std::vector<PartitionEntry>& entries,
                                                                           absl::Time deadline) {
  RETURN_IF_ERROR(PrepareTmpDir(partition));
  std::vector<PartitionAnswer> answers(entries.size());
  const std::string hash_dir_base = Dirname(Dirname(Dirname(partition.db_file)));  // .../<datadir>/<part>
  for (size_t i = 0; i < entries.size(); ++i) {
    const PartitionEntry& e = entries[i];
    PartitionAnswer& a = answers[i];
    LocatedDb db = partition;
    db.hash = e.hash;
    db.db_file = JoinPath(JoinPath(JoinPath(hash_dir_base, e.hash.substr(e.hash.size() - 3)), e.hash), e.hash + ".db");
    absl::StatusOr<StateCache::Result> read = ReadState(db, deadline);
    if (!read.ok()) {
      if (absl::IsNotFound(read.status())) {
        // An epoch file alone is a sharded container, not a missing one:
        // Sync says DB_SHARDED.
        if (!RefuseSharding(db, nullptr).ok()) continue;
        a.presence = PartitionAnswer::Presence::kMissing;
      } else {
        // Corrupt (quarantined by the broker), locked, ...: Sync says what.
        VLOG(1) << db.LogName() << ": SyncPartition leaves it to Sync: " << read.status();
      }
      continue;
    }
    const CachedState& s = read->state;
    if (s.sharding) continue;  // Sync says DB_SHARDED, and changes nothing.
    a.presence = PartitionAnswer::Presence::kPresent;
    a.id = s.id;
    a.max_row = s.max_row;
    a.point = std::max(s.Point(e.id, /*incoming=*/true), points_.Get(db.db_file, s.id, e.id));
    a.rows_hash_equal = s.hash == e.rows_hash;
    a.state_equal = s.state_digest == e.state_digest;
    if (a.rows_hash_equal && a.point < e.max_row) {
      // Same rows (read in one snapshot each): we hold everything the sender
      // has. Sync records that at once; here it is held and written behind.
      if (points_.Raise(db.db_file, db.type, s.id, e.id, e.max_row)) {
        VLOG(1) << db.LogName() << ": hash match with " << e.id << " at its row " << e.max_row
                << " (our max_row " << s.max_row << "): point held";
        a.point = e.max_row;
        continue;
      }
      absl::Status raised = [&]() -> absl::Status {
        RETURN_IF_ERROR(CheckPlainPath(options_.env, db));
        std::unique_ptr<DatabaseBroker> broker = std::move(read->broker);
        if (broker == nullptr) {
          ASSIGN_OR_RETURN(broker, OpenExisting(db, deadline));
        }
        return broker->MergeSyncs({SyncRecord{e.id, e.max_row, 0}}, /*incoming=*/true);
      }();
      if (raised.ok()) {
        a.point = e.max_row;
      } else {
        VLOG(1) << db.LogName() << ": could not record the sync point on a hash match: " << raised;
      }
    }
  }
  return answers;
}

absl::Status ReplicatorRpc::InspectReplicas(const LocatedDb& device, const std::vector<int64_t>& partitions,
                                            const std::vector<std::string>& hashes,
                                            const std::function<bool(const InspectedReplica&)>& emit) {
  Env* env = options_.env;
  const std::string datadir = JoinPath(device.device_path, std::string(Datadir(device.type)));
  auto plain_dir = [&](const std::string& path) {
    absl::StatusOr<FileInfo> st = env->Lstat(path);
    return st.ok() && st->is_directory();
  };
  std::vector<std::pair<int64_t, std::string>> parts;
  if (partitions.empty()) {
    absl::StatusOr<std::vector<std::string>> names = ListDirectory(datadir);
    if (!names.ok()) return absl::IsNotFound(names.status()) ? absl::OkStatus() : names.status();
    for (const std::string& n : *names) {
      absl::StatusOr<int64_t> p = ParsePartition(n);
      if (p.ok()) parts.emplace_back(*p, n);
    }
  } else {
    for (int64_t p : partitions) parts.emplace_back(p, absl::StrCat(p));
  }
  std::sort(parts.begin(), parts.end());
  BrokerOptions read_only;
  read_only.quarantine_on_corruption = false;
  read_only.flush_pending = false;
  read_only.busy_timeout = absl::Seconds(2);
  for (const auto& [partition, name] : parts) {
    const std::string part_dir = JoinPath(datadir, name);
    if (!plain_dir(part_dir)) continue;
    std::vector<std::string> db_dirs;  // <suffix>/<hash>
    if (!hashes.empty()) {
      for (const std::string& h : hashes) db_dirs.push_back(absl::StrCat(h.substr(h.size() - 3), "/", h));
    } else {
      absl::StatusOr<std::vector<std::string>> suffixes = ListDirectory(part_dir);
      if (!suffixes.ok()) continue;
      for (const std::string& suffix : *suffixes) {
        if (!plain_dir(JoinPath(part_dir, suffix))) continue;
        absl::StatusOr<std::vector<std::string>> names = ListDirectory(JoinPath(part_dir, suffix));
        if (!names.ok()) continue;
        for (const std::string& h : *names) {
          if (ValidateHash(h).ok()) db_dirs.push_back(absl::StrCat(suffix, "/", h));
        }
      }
    }
    std::sort(db_dirs.begin(), db_dirs.end());
    for (const std::string& rel : db_dirs) {
      const std::string hash_dir = JoinPath(part_dir, rel);
      const std::string hash = Basename(rel);
      if (!plain_dir(hash_dir)) continue;
      InspectedReplica r;
      r.partition = partition;
      r.hash = hash;
      const std::string db_file = JoinPath(hash_dir, hash + ".db");
      if (device.type == DbType::kContainer && HasEpochDbFile(hash_dir, hash)) {
        r.state = InspectedReplica::State::kSharded;
        if (!emit(r)) return absl::OkStatus();
        continue;
      }
      absl::StatusOr<FileInfo> st = env->Lstat(db_file);
      if (!st.ok() || !st->is_regular()) continue;  // No database here (a leftover .lock, say).
      if (absl::StatusOr<FileInfo> pending = env->Lstat(db_file + ".pending"); pending.ok()) {
        r.pending_bytes = pending->size;
      }
      absl::Status read = [&]() -> absl::Status {
        ASSIGN_OR_RETURN(std::unique_ptr<DatabaseBroker> broker, DatabaseBroker::Open(device.type, db_file, read_only));
        ASSIGN_OR_RETURN(r.info, broker->GetReplicationInfo());
        ASSIGN_OR_RETURN(r.incoming, broker->GetSyncs(/*incoming=*/true));
        ASSIGN_OR_RETURN(r.outgoing, broker->GetSyncs(/*incoming=*/false));
        return absl::OkStatus();
      }();
      if (!read.ok()) {
        r.state = InspectedReplica::State::kUnreadable;
        r.detail = read.ToString();
      } else {
        if (ShardingInPlay(r.info)) r.state = InspectedReplica::State::kSharded;
        for (const auto& [remote, point] : points_.GetAll(db_file, r.info.id)) {
          auto it = std::find_if(r.incoming.begin(), r.incoming.end(),
                                 [&](const SyncRecord& s) { return s.remote_id == remote; });
          if (it == r.incoming.end()) {
            r.incoming.push_back(SyncRecord{remote, point, 0});
          } else {
            it->sync_point = std::max(it->sync_point, point);
          }
        }
      }
      if (!emit(r)) return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

int ReplicatorRpc::FlushPendingPoints(absl::Duration min_age, int max_databases) {
  return points_.Flush(min_age, max_databases, [this](const std::string& db_file, DbType type) {
    return DatabaseBroker::Open(type, db_file, OptionsFor(absl::Now() + absl::Seconds(10)));
  });
}

absl::StatusOr<std::unique_ptr<DatabaseBroker>> ReplicatorRpc::OpenForMerge(const LocatedDb& db,
                                                                            absl::Time deadline) {
  RETURN_IF_ERROR(PrepareTmpDir(db));
  if (db.type == DbType::kContainer) {
    // Sharding refused from the state cache: the handshake has just read
    // this database, so this is two stats, not a second read of its info.
    // (A cold read checks the path for links; OpenExisting does too.)
    absl::StatusOr<StateCache::Result> read = ReadState(db, deadline);
    if (read.ok()) {
      if (read->state.sharding) {
        return DbShardedError(absl::StrCat("container ", db.LogName(),
                                           " is sharding or has shard ranges; dbrepl does not replicate sharded "
                                           "containers"));
      }
      if (read->broker != nullptr) return std::move(read->broker);
    } else if (read.status().code() == absl::StatusCode::kDataLoss) {
      return AsMissingIfCorrupt(read.status(), db);  // Quarantined by that read.
    }
    // Not readable through the cache: OpenExisting says why (or succeeds).
  }
  return OpenExisting(db, deadline);
}

absl::Status ReplicatorRpc::MergeSyncs(const LocatedDb& db, const std::vector<SyncRecord>& syncs,
                                       absl::Time deadline) {
  for (const SyncRecord& s : syncs) {
    if (s.remote_id.empty()) return InvalidRequestError("sync point with an empty remote_id");
  }
  RETURN_IF_ERROR(PrepareTmpDir(db));
  ASSIGN_OR_RETURN(std::unique_ptr<DatabaseBroker> broker, OpenExisting(db, deadline));
  if (db.type == DbType::kContainer) {
    absl::StatusOr<ReplicationInfo> info = broker->GetReplicationInfo();
    if (!info.ok()) return AsMissingIfCorrupt(info.status(), db);
    RETURN_IF_ERROR(RefuseSharding(db, &*info));
  }
  if (VLOG_IS_ON(1)) {
    std::string table;
    for (const SyncRecord& r : syncs) absl::StrAppend(&table, " ", r.remote_id, "=", r.sync_point);
    VLOG(1) << db.LogName() << ": MergeSyncs:" << table;
  }
  return AsMissingIfCorrupt(broker->MergeSyncs(syncs, /*incoming=*/true), db);
}

absl::StatusOr<std::string> ReplicatorRpc::CompleteRsync(const LocatedDb& db, const std::string& tmp_name,
                                                         const std::string& db_basename, absl::Time deadline,
                                                         DeferredDirSyncs* deferred) {
  std::string target = db.db_file;
  if (!db_basename.empty()) {
    RETURN_IF_ERROR(ValidateDbBasename(db_basename, db.hash));
    target = JoinPath(Dirname(db.db_file), db_basename);
  }
  RETURN_IF_ERROR(CheckPlainPath(options_.env, db));
  ASSIGN_OR_RETURN(Upload upload, Upload::Claim(options_.env, db, tmp_name));
  if (target != db.db_file) {
    return DbShardedError(absl::StrCat("an epoch file ", db_basename, " for ", db.LogName(),
                                       ": dbrepl does not replicate sharded containers"));
  }
  RETURN_IF_ERROR(RefuseSharding(db, nullptr));
  // Another sender installed it first: this upload is of no use (dropped
  // with `upload`); the next pass compares the two as usual.
  if (Exists(options_.env, target)) {
    return RsyncPreconditionError(absl::StrCat("database ", db.LogName(), " already exists"));
  }
  std::string new_id;
  {
    ASSIGN_OR_RETURN(std::unique_ptr<DatabaseBroker> fresh, upload.OpenVerified(OptionsFor(deadline).busy_timeout));
    if (db.type == DbType::kContainer) {
      ASSIGN_OR_RETURN(ReplicationInfo uploaded, fresh->GetReplicationInfo());
      if (uploaded.shard_max_row >= 0) {
        return DbShardedError(absl::StrCat("the upload ", tmp_name, " for ", db.LogName(),
                                           " has shard ranges; dbrepl does not replicate sharded containers"));
      }
    }
    // The sender is recorded as synced up to the upload's own highest ROWID:
    // exactly the rows that arrived.
    ASSIGN_OR_RETURN(new_id, fresh->NewId(tmp_name));
  }  // Closed before the rename: no journal may follow the file.
  Step("before_rename");
  const std::string hash_dir = Dirname(target);
  {
    // The walker removes empty directories as it goes: make them again if
    // it took them before the lock was ours.
    absl::StatusOr<DirectoryLock> locked = absl::UnavailableError("not tried");
    for (int attempt = 0; attempt < 3; ++attempt) {
      absl::Status made = MakeDirsBelow(options_.env, db.device_path, hash_dir, deferred);
      if (absl::IsNotFound(made) && !Exists(options_.env, db.device_path)) {
        return DeviceUnavailableError(absl::StrCat(db.device_path, " vanished"));
      }
      RETURN_IF_ERROR(made);
      locked = LockExistingDirectory(hash_dir, OptionsFor(deadline).lock_timeout);
      if (!absl::IsNotFound(locked.status())) break;
    }
    RETURN_IF_ERROR(locked.status());
    DirectoryLock lock = *std::move(locked);
    // A concurrent install may have won the race meanwhile, or the sharder
    // begun (it creates epoch files under this lock too).
    if (Exists(options_.env, target)) {
      return RsyncPreconditionError(absl::StrCat("database ", db.LogName(), " already exists"));
    }
    RETURN_IF_ERROR(RefuseSharding(db, nullptr));
    // A journal left by a database that was here before would be taken for
    // the new file's hot journal and rolled back into it.
    for (const char* suffix : {"-journal", "-wal", "-shm"}) {
      absl::Status gone = options_.env->RemoveFile(absl::StrCat(target, suffix));
      if (!gone.ok() && !absl::IsNotFound(gone)) return gone;
    }
    RETURN_IF_ERROR(upload.Install(target, deferred));
  }
  Step("after_rename");
  LOG(INFO) << db.LogName() << ": installed rsynced database from " << tmp_name << " as id " << new_id;
  return new_id;
}


absl::StatusOr<RsyncThenMergeResult> ReplicatorRpc::RsyncThenMerge(const LocatedDb& db, const std::string& tmp_name,
                                                                   absl::Time deadline) {
  RETURN_IF_ERROR(CheckPlainPath(options_.env, db));
  RETURN_IF_ERROR(RefuseSharding(db, nullptr));
  if (!Exists(options_.env, db.db_file)) {
    return RsyncPreconditionError(absl::StrCat("rsync_then_merge needs both tmp/", tmp_name, " and ", db.LogName()));
  }
  ASSIGN_OR_RETURN(Upload upload, Upload::Claim(options_.env, db, tmp_name));
  ASSIGN_OR_RETURN(std::unique_ptr<DatabaseBroker> fresh, upload.OpenVerified(OptionsFor(deadline).busy_timeout));
  ASSIGN_OR_RETURN(std::unique_ptr<DatabaseBroker> existing, OpenExisting(db, deadline));
  if (db.type == DbType::kContainer) {
    // Swift's _abort_rsync_then_merge: not into a database that has begun
    // sharding; and dbrepl not from an upload with shard ranges either.
    ASSIGN_OR_RETURN(ReplicationInfo here, existing->GetReplicationInfo());
    RETURN_IF_ERROR(RefuseSharding(db, &here));
    ASSIGN_OR_RETURN(ReplicationInfo uploaded, fresh->GetReplicationInfo());
    if (uploaded.shard_max_row >= 0) {
      return DbShardedError(absl::StrCat("the upload ", tmp_name, " for ", db.LogName(),
                                         " has shard ranges; dbrepl does not replicate sharded containers"));
    }
  }
  RsyncThenMergeResult result;
  // The upload's rows go into the existing database, batch by batch, each
  // batch raising the sender's sync point to its last ROWID: the sender's
  // own ROWIDs, so the point covers exactly what arrived. Swift instead folds
  // the local rows into the upload and renames it over the database; a
  // rename leaves every open connection on the old file, and one of them
  // reading afterwards takes the new file's live journal for a hot one and
  // deletes it.
  // The sender's rows up to our incoming point for it are here already (what
  // a sync point means), so folding starts after it, as a usync would: only
  // when the upload is the sender's database under its own id.
  ASSIGN_OR_RETURN(ReplicationInfo sender, fresh->GetReplicationInfo());
  int64_t point = -1;
  if (sender.id == tmp_name) {
    absl::StatusOr<int64_t> held = existing->GetSync(tmp_name, /*incoming=*/true);
    if (!held.ok()) return AsMissingIfCorrupt(held.status(), db);
    point = std::min(*held, sender.max_row);
  }
  const int64_t first_point = point;
  while (true) {
    absl::StatusOr<ItemBatch> batch = fresh->GetItemsSince(point, kFoldBatch);
    if (!batch.ok()) return batch.status();
    if (batch->empty()) break;
    absl::StatusOr<MergeResult> merged = existing->MergeItems(*batch, tmp_name);
    if (!merged.ok()) return AsMissingIfCorrupt(merged.status(), db);
    result.rows_folded += static_cast<int64_t>(batch->size());
    point = batch->last_rowid();
    if (result.rows_folded == static_cast<int64_t>(batch->size())) Step("after_first_batch");
  }
  // What the sender knew of third parties holds here now, as its rows do;
  // and its metadata and timestamps merge as Sync's do.
  ASSIGN_OR_RETURN(std::vector<SyncRecord> syncs, fresh->GetSyncs(/*incoming=*/true));
  std::vector<SyncRecord> third_parties;
  for (SyncRecord& r : syncs) {
    if (r.remote_id != tmp_name) third_parties.push_back(std::move(r));
  }
  if (!third_parties.empty()) RETURN_IF_ERROR(AsMissingIfCorrupt(existing->MergeSyncs(third_parties, true), db));
  if (!sender.metadata.empty()) {
    absl::Status s = existing->UpdateMetadata(sender.metadata);
    if (!s.ok() && !absl::IsInvalidArgument(s)) return AsMissingIfCorrupt(s, db);
  }
  RETURN_IF_ERROR(AsMissingIfCorrupt(
      existing->MergeTimestamps(sender.created_at, sender.put_timestamp, sender.delete_timestamp), db));
  if (sender.max_row > point) {
    // Rows reclaimed at the sender leave ROWIDs it has no rows for: the
    // upload holds everything the sender had up to its max_row.
    RETURN_IF_ERROR(
        AsMissingIfCorrupt(existing->MergeSyncs({SyncRecord{tmp_name, sender.max_row, 0}}, /*incoming=*/true), db));
  }
  Step("before_finish");
  ASSIGN_OR_RETURN(ReplicationInfo after, existing->GetReplicationInfo());
  result.new_id = after.id;
  fresh.reset();
  RETURN_IF_ERROR(upload.Remove());
  Step("after_finish");
  LOG(INFO) << db.LogName() << ": merged " << result.rows_folded << " rows of rsynced copy " << tmp_name
            << " into the database (after row " << first_point << ", which it held)";
  return result;
}

}  // namespace dbrepl::peer
