#include "common/db/policy_index.h"

#include <algorithm>

#include "common/timestamp.h"

namespace dbrepl {
namespace {

int Cmp(const std::string& a, const std::string& b) { return a < b ? -1 : (b < a ? 1 : 0); }

bool IsDeleted(const PolicyFacts& f) { return f.delete_timestamp > f.put_timestamp && f.object_count == 0; }

// put > delete > Timestamp(0): the second comparison is Swift's Timestamp
// against a value, so it compares the parsed value, not the text.
bool HasBeenRecreated(const PolicyFacts& f) {
  if (!(f.put_timestamp > f.delete_timestamp)) return false;
  absl::StatusOr<Timestamp> d = Timestamp::Parse(f.delete_timestamp);
  return d.ok() && Timestamp::Zero() < *d;
}

}  // namespace

int ComparePolicyInfo(const PolicyFacts& local, const PolicyFacts& remote) {
  const bool deleted = IsDeleted(local);
  const bool remote_deleted = IsDeleted(remote);
  if (deleted || remote_deleted) {
    if (!deleted) return -1;
    if (!remote_deleted) return 1;
    return Cmp(remote.status_changed_at, local.status_changed_at);
  }
  const bool remote_recreated = HasBeenRecreated(remote);
  const bool recreated = HasBeenRecreated(local);
  if (remote_recreated || recreated) {
    if (!recreated) return 1;
    if (!remote_recreated) return -1;
    const std::string& latest_delete = std::max(local.delete_timestamp, remote.delete_timestamp);
    if (local.put_timestamp < latest_delete) return 1;
    if (remote.put_timestamp < latest_delete) return -1;
  }
  return Cmp(local.status_changed_at, remote.status_changed_at);
}

bool IncorrectPolicyIndex(const PolicyFacts& local, const PolicyFacts& remote) {
  if (local.storage_policy_index == remote.storage_policy_index) return false;
  return ComparePolicyInfo(local, remote) > 0;
}

}  // namespace dbrepl
