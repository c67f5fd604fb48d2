#include "agent/post_replicate.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"
#include "nlohmann/json.hpp"
#include "common/fs_util.h"
#include "common/paths.h"
#include "common/timestamp.h"
#include "glog/logging.h"

namespace dbrepl::agent {
namespace {

constexpr int64_t kReconcilerContainerDivisor = 3600;  // Swift's MISPLACED_OBJECTS_CONTAINER_DIVISOR

// <devices>/<device>/sync_containers/<rest> for <devices>/<device>/containers/<rest>
// (ContainerSyncStore._container_to_synced_container_path). "" if the file
// is not below a "containers" directory.
std::string SyncStorePath(const std::string& db_file) {
  const std::string marker = "/containers/";
  const size_t at = db_file.rfind(marker);
  if (at == std::string::npos) return "";
  return absl::StrCat(db_file.substr(0, at), "/sync_containers/", db_file.substr(at + marker.size()));
}

// The metadata's value for `key`: nullopt when the key is not there at all
// (Swift's `key in broker.metadata`), "" for an empty value.
absl::optional<std::string> MetadataValue(const std::string& metadata, const std::string& key) {
  if (metadata.empty()) return absl::nullopt;
  nlohmann::json j = nlohmann::json::parse(metadata, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains(key)) return absl::nullopt;
  const nlohmann::json& v = j[key];
  if (v.is_array() && !v.empty() && v[0].is_string()) return v[0].get<std::string>();
  return std::string();
}

// Swift's ContainerBroker._is_deleted: no objects, deleted after put.
bool IsDeletedInfo(const ReplicationInfo& info) {
  absl::StatusOr<Timestamp> put = Timestamp::Parse(info.put_timestamp);
  absl::StatusOr<Timestamp> del = Timestamp::Parse(info.delete_timestamp);
  return info.count == 0 && put.ok() && del.ok() && *del > *put;
}

// os.removedirs: removes `dir` and then each parent while empty.
void RemoveEmptyParents(std::string dir, const std::string& stop) {
  while (dir.size() > stop.size() && rmdir(dir.c_str()) == 0) dir = Dirname(dir);
}

}  // namespace

std::string ReconcilerContainerName(const std::string& created_at) {
  absl::StatusOr<ObjectTimestamps> t = DecodeTimestamps(created_at);
  if (!t.ok()) return "";
  const int64_t seconds = static_cast<int64_t>(t->meta.seconds());
  return absl::StrCat(seconds / kReconcilerContainerDivisor * kReconcilerContainerDivisor);
}

ObjectRecord ReconcilerQueueRow(const ObjectRecord& misplaced, const std::string& account,
                                const std::string& container) {
  ObjectRecord q;
  q.name = absl::StrCat(misplaced.storage_policy_index, ":/", account, "/", container, "/", misplaced.name);
  q.created_at = misplaced.created_at;
  q.etag = misplaced.created_at;
  q.content_type = misplaced.deleted ? "application/x-delete" : "application/x-put";
  q.size = 0;
  q.deleted = false;
  q.storage_policy_index = 0;
  return q;
}

void PostReplicate::SetLocalDevices(std::map<std::string, int> devices) {
  absl::MutexLock lock(&mu_);
  local_devices_ = std::move(devices);
}

void PostReplicate::AfterReplicate(DatabaseBroker& broker, const ReplicationInfo& info, const std::string& db_file,
                                   int successes, int attempts) {
  if (broker.type() != DbType::kContainer || info.account == kMisplacedObjectsAccount) return;
  UpdateSyncStore(info, db_file);
  absl::StatusOr<bool> multiple = broker.HasMultiplePolicies();
  if (!multiple.ok()) {
    LOG(WARNING) << db_file << ": reading its policies: " << multiple.status();
    return;
  }
  if (!*multiple) return;  // Nothing can be misplaced (see the header on the point).
  absl::StatusOr<int64_t> point = broker.GetReconcilerSync();
  if (!point.ok()) {
    LOG(WARNING) << db_file << ": reading the reconciler sync point: " << point.status();
    return;
  }
  const int64_t max_sync = DumpToReconciler(broker, info, *point);
  // Swift's majority_size(n): n // 2 + 1.
  const bool success = successes >= attempts / 2 + 1;
  if (max_sync > *point && success) {
    if (absl::Status s = broker.UpdateReconcilerSync(max_sync); !s.ok()) {
      LOG(WARNING) << db_file << ": recording the reconciler sync point: " << s;
    }
  }
}

void PostReplicate::UpdateSyncStore(const ReplicationInfo& info, const std::string& db_file) {
  const absl::optional<std::string> to = MetadataValue(info.metadata, "X-Container-Sync-To");
  const absl::optional<std::string> key = MetadataValue(info.metadata, "X-Container-Sync-Key");
  // Neither ever set (within reclaim_age): nothing to do, for every container.
  if (!to.has_value() && !key.has_value()) return;
  const std::string link = SyncStorePath(db_file);
  if (link.empty()) return;
  const bool want = !IsDeletedInfo(info) && to.has_value() && !to->empty() && key.has_value() && !key->empty();
  if (want) {
    struct stat st;
    if (stat(link.c_str(), &st) == 0) return;
    if (absl::Status made = MakeDirs(Dirname(link)); !made.ok()) {
      LOG(WARNING) << db_file << ": container-sync store: " << made;
      return;
    }
    if (symlink(db_file.c_str(), link.c_str()) != 0 && errno != EEXIST) {
      LOG(WARNING) << db_file << ": container-sync store: symlink " << link << ": " << std::strerror(errno);
    }
    return;
  }
  if (unlink(link.c_str()) == 0) {
    const std::string root = link.substr(0, link.rfind("/sync_containers/") + std::strlen("/sync_containers"));
    RemoveEmptyParents(Dirname(link), root);
  }
}

int64_t PostReplicate::DumpToReconciler(DatabaseBroker& broker, const ReplicationInfo& info, int64_t point) {
  absl::StatusOr<int64_t> max_row = broker.GetMaxRow();
  if (!max_row.ok()) return point;
  absl::StatusOr<std::vector<ObjectRecord>> misplaced = broker.GetMisplacedSince(point, options_.per_diff);
  if (!misplaced.ok()) {
    LOG(WARNING) << "container " << info.account << "/" << info.container
                 << ": reading misplaced objects: " << misplaced.status();
    return point;
  }
  if (misplaced->empty()) return *max_row;
  bool errors = false;
  int64_t low_sync = point;
  while (!misplaced->empty()) {
    std::map<std::string, ItemBatch> batches;
    for (const ObjectRecord& o : *misplaced) {
      const std::string name = ReconcilerContainerName(o.created_at);
      if (name.empty()) {
        errors = true;
        continue;
      }
      batches[name].objects.push_back(ReconcilerQueueRow(o, info.account, info.container));
    }
    for (const auto& [container, rows] : batches) {
      if (absl::Status s = Feed(container, rows); !s.ok()) {
        LOG(ERROR) << "ERROR adding " << rows.size() << " objects of " << info.account << "/" << info.container
                   << " to reconciler container " << container << ": " << s;
        errors = true;
      }
    }
    point = misplaced->back().rowid;
    if (!errors) low_sync = point;
    misplaced = broker.GetMisplacedSince(point, options_.per_diff);
    if (!misplaced.ok()) break;
  }
  return low_sync;
}

absl::Status PostReplicate::Feed(const std::string& container, const ItemBatch& rows) {
  std::shared_ptr<const Ring> ring = ring_->Get();
  const int64_t part = ring->GetPart(options_.hash_config, kMisplacedObjectsAccount, container);
  std::map<std::string, int> local;
  {
    absl::MutexLock lock(&mu_);
    local = local_devices_;
  }
  if (local.empty()) return absl::FailedPreconditionError("no local devices to hold a reconciler container");
  // Swift's find_local_handoff_for_part: a local primary of the partition,
  // else a local device with weight, else any local device.
  std::string device;
  int node_id = -1;
  for (const RingNode& n : ring->GetPartNodes(part)) {
    auto it = local.find(n.device);
    if (it != local.end() && it->second == n.id) {
      device = n.device;
      node_id = n.id;
      break;
    }
  }
  for (const auto& [name, id] : local) {
    if (!device.empty()) break;
    const RingDevice* d = ring->device(id);
    if (d != nullptr && d->weight > 0) {
      device = name;
      node_id = id;
    }
  }
  if (device.empty()) std::tie(device, node_id) = *local.begin();
  const std::string db_file = DbFilePath(options_.devices, device, DbType::kContainer, part,
                                         HashPath(options_.hash_config, kMisplacedObjectsAccount, container));
  absl::MutexLock lock(&feed_mu_);
  absl::StatusOr<std::unique_ptr<DatabaseBroker>> broker = DatabaseBroker::Open(DbType::kContainer, db_file);
  if (absl::IsNotFound(broker.status())) {
    absl::StatusOr<Timestamp> put = Timestamp::Parse(container);
    broker = DatabaseBroker::Create(DbType::kContainer, db_file, kMisplacedObjectsAccount, container,
                                    put.ok() ? put->Internal() : "", 0);
    if (absl::IsAlreadyExists(broker.status())) broker = DatabaseBroker::Open(DbType::kContainer, db_file);
  }
  if (!broker.ok()) return broker.status();
  absl::StatusOr<MergeResult> merged = (*broker)->MergeItems(rows, "");
  if (!merged.ok()) return merged.status();
  absl::MutexLock registry(&mu_);
  reconcilers_[container] = Reconciler{part, db_file, node_id};
  return absl::OkStatus();
}

std::vector<PostReplicate::Reconciler> PostReplicate::TakeReconcilers() {
  absl::MutexLock lock(&mu_);
  std::vector<Reconciler> out;
  for (auto& [name, r] : reconcilers_) out.push_back(std::move(r));
  reconcilers_.clear();
  return out;
}

}  // namespace dbrepl::agent
