// Which replica's storage policy index a container keeps when two disagree:
// Swift's incorrect_policy_index() and cmp_policy_info()
// (swift/container/reconciler.py), as a pure function.
//
//   if (IncorrectPolicyIndex(PolicyFacts::Of(local), PolicyFacts::Of(remote))) {
//     broker->SetStoragePolicyIndex(remote.storage_policy_index, Timestamp::Now().Internal());
//   }
//
// Swift's rule, "oldest, unless recreated": a replica that is deleted (its
// delete_timestamp after its put_timestamp, and no objects) loses to one that
// is not; of two deleted, the later status change wins. Otherwise a replica
// recreated after a delete (put > delete > 0) beats one that was not; of two
// recreated, the one put after the latest delete of either wins. Otherwise the
// oldest status change wins. Timestamps compare as text, as Swift compares
// them (its internal form sorts as its value).
//
// Thread-safe (pure).
#ifndef DBREPL_COMMON_DB_POLICY_INDEX_H_
#define DBREPL_COMMON_DB_POLICY_INDEX_H_

#include <cstdint>
#include <string>

#include "common/db/records.h"

namespace dbrepl {

struct PolicyFacts {
  int64_t storage_policy_index = 0;
  std::string put_timestamp;
  std::string delete_timestamp;
  std::string status_changed_at;
  int64_t object_count = 0;  // Swift's info['count'].

  static PolicyFacts Of(const ReplicationInfo& info) {
    return PolicyFacts{info.storage_policy_index, info.put_timestamp, info.delete_timestamp,
                       info.status_changed_at, info.count};
  }
};

// Swift's cmp_policy_info: -1 if `local` is the better, 1 if `remote` is, 0
// if neither.
int ComparePolicyInfo(const PolicyFacts& local, const PolicyFacts& remote);

// Swift's incorrect_policy_index: the indexes differ and `remote` has the
// better claim, so `local` should take the remote index.
bool IncorrectPolicyIndex(const PolicyFacts& local, const PolicyFacts& remote);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_DB_POLICY_INDEX_H_
