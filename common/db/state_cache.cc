#include "common/db/state_cache.h"

#include <sys/stat.h>
#include <time.h>

#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/db/compact_id.h"
#include "common/errors.h"
#include "common/hash_path.h"
#include "common/status_macros.h"

namespace dbrepl {
namespace {

int64_t Ns(const struct timespec& t) { return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec; }

// The identity an entry was read at, as a digest (compared, never read back).
std::array<uint8_t, 16> DigestOf(const DbFileIdentity& id) {
  const int64_t fields[] = {static_cast<int64_t>(id.dev), static_cast<int64_t>(id.ino), id.size, id.mtime_ns,
                            id.ctime_ns, static_cast<int64_t>(id.pending_ino), id.pending_size,
                            id.pending_mtime_ns};
  Md5Digest d = Md5(absl::string_view(reinterpret_cast<const char*>(fields), sizeof(fields)));
  std::array<uint8_t, 16> out;
  std::memcpy(out.data(), d.data(), 16);
  return out;
}

}  // namespace

absl::StatusOr<DbFileIdentity> StatDbFile(const std::string& db_file) {
  DbFileIdentity id;
  struct stat st;
  if (lstat(db_file.c_str(), &st) != 0) {
    if (errno == ENOENT) return DbNotFoundError(absl::StrCat("DB ", db_file, " doesn't exist"));
    return absl::InternalError(absl::StrCat("stat ", db_file, ": ", std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(db_file, " is not a regular file"));
  }
  id.dev = st.st_dev;
  id.ino = st.st_ino;
  id.size = st.st_size;
  id.mtime_ns = Ns(st.st_mtim);
  id.ctime_ns = Ns(st.st_ctim);
  std::string pending = absl::StrCat(db_file, ".pending");
  if (stat(pending.c_str(), &st) == 0) {
    id.pending_ino = st.st_ino;
    id.pending_size = st.st_size;
    id.pending_mtime_ns = std::max(Ns(st.st_mtim), Ns(st.st_ctim));
  } else if (errno != ENOENT) {
    return absl::InternalError(absl::StrCat("stat ", pending, ": ", std::strerror(errno)));
  }
  return id;
}

std::array<uint8_t, 16> StateDigest(const ReplicationInfo& info) {
  std::string text = absl::StrCat(info.created_at, std::string(1, '\0'), info.put_timestamp, std::string(1, '\0'),
                                  info.delete_timestamp, std::string(1, '\0'), info.metadata);
  // A container's policy index, when not 0: replicas that disagree on it
  // are not in sync (Sync settles whose index wins).
  if (info.storage_policy_index != 0) absl::StrAppend(&text, std::string(1, '\0'), info.storage_policy_index);
  return Md5(text);
}

namespace {

// The metadata names a container-sync key. May say yes wrongly (the text in
// a value), never no: a yes only makes the replicator look.
bool NamesContainerSync(const std::string& metadata) {
  return absl::StrContains(metadata, "\"X-Container-Sync-To\"") ||
         absl::StrContains(metadata, "\"X-Container-Sync-Key\"");
}

}  // namespace

uint64_t SyncPointKey(const std::string& remote_id, bool incoming) {
  Md5Digest d = Md5(remote_id);
  uint64_t v;
  std::memcpy(&v, d.data(), sizeof(v));
  v &= ~(uint64_t{1} << 63);
  return incoming ? (v | (uint64_t{1} << 63)) : v;
}

int64_t CachedState::Point(const std::string& remote_id, bool incoming) const {
  const uint64_t key = SyncPointKey(remote_id, incoming);
  for (const auto& [k, point] : points) {
    if (k == key) return point;
  }
  return -1;
}

int64_t StateCache::CoarseNowNs() {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME_COARSE, &t);
  return Ns(t);
}

StateCache::Key StateCache::KeyOf(const std::string& db_file) {
  Md5Digest d = Md5(db_file);
  Key k;
  std::memcpy(&k.first, d.data(), 8);
  std::memcpy(&k.second, d.data() + 8, 8);
  return k;
}

absl::optional<CachedState> StateCache::Get(const std::string& db_file, const DbFileIdentity& identity) {
  const Key key = KeyOf(db_file);
  const std::array<uint8_t, 16> identity_digest = DigestOf(identity);
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.identity != identity_digest) return absl::nullopt;
  const Entry& e = it->second;
  CachedState s;
  s.hash = BytesToHex(e.hash.data(), 16);
  if (e.id.encoded()) {
    s.id = ids_.Decode(e.id);
  } else if (e.overflow != nullptr) {
    s.id = e.overflow->id;
  }
  s.max_row = e.max_row;
  s.state_digest = e.state_digest;
  s.reclaim.oldest = e.reclaim_oldest;
  s.reclaim.oldest_sync = e.reclaim_oldest_sync;
  s.reclaim.now = (e.flags & StateCache::kReclaimNow) != 0;
  s.tag = e.tag;
  s.multiple_policies = (e.flags & StateCache::kMultiplePolicies) != 0;
  s.container_sync = (e.flags & StateCache::kContainerSync) != 0;
  s.points.assign(e.points, e.points + e.n_points);
  if (e.overflow != nullptr) s.points.insert(s.points.end(), e.overflow->points.begin(), e.overflow->points.end());
  return s;
}

bool StateCache::Fill(const CachedState& state, Entry* e) const {
  if (state.hash.size() != 32 || !HexToBytes(state.hash, e->hash.data(), 16)) return false;  // Read each time.
  e->state_digest = state.state_digest;
  e->max_row = state.max_row;
  e->reclaim_oldest = state.reclaim.oldest;
  e->reclaim_oldest_sync = state.reclaim.oldest_sync;
  e->tag = state.tag;
  e->flags = (state.multiple_policies ? StateCache::kMultiplePolicies : 0) |
             (state.container_sync ? StateCache::kContainerSync : 0) |
             (state.reclaim.now ? StateCache::kReclaimNow : 0);
  const std::vector<std::pair<uint64_t, int64_t>>& points = state.points;
  size_t inline_n = std::min<size_t>(points.size(), StateCache::kInlinePoints);
  for (size_t i = 0; i < inline_n; ++i) e->points[i] = points[i];
  e->n_points = static_cast<uint8_t>(inline_n);
  if (points.size() > inline_n) {
    e->overflow = std::make_unique<Entry::Overflow>();
    e->overflow->points.assign(points.begin() + inline_n, points.end());
  }
  return true;
}

void StateCache::Insert(const std::string& db_file, Entry e, const std::string& id) {
  const Key key = KeyOf(db_file);
  absl::MutexLock lock(&mu_);
  if (!ids_.Encode(id, &e.id)) {  // Not Swift's form: kept whole.
    if (e.overflow == nullptr) e.overflow = std::make_unique<Entry::Overflow>();
    e.overflow->id = id;
  }
  if (entries_.size() >= max_entries_ && entries_.find(key) == entries_.end()) {
    entries_.erase(entries_.begin());  // Any one: it is re-read when next needed.
  }
  entries_[key] = std::move(e);
}

CachedState CachedStateOf(const ReplicationState& state, uint32_t tag) {
  CachedState s;
  s.hash = state.info.hash;
  s.id = state.info.id;
  s.max_row = state.info.max_row;
  s.state_digest = StateDigest(state.info);
  s.reclaim = state.reclaim;
  s.tag = tag;
  s.sharding = ShardingInPlay(state.info);
  s.multiple_policies = state.multiple_policies;
  s.container_sync = NamesContainerSync(state.info.metadata);
  for (const SyncRecord& r : state.incoming) s.points.emplace_back(SyncPointKey(r.remote_id, true), r.sync_point);
  for (const SyncRecord& r : state.outgoing) s.points.emplace_back(SyncPointKey(r.remote_id, false), r.sync_point);
  return s;
}

namespace {

// Racily clean: a file modified in the tick of the first stat (or later)
// could be modified again without its mtime changing.
bool ModifiedSince(const DbFileIdentity& identity, int64_t coarse_ns) {
  return identity.mtime_ns >= coarse_ns || identity.ctime_ns >= coarse_ns ||
         (identity.pending_ino != 0 && identity.pending_mtime_ns >= coarse_ns);
}

}  // namespace

bool StateCache::Put(const std::string& db_file, const DbFileIdentity& identity, int64_t coarse_before_ns,
                     const ReplicationState& state, uint32_t tag) {
  if (ModifiedSince(identity, coarse_before_ns)) return false;
  return Store(db_file, identity, CachedStateOf(state, tag));
}

bool StateCache::Store(const std::string& db_file, const DbFileIdentity& identity, const CachedState& state) {
  if (state.sharding) return false;  // Re-read each time (rare).
  Entry e;
  e.identity = DigestOf(identity);
  if (!Fill(state, &e)) return false;
  Insert(db_file, std::move(e), state.id);
  return true;
}

void StateCache::Erase(const std::string& db_file) {
  const Key key = KeyOf(db_file);
  absl::MutexLock lock(&mu_);
  entries_.erase(key);
}

size_t StateCache::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

absl::StatusOr<StateCache::Result> StateCache::Lookup(const std::string& db_file) {
  Result result;
  ASSIGN_OR_RETURN(result.identity, StatDbFile(db_file));
  if (absl::optional<CachedState> cached = Get(db_file, result.identity); cached.has_value()) {
    result.state = *std::move(cached);
    result.from_cache = true;
    result.cacheable = true;
  }
  return result;
}

absl::StatusOr<StateCache::Result> StateCache::Read(DbType type, const std::string& db_file,
                                                    const BrokerOptions& options,
                                                    const std::function<absl::Status(DatabaseBroker&)>& before_read,
                                                    const std::function<uint32_t(const ReplicationInfo&)>& tag) {
  int64_t coarse = CoarseNowNs();
  ASSIGN_OR_RETURN(Result result, Lookup(db_file));
  if (result.from_cache) return result;
  sqlite_reads_.fetch_add(1, std::memory_order_relaxed);
  ASSIGN_OR_RETURN(result.broker, DatabaseBroker::Open(type, db_file, options));
  DbFileIdentity first = result.identity;
  if (before_read) {
    RETURN_IF_ERROR(before_read(*result.broker));
    // The stat that counts is the one after whatever before_read wrote.
    coarse = CoarseNowNs();
    ASSIGN_OR_RETURN(first, StatDbFile(db_file));
  }
  ASSIGN_OR_RETURN(ReplicationState state, result.broker->GetReplicationState());
  ASSIGN_OR_RETURN(DbFileIdentity after, StatDbFile(db_file));
  const uint32_t t = tag ? tag(state.info) : 0;
  if (first == after && !result.broker->HasMoved()) result.cacheable = Put(db_file, after, coarse, state, t);
  result.identity = after;
  result.state = CachedStateOf(state, t);
  return result;
}

absl::StatusOr<StateCache::Refreshed> StateCache::Refresh(
    const std::string& db_file, DatabaseBroker& broker, const std::function<uint32_t(const ReplicationInfo&)>& tag) {
  const int64_t coarse = CoarseNowNs();
  ASSIGN_OR_RETURN(DbFileIdentity first, StatDbFile(db_file));
  if (ModifiedSince(first, coarse)) return Refreshed::kTooEarly;
  ASSIGN_OR_RETURN(ReplicationState state, broker.GetReplicationState());
  ASSIGN_OR_RETURN(DbFileIdentity after, StatDbFile(db_file));
  if (first != after || broker.HasMoved()) return Refreshed::kNotStored;
  return Put(db_file, after, coarse, state, tag ? tag(state.info) : 0) ? Refreshed::kStored : Refreshed::kNotStored;
}

}  // namespace dbrepl
