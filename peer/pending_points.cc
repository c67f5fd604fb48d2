#include "peer/pending_points.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/hash_path.h"
#include "glog/logging.h"

namespace dbrepl::peer {
namespace {

int64_t NowNs() { return absl::ToUnixNanos(absl::Now()); }

}  // namespace

PendingPoints::Key PendingPoints::KeyOf(const std::string& db_file) {
  Md5Digest d = Md5(db_file);
  Key k;
  std::memcpy(&k.first, d.data(), 8);
  std::memcpy(&k.second, d.data() + 8, 8);
  return k;
}

PendingPoints::Id PendingPoints::EncodeId(const std::string& id) {
  Id out;
  if (!ids_.Encode(id, &out.compact)) out.whole = std::make_unique<std::string>(id);
  return out;
}

bool PendingPoints::IdIs(const Id& id, const std::string& s) const {
  if (id.whole != nullptr) return *id.whole == s;
  CompactId c;
  return ids_.Find(s, &c) && c == id.compact;
}

std::string PendingPoints::DecodeId(const Id& id) const {
  return id.whole != nullptr ? *id.whole : ids_.Decode(id.compact);
}

void PendingPoints::EncodePath(const std::string& db_file, Held* h) {
  // "<prefix>/<partition>/<hash[-3:]>/<hash>/<hash>.db", with a partition
  // that prints back the same (no leading zeros) and a lowercase hash.
  auto whole = [&] { h->whole_path = std::make_unique<std::string>(db_file); };
  absl::string_view p(db_file);
  if (!absl::EndsWith(p, ".db") || p.size() < 3 + 32 + 1 + 32 + 1 + 3 + 1) return whole();
  const absl::string_view hash = p.substr(p.size() - 3 - 32, 32);
  absl::string_view dirs = p.substr(0, p.size() - 3 - 32);  // ".../<part>/<suffix>/<hash>/"
  const std::string tail = absl::StrCat("/", hash.substr(29), "/", hash, "/");
  if (!absl::EndsWith(dirs, tail) || !HexToBytes(hash, h->hash.data(), 16)) return whole();
  dirs.remove_suffix(tail.size());  // "<prefix>/<part>"
  const size_t slash = dirs.rfind('/');
  if (slash == absl::string_view::npos || slash == 0) return whole();
  const absl::string_view part = dirs.substr(slash + 1);
  uint32_t partition = 0;
  if (!absl::SimpleAtoi(part, &partition) || absl::StrCat(partition) != part) return whole();
  const absl::string_view prefix = dirs.substr(0, slash);
  auto it = std::find(prefixes_.begin(), prefixes_.end(), prefix);
  if (it == prefixes_.end()) {
    if (prefixes_.size() >= CompactId::kNone) return whole();
    it = prefixes_.insert(prefixes_.end(), std::string(prefix));
  }
  h->prefix = static_cast<uint16_t>(it - prefixes_.begin());
  h->partition = partition;
}

std::string PendingPoints::DecodePath(const Held& h) const {
  if (h.whole_path != nullptr) return *h.whole_path;
  const std::string hash = BytesToHex(h.hash.data(), 16);
  return absl::StrCat(prefixes_[h.prefix], "/", h.partition, "/", hash.substr(29), "/", hash, "/", hash, ".db");
}

void PendingPoints::RaiseIn(Held* h, const std::string& remote_id, int64_t point) {
  for (Point& p : h->points) {
    if (IdIs(p.remote, remote_id)) {
      p.point = std::max(p.point, point);
      return;
    }
  }
  h->points.push_back(Point{EncodeId(remote_id), point});
}

bool PendingPoints::Raise(const std::string& db_file, DbType type, const std::string& db_id,
                          const std::string& remote_id, int64_t point) {
  return RaiseSince(db_file, type, db_id, remote_id, point, NowNs());
}

bool PendingPoints::RaiseSince(const std::string& db_file, DbType type, const std::string& db_id,
                               const std::string& remote_id, int64_t point, int64_t since_ns) {
  const Key key = KeyOf(db_file);
  absl::MutexLock lock(&mu_);
  auto it = held_.find(key);
  if (it == held_.end() || !IdIs(it->second.db_id, db_id)) {
    // New, or another database at the path now.
    if (it == held_.end() && held_.size() >= max_) return false;
    Held h;
    h.db_id = EncodeId(db_id);
    h.type = type;
    h.since_ns = since_ns;
    EncodePath(db_file, &h);
    it = held_.insert_or_assign(key, std::move(h)).first;
  }
  it->second.since_ns = std::min(it->second.since_ns, since_ns);
  RaiseIn(&it->second, remote_id, point);
  return true;
}

int64_t PendingPoints::Get(const std::string& db_file, const std::string& db_id, const std::string& remote_id) const {
  const Key key = KeyOf(db_file);
  absl::MutexLock lock(&mu_);
  auto it = held_.find(key);
  if (it == held_.end() || !IdIs(it->second.db_id, db_id)) return -1;
  for (const Point& p : it->second.points) {
    if (IdIs(p.remote, remote_id)) return p.point;
  }
  return -1;
}

std::map<std::string, int64_t> PendingPoints::GetAll(const std::string& db_file, const std::string& db_id) const {
  const Key key = KeyOf(db_file);
  absl::MutexLock lock(&mu_);
  auto it = held_.find(key);
  if (it == held_.end() || !IdIs(it->second.db_id, db_id)) return {};
  std::map<std::string, int64_t> out;
  for (const Point& p : it->second.points) out[DecodeId(p.remote)] = p.point;
  return out;
}

size_t PendingPoints::size() const {
  absl::MutexLock lock(&mu_);
  return held_.size();
}

int PendingPoints::Flush(
    absl::Duration min_age, int max_databases,
    const std::function<absl::StatusOr<std::unique_ptr<DatabaseBroker>>(const std::string&, DbType)>& open) {
  std::vector<Due> due;
  {
    absl::MutexLock lock(&mu_);
    const int64_t cutoff = NowNs() - absl::ToInt64Nanoseconds(min_age);
    for (auto it = held_.begin(); it != held_.end() && static_cast<int>(due.size()) < max_databases;) {
      const Held& h = it->second;
      if (h.since_ns <= cutoff) {
        Due d{DecodePath(h), h.type, DecodeId(h.db_id), h.since_ns, {}};
        for (const Point& p : h.points) d.points.push_back(SyncRecord{DecodeId(p.remote), p.point, 0});
        due.push_back(std::move(d));
        held_.erase(it++);
      } else {
        ++it;
      }
    }
  }
  int written = 0;
  for (const Due& d : due) {
    absl::Status s = [&]() -> absl::Status {
      absl::StatusOr<std::unique_ptr<DatabaseBroker>> broker = open(d.db_file, d.type);
      if (absl::IsNotFound(broker.status())) return absl::OkStatus();  // Gone: nothing to record.
      if (!broker.ok()) return broker.status();
      absl::StatusOr<ReplicationInfo> info = (*broker)->GetReplicationInfo();
      if (!info.ok()) return info.status();
      if (info->id != d.db_id) return absl::OkStatus();  // Another database now: the points are not its.
      return (*broker)->MergeSyncs(d.points, /*incoming=*/true);
    }();
    if (s.ok()) {
      ++written;
      continue;
    }
    VLOG(1) << d.db_file << ": sync points kept for the next flush: " << s;
    for (const SyncRecord& r : d.points) RaiseSince(d.db_file, d.type, d.db_id, r.remote_id, r.sync_point, d.since_ns);
  }
  return written;
}

}  // namespace dbrepl::peer
