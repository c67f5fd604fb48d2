#include "peer/pending_points.h"

#include <vector>

#include "glog/logging.h"

namespace dbrepl::peer {

bool PendingPoints::Raise(const std::string& db_file, DbType type, const std::string& db_id,
                          const std::string& remote_id, int64_t point) {
  absl::MutexLock lock(&mu_);
  auto it = held_.find(db_file);
  if (it == held_.end()) {
    if (held_.size() >= max_) return false;
    it = held_.emplace(db_file, Held{type, db_id, {}, absl::Now()}).first;
  } else if (it->second.db_id != db_id) {
    it->second = Held{type, db_id, {}, absl::Now()};  // Another database at the path now.
  }
  int64_t& held = it->second.points[remote_id];
  held = std::max(held, point);
  return true;
}

int64_t PendingPoints::Get(const std::string& db_file, const std::string& db_id, const std::string& remote_id) const {
  absl::MutexLock lock(&mu_);
  auto it = held_.find(db_file);
  if (it == held_.end() || it->second.db_id != db_id) return -1;
  auto p = it->second.points.find(remote_id);
  return p == it->second.points.end() ? -1 : p->second;
}

std::map<std::string, int64_t> PendingPoints::GetAll(const std::string& db_file, const std::string& db_id) const {
  absl::MutexLock lock(&mu_);
  auto it = held_.find(db_file);
  if (it == held_.end() || it->second.db_id != db_id) return {};
  return it->second.points;
}

size_t PendingPoints::size() const {
  absl::MutexLock lock(&mu_);
  return held_.size();
}

int PendingPoints::Flush(
    absl::Duration min_age, int max_databases,
    const std::function<absl::StatusOr<std::unique_ptr<DatabaseBroker>>(const std::string&, DbType)>& open) {
  std::vector<std::pair<std::string, Held>> due;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time cutoff = absl::Now() - min_age;
    for (auto it = held_.begin(); it != held_.end() && static_cast<int>(due.size()) < max_databases;) {
      if (it->second.since <= cutoff) {
        due.emplace_back(it->first, std::move(it->second));
        held_.erase(it++);
      } else {
        ++it;
      }
    }
  }
  int written = 0;
  for (auto& [db_file, held] : due) {
    absl::Status s = [&]() -> absl::Status {
      absl::StatusOr<std::unique_ptr<DatabaseBroker>> broker = open(db_file, held.type);
      if (absl::IsNotFound(broker.status())) return absl::OkStatus();  // Gone: nothing to record.
      if (!broker.ok()) return broker.status();
      absl::StatusOr<ReplicationInfo> info = (*broker)->GetReplicationInfo();
      if (!info.ok()) return info.status();
      if (info->id != held.db_id) return absl::OkStatus();  // Another database now: the points are not its.
      std::vector<SyncRecord> records;
      for (const auto& [remote, point] : held.points) records.push_back(SyncRecord{remote, point, 0});
      return (*broker)->MergeSyncs(records, /*incoming=*/true);
    }();
    if (s.ok()) {
      ++written;
      continue;
    }
    VLOG(1) << db_file << ": sync points kept for the next flush: " << s;
    absl::MutexLock lock(&mu_);
    auto [it, inserted] = held_.emplace(db_file, held);
    if (!inserted && it->second.db_id == held.db_id) {
      for (const auto& [remote, point] : held.points) {
        int64_t& p = it->second.points[remote];
        p = std::max(p, point);
      }
    }
  }
  return written;
}

}  // namespace dbrepl::peer
